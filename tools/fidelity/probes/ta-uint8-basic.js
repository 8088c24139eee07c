// Uint8Array construction, wrap on write, length
var u = new Uint8Array(4);
u[0] = 256; u[1] = -1; u[2] = 3.7; u[3] = 'x';
print(u[0], u[1], u[2], u[3], u.length, u.byteLength, u.byteOffset);
var v = new Uint8Array([1, 2, 300, -2]);
print(v.join(','), new Uint8Array(0).length, new Uint8Array(2.7).length, new Uint8Array(true).length);
function t(f) { try { return 'ok ' + f().length; } catch (e) { return 'throws ' + e.message; } }
print(t(function () { return new Uint8Array('3'); }), t(function () { return new Uint8Array(); }), t(function () { return new Uint8Array({ length: 2 }); }));
