// non-integer numbers to strings
var a = [0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 123.456, 0.5, 2.5, -1.25, 3.14159, 12345678.9, 1e-7, 0.000001, 1.5e-10, 5e-324, 1.7976931348623157e308];
for (var i = 0; i < a.length; i++) print(i, String(a[i]));
