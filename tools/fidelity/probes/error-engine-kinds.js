// which errors the engine throws are instanceof what
function t(f) { try { f(); return 'none'; } catch (e) { return (e instanceof Error) + ' ' + (e instanceof TypeError) + ' ' + (e instanceof ReferenceError); } }
print(t(function () { var n = null; return n.x; }), '|', t(function () { return notDefinedAnywhere; }), '|', t(function () { var o = {}; o.f(); }));
