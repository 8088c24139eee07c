// moving the console from a timer
setTimeout(function () { print('t'); LoopbackA.setConsole(); }, 50);
setTimeout(function () { print('hidden'); }, 100);
