// inject makes bytes arrive on a device
LoopbackB.on('data', function (d) { print('got', JSON.stringify(d)); });
LoopbackB.inject('xyz');
print('injected');
