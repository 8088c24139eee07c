// typed arrays, dates, errors, toJSON, nested arrays in JSON.stringify
print(JSON.stringify(new Uint8Array([1, 2, 3])), JSON.stringify({ u: new Uint8Array([4, 5]) }));
print(JSON.stringify(new Int16Array([-1, 2])), JSON.stringify(new Float32Array([0.5])));
print(JSON.stringify(new ArrayBuffer(2)));
print(JSON.stringify(new Date(86400000)));
print(JSON.stringify({ toJSON: function () { return 'custom'; } }));
print(JSON.stringify({ a: [[1], [[2]]] }));
