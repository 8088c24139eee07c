// parseInt
var c = ['42', '  42  ', '42px', 'px42', '0x1F', '0X1f', '-17', '+17', '', '0', '010', '1e3', '3.99', '-0', '9007199254740993', '18446744073709551617', '12345678901234567890'];
for (var i = 0; i < c.length; i++) print(JSON.stringify(c[i]), parseInt(c[i]), parseInt(c[i], 10));
print(parseInt('ff', 16), parseInt('FF', 16), parseInt('z', 36), parseInt('777', 8), parseInt('101', 2), parseInt('12', 3), parseInt('9', 8));
print(parseInt('0x10', 16), parseInt('10', 0), parseInt('10', 1), parseInt('10', 37), parseInt(null), parseInt(undefined), parseInt(15.99));
