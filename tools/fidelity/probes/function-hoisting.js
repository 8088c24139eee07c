// function declarations used before them: Espruino 2v29 does not hoist them (the build's
// profile check forbids it in an image: rule hoisting)
function a() { return typeof h; function h() {} }
function b() { try { return h(); } catch (e) { return 'throws'; } function h() { return 'called'; } }
function c() { try { var o = { g: h }; return typeof o.g; } catch (e) { return 'throws'; } function h() {} }
print(a(), b(), c());
