// then on a promise whose executor never settles
var p = new Promise(function () {});
print(typeof p, typeof p.then);
