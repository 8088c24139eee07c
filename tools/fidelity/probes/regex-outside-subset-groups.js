// a quantifier on a group, a non-capturing group (build rules regex/group-quantifier,
// regex/non-capturing-group)
var n = /(a)(b)?/.exec('ac');
print('group-quantifier:', n ? [n.length, n[0], n[1], String(n[2])].join('|') : 'null');
var g = /(?:ab)+/.exec('ababx');
print('non-capturing-group:', g ? g[0] : 'null');
