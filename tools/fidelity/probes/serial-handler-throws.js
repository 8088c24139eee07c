// a data handler that throws keeps being called
var n = 0;
LoopbackB.on('data', function (d) { n++; throw new Error('in handler ' + d); });
LoopbackA.write('a');
setTimeout(function () { LoopbackA.write('b'); }, 100);
setTimeout(function () { print('calls', n, JSON.stringify(E.getErrorFlags())); }, 200);
