// ?, lazy and counted quantifiers (build rules regex/optional-quantifier, regex/lazy-quantifier,
// regex/counted-quantifier)
function r(re, s) { var m = re.exec(s); return m ? JSON.stringify(m[0]) : 'null'; }
print('optional-quantifier:', r(/ab?c/, 'ac'), r(/ab?c/, 'abc'), r(/colou?r/, 'color'));
print('lazy-quantifier:', r(/a.*?b/, 'xaxxbxxbx'), r(/\d+?/, '123'));
print('counted-quantifier:', /^[0-9a-f]{32}$/.test('0123456789abcdef0123456789abcdef'), /a{3}/.test('aaa'), /a{3}/.test('a{3}'), /^\d{2,4}$/.test('123'), /x{2,}/.test('xxxx'));
