// AES-OFB and an unknown mode
var c = require('crypto');
var r = c.AES.encrypt('0123456789abcdef', '0123456789abcdef', { mode: 'OFB' });
print(typeof r);
try { c.AES.encrypt('0123456789abcdef', '0123456789abcdef', { mode: 'XYZ' }); } catch (e) { print('throws', e.message); }
