// Storage file names
var S = require('Storage');
function t(f) { try { return 'ok ' + f(); } catch (e) { return 'throws'; } }
print(t(function () { return S.write('12345678901234567890123456789', 'x'); }), t(function () { return S.write('', 'x'); }), t(function () { return S.write('abcdefghijklmnopqrstuvwxyz1', 'x'); }));
print(JSON.stringify(S.list()));
print(JSON.stringify(S.list(/^abc/)));
