// Array methods the firmware uses
var a = [5, 1, 4, 2, 3];
print(a.slice(1, 3).join(','), a.indexOf(4), a.indexOf(9), a.concat([6], 7).join(','), a.join('-'), a.includes(2));
print(a.map(function (x) { return x * 2; }).join(','), a.filter(function (x) { return x > 2; }).join(','), a.reduce(function (s, x) { return s + x; }, 0));
print(a.some(function (x) { return x > 4; }), a.every(function (x) { return x > 0; }), a.find(function (x) { return x > 3; }), a.findIndex(function (x) { return x > 3; }));
var b = a.slice(); b.sort(); print(b.join(','));
b.sort(function (x, y) { return y - x; }); print(b.join(','));
var c = [1, 2, 3, 4]; var r = c.splice(1, 2, 'x'); print(c.join(','), r.join(','));
c.push(9); c.unshift(0); print(c.join(','), c.pop(), c.shift(), c.join(','), c.reverse().join(','));
