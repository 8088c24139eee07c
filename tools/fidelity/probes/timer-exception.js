// an exception in a callback does not stop other timers
setTimeout(function () { throw new Error('in timer'); }, 50);
setTimeout(function () { print('still running'); }, 150);
