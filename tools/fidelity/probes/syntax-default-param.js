// default parameters: a SyntaxError on Espruino 2v29 (build rule syntax/default-parameter)
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws'; } }
print(t('(function (a, b = 2) { return a + b; })(1)'));
