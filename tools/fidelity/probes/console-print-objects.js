// print formats objects and arrays
print({ a: 1, b: 'x', c: [1, 2], d: { e: null } });
print([1, 'a', null, undefined, true]);
print([]);
print({});
print([[1, 2], [3]]);
print({ f: function () { return 1; } });
