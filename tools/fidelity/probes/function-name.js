// a function's own name property
function f(a, b) { return a + b; }
print(typeof f.name, typeof (function () {}).name);
