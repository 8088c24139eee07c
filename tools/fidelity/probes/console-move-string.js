// E.setConsole with a device name, and getConsole
print(E.getConsole());
E.setConsole('LoopbackA');
var c = E.getConsole();
E.setConsole('USB');
print('was', c, 'now', E.getConsole());
