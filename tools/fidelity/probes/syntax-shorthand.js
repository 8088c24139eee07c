// shorthand properties and methods, trailing commas
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws ' + e.message; } }
print(t('(function () { var a = 1; var o = { a, f() { return 2; } }; return o.a + o.f(); })()'));
print(t('(function () { var o = { a: 1, b: 2, }; var l = [1, 2, ]; return Object.keys(o).length + l.length; })()'));
print(t('(function (a, b,) { return a + b; })(1, 2,)'));
