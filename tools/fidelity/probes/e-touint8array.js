// E.toUint8Array of mixed input
var u = E.toUint8Array('ab', 67, [68, 300], new Uint8Array([70]), { data: 'G', count: 2 });
print(u instanceof Uint8Array, u.length, u.join(','));
print(E.toUint8Array().length, E.toUint8Array('').length, E.toUint8Array([]).length, E.toUint8Array(new ArrayBuffer(3)).join(','));
var s = ''; for (var i = 0; i < 256; i++) s += String.fromCharCode(i);
var all = E.toUint8Array(s);
print(all.length, all[0], all[128], all[255]);
