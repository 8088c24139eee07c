// toUpperCase/toLowerCase, trim, padStart/padEnd, repeat
print('AbC\xe9'.toUpperCase(), 'AbC\xc9'.toLowerCase(), JSON.stringify('  \t x y \n'.trim()));
print('5'.padStart(3, '0'), '5'.padEnd(3, '-'), 'abc'.padStart(2), 'ab'.padStart(7, 'xyz'), '7'.padStart(4), JSON.stringify('7'.padEnd(3)));
print('ab'.repeat(3), JSON.stringify('x'.repeat(0)));
