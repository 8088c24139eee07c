// ES5 statements the firmware is made of
var out = [];
var i, s = 0;
for (i = 0; i < 5; i++) { if (i == 3) continue; s += i; }
out.push(s);
i = 0; do { i++; } while (i < 4); out.push(i);
while (true) { i++; if (i > 6) break; } out.push(i);
switch (3) { case 1: out.push('one'); break; case 3: out.push('three'); case 4: out.push('fall'); break; default: out.push('def'); }
switch ('x') { case 'y': out.push('y'); break; default: out.push('d2'); }
var o = { a: 1, b: 2 }, ks = [];
for (var k in o) ks.push(k);
out.push(ks.join('+'));
out.push(typeof undeclaredThing, 'a' in o, 'z' in o, delete o.a, 'a' in o);
out.push((1, 2, 3), void 0, !!'', !!'0', 5 > 3 ? 'y' : 'n');
var x = 5; x += 2; x -= 1; x *= 3; x /= 2; x %= 5; out.push(x);
var y = 6; y <<= 2; y >>= 1; y >>>= 1; y &= 7; y |= 8; y ^= 1; out.push(y);
out.push(typeof null, typeof [], typeof function () {}, typeof 1, typeof 'a', typeof true, typeof undefined);
print(out.join(','));
