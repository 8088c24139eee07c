// timer ids and changeInterval
var a = setTimeout(function () {}, 10), b = setTimeout(function () {}, 10);
print(typeof a, b > a);
clearTimeout(a); clearTimeout(b);
var n = 0;
var i = setInterval(function () { n++; if (n == 2) { clearInterval(i); print('ticks', n); } }, 1000);
changeInterval(i, 10);
