// large magnitudes computed at run time
var a = [1e15, 1e16, 1e17, 1e20, 1e21, 1e22, 1e100, -1e21, Math.pow(2, 53), Math.pow(2, 64), 1e10 * 1e10];
for (var i = 0; i < a.length; i++) print(i, String(a[i]));
