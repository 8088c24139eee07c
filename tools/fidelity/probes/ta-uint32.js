// Uint32Array / Int32Array / Uint16Array wrap
var u = new Uint32Array([4294967295, 4294967296, -1, 1.5]);
print(u[0], u[1], u[2], u[3]);
var i = new Int32Array([2147483648, -2147483649, 4294967295]);
print(i[0], i[1], i[2]);
var s = new Uint16Array([65536, -1, 70000]);
print(s[0], s[1], s[2], new Int8Array([128, 255, -129]).join(','), new Int16Array([32768]).join(','));
