// Promise.all and a thrown error in then
Promise.all([1, Promise.resolve(2), new Promise(function (r) { setTimeout(function () { r(3); }, 50); })]).then(function (v) { print('all', v.join(',')); });
Promise.resolve().then(function () { throw new Error('thrown'); }).catch(function (e) { print('caught', e.message); });
Promise.all([]).then(function (v) { print('empty', v.length); });
