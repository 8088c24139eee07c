// native SHA256 / SHA512 (hex of the result)
var c = require('crypto');
function hex(b) { var u = new Uint8Array(b), s = ''; for (var i = 0; i < u.length; i++) s += (u[i] < 16 ? '0' : '') + u[i].toString(16); return s; }
print(hex(c.SHA256('abc')));
print(hex(c.SHA256('')));
print(hex(c.SHA512('abc')).slice(0, 64));
print(c.SHA256('abc') instanceof ArrayBuffer, hex(c.SHA256(new Uint8Array([1, 2, 3]))).slice(0, 16), hex(c.SHA256([1, 2, 3])).slice(0, 16));
print(typeof c.SHA1, typeof c.SHA224, typeof c.SHA384, typeof c.PBKDF2, typeof c.AES);
