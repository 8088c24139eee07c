// eval scope and new Function
var x = 1;
function g() { var x = 2; return eval('x'); }
print(g(), eval('x + 1'), typeof Function, new Function('a', 'b', 'return a * b')(6, 7));
