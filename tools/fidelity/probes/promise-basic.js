// Promise resolution order
print('start');
Promise.resolve(1).then(function (v) { print('then', v); return v + 1; }).then(function (v) { print('then2', v); });
new Promise(function (res) { res('x'); }).then(function (v) { print('ctor', v); });
Promise.reject(new Error('no')).catch(function (e) { print('caught', e.message); });
setTimeout(function () { print('timeout'); }, 50);
print('end');
