// writes only clear bits: stored = old AND new
var F = require('Flash'), A = 0x10038000;
F.write([0xF0, 0x0F, 0xFF, 0x00], A);
F.write([0x3C, 0xFF, 0x00, 0xFF], A);
print(F.read(4, A).join(','));
F.write('abcd', A + 4);
F.write(new Uint8Array([1, 2, 3, 4]), A + 8);
print(F.read(12, A).join(','));
