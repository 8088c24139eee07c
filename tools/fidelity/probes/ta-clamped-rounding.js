// Uint8ClampedArray rounding of halves
print(new Uint8ClampedArray([1.5, 2.5, 254.5]).join(','));
