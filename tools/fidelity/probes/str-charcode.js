// charCodeAt and fromCharCode, including codes above 255
var s = 'A\xe9\xff';
print(s.length, s.charCodeAt(0), s.charCodeAt(1), s.charCodeAt(2), s.charCodeAt(3), s.charCodeAt(-1), s.charAt(1) === '\xe9', s.charAt(5) === '');
print(String.fromCharCode(65, 66, 67), String.fromCharCode(256).charCodeAt(0), String.fromCharCode(0x20ac).charCodeAt(0), String.fromCharCode(65601).charCodeAt(0), String.fromCharCode(-1).charCodeAt(0));
print(String.fromCharCode(300).length, String.fromCharCode(0x41, 0x141).length, String.fromCharCode().length);
