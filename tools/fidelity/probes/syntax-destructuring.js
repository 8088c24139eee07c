// destructuring: silently wrong on Espruino 2v29 (build rule syntax/destructuring)
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws'; } }
print(t('(function () { var o = { a: 1 }; var { a } = o; return a; })()'));
print(t('(function () { var x = [5, 6]; var [p, q] = x; return p + q; })()'));
