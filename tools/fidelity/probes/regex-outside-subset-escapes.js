// \u escapes, \x above 7f, \b, lookarounds and back references (build rules regex/unicode-escape,
// regex/hex-escape, regex/word-boundary, regex/lookaround, regex/backreference)
function r(re, s) { var m = re.exec(s); return m ? JSON.stringify(m[0]) : 'null'; }
print('unicode-escape:', r(/[\u007f-\uffff]/, 'plain ascii'), /[\u0100-\uffff]/.test('abc'));
print('hex-escape:', /[\x80-\xff]/.test('abc'));
print('word-boundary:', /\bfoo\b/.test('a foo b'), /\bfoo\b/.test('afoob'));
print('lookaround:', /a(?=b)/.test('ab'), /a(?!b)/.test('ab'));
function t(f) { try { return 'ok ' + f(); } catch (e) { return 'throws'; } }
print('backreference:', t(function () { return /(a)\1/.test('aa'); }));
