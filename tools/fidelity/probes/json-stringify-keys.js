// key order and odd keys
var o = {}; o.b = 1; o.a = 2; o['1'] = 3; o['x y'] = 4; o['"q'] = 5; o[''] = 6;
print(JSON.stringify(o));
var a = [1, 2]; a.extra = 'x';
print(JSON.stringify(a));
