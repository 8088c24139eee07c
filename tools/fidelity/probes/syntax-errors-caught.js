// text that does not parse: eval throws something catchable (messages differ by engine)
var srcs = ['1 +', 'var x = ;', '}', 'function (){', 'a b', '"unterminated', '({a:1,,})', 'var 1x = 2'];
for (var i = 0; i < srcs.length; i++) {
  var r;
  try { eval(srcs[i]); r = 'parsed'; } catch (e) { r = 'throws ' + (e instanceof SyntaxError); }
  print(JSON.stringify(srcs[i]), r);
}
