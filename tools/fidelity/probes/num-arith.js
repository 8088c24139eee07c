// integer arithmetic the registers use
var a = 99999999, b = 12345;
print(a + b, a - b, a * b, Math.floor(a / b), a % b, -a % b, 7 / 2, -7 / 2 | 0);
print(4294967295 * 2, 65536 * 65536, 123456789 * 1000, 2147483647 + 1, -2147483648 - 1);
print(1e308 * 10, -1e308 * 10, 5 % 0, 0 / 1);
