// fill, map, indexOf, join, reverse, sort, forEach, reduce, filter
var u = new Uint8Array(5);
u.fill(7); print(u.join(','));
u.fill(1, 1, 3); print(u.join(','));
var m = u.map(function (x) { return x * 100; });
print(m.join(','), m instanceof Uint8Array, u.indexOf(1), u.indexOf(9), u.includes(7));
var w = new Uint8Array([3, 1, 2]);
print(w.reverse().join(','), new Uint8Array([3, 10, 2]).sort().join(','), w.reduce(function (a, b) { return a + b; }, 0));
print(new Uint8Array([1, 2, 3, 4]).filter(function (x) { return x % 2; }).join(','), new Uint8Array([5, 6]).slice(1).join('|'));
var s = 0; new Uint16Array([300, 400]).forEach(function (x) { s += x; }); print(s);
