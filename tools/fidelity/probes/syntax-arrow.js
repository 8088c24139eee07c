// arrow functions parse and run (the build still downlevels them: syntax/arrow)
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws ' + e.message; } }
print(t('(function () { var f = (a) => a * 2; return f(3); })()'));
print(t('(function () { var f = a => { return a + 1; }; return f(1); })()'));
print(t('[1, 2, 3].map(x => x * x).join(",")'));
