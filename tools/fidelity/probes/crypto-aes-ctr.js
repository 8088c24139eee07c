// AES-CTR and CFB: which use the iv
var c = require('crypto');
function hex(b) { var u = new Uint8Array(b), s = ''; for (var i = 0; i < u.length; i++) s += (u[i] < 16 ? '0' : '') + u[i].toString(16); return s; }
var key = '0123456789abcdef', msg = 'The message of 28 characters';
print(hex(c.AES.encrypt(msg, key, { mode: 'CTR' })));
print(hex(c.AES.encrypt(msg, key, { mode: 'CTR', iv: 'ivivivivivivivIV' })));
print(hex(c.AES.encrypt(msg, key, { mode: 'CFB', iv: 'ivivivivivivivIV' })));
print(hex(c.AES.decrypt(c.AES.encrypt(msg, key, { mode: 'CFB', iv: 'ivivivivivivivIV' }), key, { mode: 'CFB', iv: 'ivivivivivivivIV' })) === hex(E.toArrayBuffer(msg)));
