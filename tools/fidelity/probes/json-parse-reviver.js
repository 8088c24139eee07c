// a reviver is ignored
var o = JSON.parse('{"a":1,"b":2}', function (k, v) { return typeof v === 'number' ? v * 10 : v; });
print(JSON.stringify(o));
