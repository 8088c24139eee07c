// duplicate keys: which value wins
var o = JSON.parse('{"a":1,"b":2,"a":3}');
print(o.a, o.b, JSON.stringify(o), Object.keys(o).join(','));
var p = JSON.parse('{"x":{"y":1},"x":{"z":2}}');
print(JSON.stringify(p));
