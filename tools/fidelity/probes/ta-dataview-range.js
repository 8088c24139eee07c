// DataView reads past the end
var d = new DataView(new ArrayBuffer(4));
function t(f) { try { return 'ok ' + f(); } catch (e) { return 'throws'; } }
print(t(function () { return d.getUint32(2); }), t(function () { return d.getUint8(4); }), t(function () { d.setUint16(3, 1); return 'set'; }));
