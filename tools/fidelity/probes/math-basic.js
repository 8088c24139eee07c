// Math functions the firmware might use, on integers
print(Math.floor(2.7), Math.floor(-2.7), Math.ceil(2.1), Math.ceil(-2.1), Math.round(2.5), Math.round(-2.5), Math.round(2.4), Math.round(-0.4));
print(Math.abs(-5), Math.abs(5), Math.max(1, 9, 3), Math.min(1, 9, 3), Math.max(), Math.min(), Math.max(1, NaN));
print(Math.pow(2, 10), Math.pow(2, 31), Math.pow(2, 32), Math.pow(10, 6), Math.pow(3, 0), Math.pow(0, 0), Math.pow(2, -1));
print(Math.sqrt(16), Math.sqrt(2) > 1.414, Math.sqrt(-1), Math.sign ? 'sign' : 'no sign');
