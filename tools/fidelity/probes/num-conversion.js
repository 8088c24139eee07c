// Number() of strings and other values
var c = ['12', ' 12 ', '12px', '', ' ', '0x10', '0b101', '0o17', '1e3', '-', '.', 'Infinity', 'null', null, undefined, true, false, [], [5], [1, 2], {}];
for (var i = 0; i < c.length; i++) print(i, Number(c[i]));
