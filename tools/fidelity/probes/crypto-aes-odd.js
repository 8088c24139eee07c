// AES with input that is not a multiple of 16 bytes
var c = require('crypto');
var key = '0123456789abcdef';
function t(f) { try { return 'ok ' + new Uint8Array(f()).length; } catch (e) { return 'throws'; } }
print(t(function () { return c.AES.encrypt('short', key, { mode: 'CBC' }); }), t(function () { return c.AES.encrypt('0123456789abcdef0', key, { mode: 'CBC' }); }), t(function () { return c.AES.encrypt('abc', 'shortkey'); }));
