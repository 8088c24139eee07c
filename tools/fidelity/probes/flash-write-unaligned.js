// unaligned writes (read-modify-write inside the interpreter)
var F = require('Flash'), A = 0x10038400;
function t(f) { try { f(); return 'ok'; } catch (e) { return 'throws ' + e.message; } }
print(t(function () { F.write('abc', A); }), t(function () { F.write('xy', A + 5); }), t(function () { F.write([0], A + 11); }));
print(F.read(12, A).join(','));
