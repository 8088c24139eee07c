// binary strings (one char = one byte) as the firmware handles them
var b = '';
for (var i = 0; i < 256; i++) b += String.fromCharCode(i);
var sum = 0;
for (var j = 0; j < b.length; j++) sum += b.charCodeAt(j);
print(b.length, sum, b.charCodeAt(0), b.charCodeAt(255), b.substr(254).length, b.indexOf('\xff'), b.indexOf('\x00'), b.slice(65, 70));
