// ArrayBuffer on its own
var b = new ArrayBuffer(5);
print(b.byteLength, typeof b.slice, new Uint8Array(b).join(','));
function t(f) { try { return 'ok ' + f(); } catch (e) { return 'throws'; } }
print(t(function () { return new ArrayBuffer(-1).byteLength; }), t(function () { return new Uint8Array(-1).length; }));
