// uncaught exceptions of several kinds from timers
setTimeout(function () { throw 'a string'; }, 50);
setTimeout(function () { throw 42; }, 100);
setTimeout(function () { throw { code: 1 }; }, 150);
setTimeout(function () { throw new TypeError('typed'); }, 200);
setTimeout(function () { throw new Error('plain'); }, 250);
