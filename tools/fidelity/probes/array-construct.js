// Array construction and length (an array's length is read-only on Espruino 2v29)
print(new Array(3).length, JSON.stringify(new Array(3)), new Array(2, 3).join(','), Array(4).join('x'), [].length);
var a = []; a[5] = 1;
print(a.length, JSON.stringify(a));
try { a.length = 2; print('length set', a.length); } catch (e) { print('length is read-only:', e.message, e instanceof TypeError); }
print(a.length, Array.isArray([]), Array.isArray({}), typeof Array.from, typeof Array.of);
var b = [1, 2, 3]; b.splice(1);
print(b.length, JSON.stringify(b));
