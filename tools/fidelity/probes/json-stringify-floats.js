// non-integer numbers in JSON.stringify
print(JSON.stringify([0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 3.14159, 1e21, 1e-7, 123.456, 1.7976931348623157e308, 5e-324]));
