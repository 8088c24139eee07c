// very large numbers to int32 (Espruino: 1e21|0 is 0)
print(1e21 | 0, 1e19 | 0, 1e20 >>> 0, -1e21 | 0, Infinity | 0, NaN | 0);
