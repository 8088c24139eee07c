// labelled statements are broken on Espruino 2v29 (build rule label)
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws'; } }
print(t('(function () { var n = 0; outer: for (var i = 0; i < 3; i++) { for (var j = 0; j < 3; j++) { if (j == 1) continue outer; n++; } } return n; })()'));
