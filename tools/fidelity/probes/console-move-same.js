// setConsole on the device that already is the console
USB.setConsole();
print('x');
USB.setConsole(true);
print('y');
