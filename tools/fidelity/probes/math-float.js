// Math on non-integers (printed through toFixed to stay away from number formatting)
var f = [Math.PI, Math.E, Math.sin(1), Math.cos(1), Math.tan(1), Math.atan2(1, 2), Math.log(10), Math.exp(2), Math.sqrt(2), Math.asin(0.5), Math.acos(0.5), Math.atan(1), Math.LN2, Math.LN10, Math.LOG2E, Math.LOG10E, Math.SQRT2, Math.SQRT1_2];
var r = [];
for (var i = 0; i < f.length; i++) r.push(f[i].toFixed(6));
print(r.join(' '));
