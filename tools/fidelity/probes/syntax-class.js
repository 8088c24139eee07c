// class declarations (parsed; instanceof on an Error subclass does not work)
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws ' + e.message; } }
print(t('(function () { class A { constructor(x) { this.x = x; } get d() { return this.x * 2; } static s() { return 5; } } var a = new A(2); return [a.x, a.d, A.s()].join(","); })()'));
print(t('(function () { class A { f() { return 1; } } class B extends A { f() { return super.f() + 1; } } return new B().f(); })()'));
print(t('(function () { class E2 extends Error {} var e = new E2("m"); return [e instanceof E2, e instanceof Error, e.message].join(","); })()'));
