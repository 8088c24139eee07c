// ES5 getters and setters in object literals and Object.defineProperty
var o = { _v: 1, get v() { return this._v * 10; }, set v(x) { this._v = x; } };
o.v = 4;
print(o.v, o._v, JSON.stringify(Object.keys(o)));
var p = {};
Object.defineProperty(p, 'x', { get: function () { return 42; }, enumerable: false });
Object.defineProperty(p, 'y', { value: 5, writable: true, enumerable: true });
p.y = 6;
print(p.x, p.y, JSON.stringify(Object.keys(p)), JSON.stringify(p));
