// timers fire in time order, then the interpreter exits
var log = [];
setTimeout(function () { log.push('c 30'); print(log.join(', ')); }, 300);
setTimeout(function () { log.push('a 10'); }, 100);
setTimeout(function () { log.push('b 20'); }, 200);
setTimeout(function () { log.push('z 0'); }, 0);
print('top');
