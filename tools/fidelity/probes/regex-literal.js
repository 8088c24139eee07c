// literal characters, ^ $ and alternation (inside the build's regex subset)
function r(re, s) { var m = re.exec(s); return m ? m[0] + '@' + m.index : 'null'; }
print(r(/abc/, 'xxabcxx'), r(/^abc/, 'abcx'), r(/^abc/, 'xabc'), r(/abc$/, 'xabc'), r(/abc$/, 'abcx'), r(/^$/, ''), r(/cat|dog/, 'hotdog'), r(/a|b|c/, 'zzc'));
print(/abc/.test('ABC'), /abc/i.test('ABC'), /x/.test(''), /[^\n]/.test('\n'), /a[^\n]c/.test('abc'));
