// built-in methods read through a constructor's prototype (instances still have them)
print(typeof Array.prototype.slice, typeof Array.prototype.push, typeof Array.prototype.toString, typeof String.prototype.charAt, typeof String.prototype.valueOf);
print(typeof Function.prototype.call, typeof Function.prototype.apply, typeof Function.prototype.bind, typeof Function.prototype.toString);
print(typeof Number.prototype.toFixed, typeof Number.prototype.toString, typeof Object.prototype.hasOwnProperty, typeof Uint8Array.prototype.set, typeof Date.prototype.getTime);
function t(f) { try { return 'ok ' + f(); } catch (e) { return 'throws'; } }
print(t(function () { return Array.prototype.slice.call([1, 2, 3], 1).join(','); }), t(function () { return [].slice.call([1, 2, 3], 1).join(','); }));
print(t(function () { return Object.prototype.hasOwnProperty.call({ a: 1 }, 'a'); }), t(function () { return Object.prototype.toString.call([1, 2]); }));
Array.prototype.myExtra = function () { return 42; };
print([].myExtra(), typeof Array.prototype.myExtra);
Array.prototype.slice = function () { return 'own slice'; };
print(typeof Array.prototype.slice, [1, 2].slice(1));
