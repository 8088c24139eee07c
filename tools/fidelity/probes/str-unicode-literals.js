// characters above 255 in string literals
var s = '\u20ac\u0100x';
print(s.length, s.charCodeAt(0), s.charCodeAt(1), s.charCodeAt(2));
var t = '\u00ff';
print(t.length, t.charCodeAt(0));
