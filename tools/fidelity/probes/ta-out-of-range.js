// reading and writing past the end of a typed array
var u = new Uint8Array(2);
u[5] = 9;
print(u.length, String(u[5]), u.join(','));
