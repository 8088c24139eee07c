// a fresh flash reads 0xFF
var F = require('Flash');
var r = F.read(8, 0x10038000);
print(r instanceof Uint8Array, r.length, r.join(','));
print(F.read(0, 0x10038000), F.read(-1, 0x10038000));
