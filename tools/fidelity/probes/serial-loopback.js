// LoopbackA <-> LoopbackB carry bytes (delivered later, as strings)
var got = [];
LoopbackB.on('data', function (d) { got.push(d); });
LoopbackA.write('hello');
LoopbackA.write([1, 2, 255]);
LoopbackA.print('p\n');
setTimeout(function () { print(JSON.stringify(got.join(''))); }, 50);
