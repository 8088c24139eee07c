// toString / valueOf of built-in objects
print(Object.prototype.toString.call([]), Object.prototype.toString.call(null), Object.prototype.toString.call(1), Object.prototype.toString.call('s'), Object.prototype.toString.call({}));
print(String({ toString: function () { return 'T'; } }), ({ valueOf: function () { return 41; } }) + 1, [1, 2].toString(), (function f() {}).toString().indexOf('function') === 0);
