// btoa / atob with input they do not expect
function t(f) { try { return 'ok ' + JSON.stringify(f()); } catch (e) { return 'throws'; } }
print(t(function () { return btoa('\u0100'); }), t(function () { return atob('!!!'); }), t(function () { return atob('aGVsbG8'); }), t(function () { return btoa(123); }));
