// erasePage takes any address in the page
var F = require('Flash'), A = 0x10038800;
F.write([1, 2, 3, 4], A); F.write([5, 6, 7, 8], A + 1024);
F.erasePage(A + 5);
print(F.read(4, A).join(','), F.read(4, A + 1024).join(','));
function t(f) { try { f(); return 'ok'; } catch (e) { return 'throws ' + e.message; } }
print(t(function () { F.erasePage({ addr: A + 1024 }); }), F.read(4, A + 1024).join(','));
print(t(function () { F.erasePage(String(A + 1024)); }), F.read(4, A + 1024).join(','));
