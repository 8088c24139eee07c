// process.on('uncaughtException')
process.on('uncaughtException', function (e) { print('handler got', e.message); });
setTimeout(function () { throw new Error('handled'); }, 50);
setTimeout(function () { print('after'); }, 100);
