// what JSON.parse throws for text it cannot take
var cases = ['{', '[', '"', '}', 'tru', 'nul', '{"a":}', ':', '{"a":1}}'];
for (var i = 0; i < cases.length; i++) {
  var r;
  try { r = 'ok ' + JSON.stringify(JSON.parse(cases[i])); } catch (e) { r = 'throws ' + (e instanceof SyntaxError); }
  print(JSON.stringify(cases[i]), r);
}
