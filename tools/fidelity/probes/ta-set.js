// set from arrays and typed arrays, with offsets
var u = new Uint8Array(6);
u.set([1, 2, 3]);
u.set(new Uint8Array([9, 8]), 4);
print(u.join(','));
function t(f) { try { f(); return 'ok'; } catch (e) { return 'throws'; } }
print(t(function () { u.set([1, 2, 3], 5); }), u.join(','));
u.set([300, -1], 0);
print(u.join(','));
