// a name used where no var of it has run yet: Espruino 2v29 creates a local only when it
// reaches its var, so the name is the enclosing scope's there (the build's profile check
// forbids it in an image: rule hoisting; terser wrote both patterns before it did)
var i = 'outer';
function a() { i = 'inner'; return i; var i; }
var k = 'outer';
function b(c) { if (c) { var k = 'inner'; } return k; }
var s = 'outer';
function d(t) { switch (t) { case 1: var s = 'one'; break; case 2: s = 'two'; } return s; }
a();
var fromB = b(false);
d(2);
print(i, fromB, s);
