// -0 as a divisor
print(1 / -0, 1 / (0 * -1), Math.round(-0.4) === 0);
