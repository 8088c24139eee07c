// indexOf, lastIndexOf, includes, startsWith, endsWith
var s = 'hello world hello';
print(s.indexOf('hello'), s.indexOf('hello', 1), s.indexOf('xyz'), s.indexOf(''), s.indexOf('', 5), s.indexOf('o', -5), s.indexOf('l', 100));
print(s.lastIndexOf('hello'), s.lastIndexOf('o'), s.lastIndexOf('o', 5), s.lastIndexOf('zz'));
print(s.includes('world'), s.includes('World'), s.startsWith('hell'), s.startsWith('world', 6), s.endsWith('llo'), s.endsWith('hello', 5));
