// ranges written with \x escapes of ASCII characters
function r(re, s) { var m = re.exec(s); return m ? JSON.stringify(m[0]) : 'null'; }
print(r(/[\x00-\x1f]/, 'a\tb'), r(/[\x41-\x43]+/, 'xxABCDx'), r(/[\x20-\x7e]+/, '\x01abc\x02'), /[^\x00-\x7f]/.test('abc'));
