// output from a timer after the top level finished (the prompt is redrawn around it)
print('top');
setTimeout(function () { print('t1'); }, 50);
setTimeout(function () { print('t2a'); print('t2b'); }, 100);
setTimeout(function () { }, 150);
