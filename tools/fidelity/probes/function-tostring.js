// functions to text
function f(a, b) { return a + b; }
print(f.toString());
print(String(function () {}));
print(String(function (x) {
  var y = x + 1;
  return y;
}));
print(f.length);
