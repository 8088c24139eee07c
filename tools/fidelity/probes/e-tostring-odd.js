// E.toString of values that are not bytes
function t(f) { try { return 'ok ' + JSON.stringify(f()); } catch (e) { return 'throws'; } }
print(t(function () { return E.toString(true); }), t(function () { return E.toString(null); }), t(function () { return E.toString(undefined); }), t(function () { return E.toString({}); }), t(function () { return E.toString('\u0100'); }));
