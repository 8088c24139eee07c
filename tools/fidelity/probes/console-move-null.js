// E.setConsole(null) silences the console; undefined and unknown names
print('a');
E.setConsole(null);
print('silent');
var g = E.getConsole();
E.setConsole(USB);
print('got', g);
function t(f) { try { f(); return 'ok'; } catch (e) { return 'throws ' + e.message; } }
print(t(function () { E.setConsole('Nope'); }));
print(t(function () { E.setConsole(); }), E.getConsole());
