// function declarations, closures, arguments, this, call/apply/bind
function counter() { var n = 0; return function () { return ++n; }; }
var c = counter(); c(); c();
print(c());
function args() { return arguments.length + ':' + [].slice.call(arguments, 1).join('|'); }
print(args(1, 2, 3));
var obj = { v: 7, get: function () { return this.v; } };
print(obj.get(), obj.get.call({ v: 8 }), obj.get.apply({ v: 9 }, []), obj.get.bind({ v: 10 })());
function Ctor(a) { this.a = a; }
Ctor.prototype.twice = function () { return this.a * 2; };
var inst = new Ctor(21);
print(inst.twice(), inst instanceof Ctor, inst.constructor === Ctor, Object.getPrototypeOf(inst) === Ctor.prototype);
var f = function named(n) { return n <= 1 ? 1 : n * named(n - 1); };
print(f(10), (function () { return typeof this; })());
print((function (a, b) { return a; }).length);
