// replace and replaceAll with a string pattern
print('aXbXc'.replace('X', '-'), 'aXbXc'.replaceAll('X', '-'), 'abc'.replace('z', '-'), 'abc'.replace('', '-'));
print('a.b.c'.replace('.', '$&$&'), 'abc'.replace('b', '$$'), 'abc'.replace('b', function (m) { return '[' + m + ']'; }));
