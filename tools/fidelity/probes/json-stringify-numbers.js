// numbers in JSON.stringify
print(JSON.stringify([0, 1, -1, 255, 65535, 4294967295, 4294967296, 2147483647, -2147483648, 9007199254740991, 1e15, 123456789012]));
print(JSON.stringify([NaN, Infinity, -Infinity, -0]));
print(JSON.stringify([0.5, 0.25, 1.5, -2.5, 100.125]));
