// charAt, at-like access, bracket index, length assignment
var s = 'abc';
print(s[0], s[2], s[3], s.charAt(-1) === '', s.length);
s.length = 1;
print(s.length, s, 'abc'.concat().length);
print('a-b'.split('-').reverse().join('+'), 'abc'.split('').sort().join(''));
