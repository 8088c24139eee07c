// writing a file in chunks the way the flasher writes .bootcde
var S = require('Storage');
var data = ''; for (var i = 0; i < 600; i++) data += String.fromCharCode(32 + (i % 90));
S.write('img', data.substr(0, 256), 0, data.length);
S.write('img', data.substr(256, 256), 256);
S.write('img', data.substr(512), 512);
var r = S.read('img');
print(r.length, r === data, E.CRC32(r));
function t(f) { try { return 'ok ' + f(); } catch (e) { return 'throws ' + e.message; } }
print(t(function () { return S.write('img', 'x', 10); }), t(function () { return S.write('nofile', 'x', 10); }), t(function () { return S.write('empty', ''); }));
