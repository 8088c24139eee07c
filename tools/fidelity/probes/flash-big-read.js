// a whole page read and a CRC over it
var F = require('Flash'), A = 0x1003c000;
F.erasePage(A);
var d = new Uint8Array(256);
for (var i = 0; i < 256; i++) d[i] = i;
F.write(d, A);
var r = F.read(1024, A);
print(r.length, r[0], r[255], r[256], E.CRC32(r), E.CRC32(E.toString(F.read(256, A))));
