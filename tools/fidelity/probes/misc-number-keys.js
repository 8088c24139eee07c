// numbers and strings as property keys
var o = {}; o[1] = 'one'; o['01'] = 'zero-one'; o[1.5] = 'half';
print(o['1'], o[1], o['01'], o['1.5'], Object.keys(o).join(','));
