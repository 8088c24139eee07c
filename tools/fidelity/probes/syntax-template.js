// template literals
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws ' + e.message; } }
print(t('(function () { var a = 3; return `a=${a} b=${a + 1}`; })()'));
print(t('`line1\nline2`.length'));
