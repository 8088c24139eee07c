// Storage with binary data and readArrayBuffer
var S = require('Storage');
var b = ''; for (var i = 0; i < 256; i++) b += String.fromCharCode(i);
S.write('bin', b);
var r = S.read('bin');
print(r.length, r === b, r.charCodeAt(255));
var ab = S.readArrayBuffer('bin');
print(ab instanceof ArrayBuffer, ab.byteLength, new Uint8Array(ab)[200]);
S.write('u8', new Uint8Array([1, 2, 3]));
print(JSON.stringify(S.read('u8')));
