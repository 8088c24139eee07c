// the firmware's binding: bytes as a binary string through E.toUint8Array / E.toString
var F = require('Flash'), base = 0x10038000;
F.erasePage(base);
var rec = '\x00\x01\x7f\x80\xfe\xff' + 'PSD record';
F.write(E.toUint8Array(rec + '\xff\xff'), base + 8);
var back = E.toString(F.read(rec.length, base + 8));
print(back === rec, back.length, E.CRC32(back), E.CRC32(F.read(rec.length, base + 8)));
print(JSON.stringify(E.toString(F.read(8, base))));
