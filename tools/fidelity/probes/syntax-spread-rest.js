// spread and rest: SyntaxError on Espruino 2v29 (build rules syntax/spread, syntax/rest)
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws'; } }
print(t('Math.max(...[1, 2])'));
print(t('[0, ...[1, 2]].length'));
print(t('(function (...a) { return a.length; })(1, 2, 3)'));
