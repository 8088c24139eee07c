// DataView getters and setters, both byte orders
var b = new ArrayBuffer(16), d = new DataView(b);
d.setUint32(0, 0xdeadbeef); d.setUint32(4, 0xdeadbeef, true); d.setInt16(8, -2); d.setUint8(10, 255); d.setFloat32(12, 1.5);
print(new Uint8Array(b).join(','));
print(d.getUint32(0), d.getUint32(4, true), d.getInt16(8), d.getUint16(8), d.getInt8(10), d.getUint8(10), d.getFloat32(12), d.byteLength);
var d2 = new DataView(b, 4, 4);
print(d2.getUint32(0, true), d2.byteOffset, d2.byteLength);
