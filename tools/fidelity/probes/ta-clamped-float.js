// Float32Array, Float64Array
var f = new Float32Array([0.5, 1 / 3]);
print(f[0], (f[1]).toFixed(7), new Float64Array([0.25])[0], new Float32Array(2).join(','));
print(new Uint8ClampedArray([300, -5, 2, 254]).join(','));
