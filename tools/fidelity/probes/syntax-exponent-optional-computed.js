// **, ?. and computed keys: SyntaxError on Espruino 2v29 (syntax/exponent, syntax/optional-chaining, syntax/computed-key)
function t(src) { try { return 'ok ' + eval(src); } catch (e) { return 'throws'; } }
print(t('2 ** 10'));
print(t('var o = { a: { b: 1 } }; o?.a?.b'));
print(t('var k = "x"; var o2 = { [k]: 1 }; o2.x'));
