// String methods with a regex
print('a1b22c333'.replace(/\d+/, '#'), 'a1b22c333'.replace(/\d+/g, '#'), 'aaa'.replace(/a/g, 'bb'), 'abc'.replace(/(b)/, '[$1]'));
print(JSON.stringify('a1b2c3'.match(/\d/g)), JSON.stringify('abc'.match(/x/)), JSON.stringify('a1b2'.match(/\d/)));
print(JSON.stringify('a, b,c'.split(/,\s*/)), JSON.stringify('a1b2c'.split(/\d/)));
print('x-y_z'.replace(/[-_]/g, function (m) { return m === '-' ? '+' : '='; }));
