// Array.isArray, instanceof, conversions of typed arrays
var u = new Uint8Array([1, 2]);
print(Array.isArray(u), u instanceof Uint8Array, typeof u, String(u), u + '', Object.keys(u).join(','));
print(new Uint8Array(new Uint8Array([7, 8])).join(','), new Uint16Array(new Uint8Array([1, 255])).join(','), new Uint8Array([1, 2]).toString());
