// character classes and escapes
function r(re, s) { var m = re.exec(s); return m ? m[0] : 'null'; }
print(r(/[abc]+/, 'xxbcaz'), r(/[^abc]+/, 'abxyzc'), r(/[a-z]+/, '12hello3'), r(/[A-Z0-9]+/, 'abCD12ef'), r(/\d+/, 'ab123c'), r(/\w+/, '!!ab_9!'), r(/\s+/, 'a \t b'));
print(r(/\D+/, '12ab34'), r(/\W+/, 'ab!?cd'), r(/\S+/, '  xy  '), r(/[\d]+/, 'a42'), r(/[.]/, 'a.b'), r(/\./, 'a.b'), r(/[-a]+/, 'x-a-y'));
