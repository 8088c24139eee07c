// replacer function and array
var o = { a: 1, b: 2, c: { a: 3, d: 4 } };
print(JSON.stringify(o, function (k, v) { return k === 'b' ? undefined : v; }));
print(JSON.stringify(o, ['a', 'c']));
