// async functions and generators are not supported (syntax/async, syntax/generator)
function t(src) { try { var r = eval(src); return 'ok ' + typeof r; } catch (e) { return 'throws'; } }
print(t('(function* g() { yield 1; })'));
print(t('(async function () { return 1; })'));
