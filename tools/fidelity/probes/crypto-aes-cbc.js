// native AES-CBC without padding, as the firmware uses it
var c = require('crypto');
function hex(b) { var u = new Uint8Array(b), s = ''; for (var i = 0; i < u.length; i++) s += (u[i] < 16 ? '0' : '') + u[i].toString(16); return s; }
var key = E.toString([0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c]);
var iv = E.toString([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
var msg = E.toString([0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a]);
var enc = c.AES.encrypt(msg, key, { iv: iv, mode: 'CBC' });
print(hex(enc));
print(hex(c.AES.decrypt(enc, key, { iv: iv, mode: 'CBC' })) === hex(E.toUint8Array(msg)));
print(hex(c.AES.encrypt(msg, key, { mode: 'ECB' })));
