// JSON string escapes and characters above 255
var s = JSON.parse('"a\\u00e9\\u0100\\u20acb"');
var codes = [];
for (var i = 0; i < s.length; i++) codes.push(s.charCodeAt(i));
print(s.length, codes.join(','));
print(JSON.parse('"\\b\\f\\n\\r\\t"').length, JSON.parse('"tab\there"').length);
var u = JSON.parse('"\xc3\xa9"');
print(u.length, u.charCodeAt(0));
