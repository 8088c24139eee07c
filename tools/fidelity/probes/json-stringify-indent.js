// indentation argument
var o = { a: 1, b: [1, 2], c: { d: 'x' }, e: [] , f: {} };
print(JSON.stringify(o, null, 2));
print(JSON.stringify(o, null, '\t'));
print(JSON.stringify([1, [2, 3]], null, 1));
