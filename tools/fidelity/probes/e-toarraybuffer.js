// E.toArrayBuffer
var b = E.toArrayBuffer('abc');
print(b instanceof ArrayBuffer, b.byteLength, new Uint8Array(b).join(','));
