// a surrogate pair in JSON: one character on Espruino (it keeps code points), two in V8
var s = JSON.parse('"\\ud83d\\ude00"');
print(s.length);
