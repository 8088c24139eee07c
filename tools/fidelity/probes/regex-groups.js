// capture groups and the match array (inside the build's regex subset)
var m = /(\d+)-(\d+)/.exec('tel 123-456 end');
print(m ? [m.length, m[0], m[1], m[2], m.index, m.input].join('|') : 'null');
var n = /(a)(b)/.exec('xab');
print(n ? [n.length, n[0], n[1], n[2], n.index].join('|') : 'null');
