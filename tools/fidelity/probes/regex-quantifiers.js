// * and + (inside the build's regex subset)
function r(re, s) { var m = re.exec(s); return m ? JSON.stringify(m[0]) : 'null'; }
print(r(/ab*c/, 'xacx'), r(/ab*c/, 'abbbc'), r(/ab+c/, 'ac'), r(/ab+c/, 'abbc'), r(/x[0-9]+y/, 'x123y'), r(/a[bc]*d/, 'abcbcd'));
