// property order with integer-like keys
var o = {}; o.z = 1; o['10'] = 2; o['2'] = 3; o.a = 4; o['-1'] = 5;
print(Object.keys(o).join(','));
var k = []; for (var p in o) k.push(p);
print(k.join(','));
