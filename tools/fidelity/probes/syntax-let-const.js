// let / const parse; a let in a for head is one binding for the whole loop
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws ' + e.message; } }
print(t('(function () { let a = 1; const b = 2; return a + b; })()'));
print(t('(function () { var fs = []; for (let i = 0; i < 3; i++) fs.push(function () { return i; }); return fs.map(function (f) { return f(); }).join(","); })()'));
print(t('(function () { const c = 1; try { c = 2; } catch (e) { return "caught"; } return c; })()'));
