// non-integer numbers joined into strings by + (an engine-internal conversion)
var a = [0.1 + 0.2, 1 / 3, 123.456, 1e-7];
for (var i = 0; i < a.length; i++) print(i, 'v=' + a[i]);
