// toFixed
var a = [0, 1, 1.5, 2.5, 1.005, 123.456, -1.5, 0.000001, 1e21, 99.995, 10, -0.5];
for (var i = 0; i < a.length; i++) print(a[i], a[i].toFixed(0), a[i].toFixed(2), a[i].toFixed(5));
