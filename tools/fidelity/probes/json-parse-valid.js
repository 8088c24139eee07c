// JSON.parse of valid JSON
function t(s) { try { return JSON.stringify(JSON.parse(s)); } catch (e) { return 'throws'; } }
var cases = ['{"a":1,"b":[1,2,{"c":null}],"d":"x","e":true,"f":false}', '[]', '{}', '"str"', '123', '-1.5', '1e3', 'true', 'null',
  '"\\u0041\\n\\t\\"\\\\\\/"', ' { "sp" : 1 } ', '[1,[2,[3,[4]]]]', '{"nested":{"deep":{"deeper":{"x":1}}}}', '0', '-0', '1E2', '2.5e-3'];
for (var i = 0; i < cases.length; i++) print(cases[i], '=>', t(cases[i]));
