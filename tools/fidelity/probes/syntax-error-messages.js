// the parser's messages for text that does not parse
var srcs = ['1 +', 'var x = ;', '}', 'a b'];
for (var i = 0; i < srcs.length; i++) {
  try { eval(srcs[i]); } catch (e) { print(e.message); }
}
