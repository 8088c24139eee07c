// how print shows typed arrays and buffers
print(new Uint8Array([1, 2, 3]));
print(new Uint32Array([1]), new Int8Array([-1]));
print(new ArrayBuffer(3));
print([new Uint8Array([4])], { u: new Uint8Array(0) });
print(new DataView(new ArrayBuffer(2)));
