// split with strings
print(JSON.stringify('a,b,,c'.split(',')), JSON.stringify('abc'.split('')), JSON.stringify('a,b,c'.split(',', 2)), JSON.stringify(''.split(',')), JSON.stringify(''.split('')));
print(JSON.stringify('abc'.split()), JSON.stringify('a--b--c'.split('--')), JSON.stringify('a,b'.split('x')), JSON.stringify(',a,'.split(',')));
print(JSON.stringify('a b  c'.split(' ')), JSON.stringify('x'.split('x')));
