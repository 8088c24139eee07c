// new RegExp from strings (build rule regex/constructor), and a regex as text
var re = new RegExp('b+', 'g');
print('constructor:', 'abbcb'.replace(re, '-'), new RegExp('^\\d+$').test('123'), new RegExp('a.c').source);
function t(s) { try { new RegExp(s); return 'ok'; } catch (e) { return 'throws'; } }
print('constructor:', t('('), t('['), t('a)'), t('*'));
print(String(/ab+c/gi), String(new RegExp('x', 'i')));
