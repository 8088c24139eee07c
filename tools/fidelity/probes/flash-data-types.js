// what Flash.write takes
var F = require('Flash'), A = 0x10039000;
function t(f) { try { f(); return 'ok'; } catch (e) { return 'throws ' + e.message; } }
print(t(function () { F.write(undefined, A); }), t(function () { F.write('', A); }), t(function () { F.write([], A); }));
print(t(function () { F.write(new ArrayBuffer(4), A); }), t(function () { F.write({ data: [0x11], count: 4 }, A + 4); }), F.read(8, A).join(','));
