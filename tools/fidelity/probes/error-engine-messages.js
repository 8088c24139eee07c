// errors the engine throws: type and message
function t(f) { try { f(); return 'none'; } catch (e) { return (e instanceof TypeError) + ' ' + (e instanceof ReferenceError) + ' ' + e.message; } }
print(t(function () { var n = null; return n.x; }));
print(t(function () { var u; return u.x; }));
print(t(function () { return notDefinedAnywhere; }));
print(t(function () { var o = {}; o.f(); }));
print(t(function () { var n = 5; n(); }));
