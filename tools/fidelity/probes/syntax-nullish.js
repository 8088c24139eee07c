// ?? is parsed
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws ' + e.message; } }
print(t('null ?? 5'));
print(t('0 ?? 5'));
print(t('undefined ?? "d"'));
