// substr, substring, slice with odd arguments
var s = 'abcdefgh';
print(s.substr(2), s.substr(2, 3), s.substr(-3), s.substr(-3, 2), s.substr(10), s.substr(2, -1) === '', s.substr(0, 100));
print(s.substring(2), s.substring(2, 5), s.substring(5, 2), s.substring(-1, 3), s.substring(3, 100), s.substring(NaN, 2));
print(s.slice(2), s.slice(2, 5), s.slice(-3), s.slice(-3, -1), s.slice(5, 2) === '', s.slice(100) === '', s.slice(-100, 2));
