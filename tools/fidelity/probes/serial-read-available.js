// bytes arriving without a data listener are kept for read()
LoopbackA.write('abcdef');
setTimeout(function () {
  print(LoopbackB.available(), JSON.stringify(LoopbackB.read(2)), LoopbackB.available(), JSON.stringify(LoopbackB.read()), LoopbackB.available());
}, 50);
