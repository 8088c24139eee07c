// parseFloat
var c = ['3.14', '  2.5e3', '1e-3x', '.5', '-.5', '5.', 'Infinity', '-Infinity', 'abc', '', '1,5', '0x10', '1e400', '12.34.56'];
for (var i = 0; i < c.length; i++) print(JSON.stringify(c[i]), parseFloat(c[i]));
