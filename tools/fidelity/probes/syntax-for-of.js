// for...of over an array
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws ' + e.message; } }
print(t('(function () { var s = 0; for (var x of [1, 2, 3]) s += x; return s; })()'));
print(t('(function () { var s = ""; for (var c of "abc") s += c + "."; return s; })()'));
