// E.toString of every kind of input
var c = E.toString('ab', 67, [68, 69], new Uint8Array([70, 71]), { data: 'H', count: 3 }, { data: [73, 74], count: 2 });
print(JSON.stringify(c), c.length);
print(JSON.stringify(E.toString([256, -1, 1.5])), JSON.stringify(E.toString(new Uint16Array([0x1234]))), JSON.stringify(E.toString(new ArrayBuffer(2))));
print(JSON.stringify(E.toString()), JSON.stringify(E.toString('')), JSON.stringify(E.toString([])));
