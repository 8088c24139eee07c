// JSON.parse of text that is not JSON: what the interpreter accepts
function t(s) { try { return 'ok ' + JSON.stringify(JSON.parse(s)); } catch (e) { return 'throws'; } }
var cases = ['{"a":1} trailing', '[1,2,]', '{"a":1,}', "{'a':'b'}", "'single'", '0x10', '[0x1F, 0xff]', '"\\x41"',
  '{a:1}', '[1 2]', '01', '+1', '.5', '5.', 'NaN', 'Infinity', 'undefined', '[1,,2]', '{"a" 1}', '', ' ', '"unterminated', '{"a":1', '[1,2'];
for (var i = 0; i < cases.length; i++) print(JSON.stringify(cases[i]), '=>', t(cases[i]));
