// print of a Date, a Promise and an object made by a constructor
function Rec(a) { this.a = a; }
var r = new Rec(1);
global.Rec = Rec;
print(new Date(86400000));
print(r);
print([new Date(0)]);
