// getTime advances across timers
var t0 = getTime();
setTimeout(function () {
  var dt = getTime() - t0;
  print('after 100ms', dt >= 0.099, dt < 1);
  var t1 = getTime();
  setTimeout(function () { var d2 = getTime() - t1; print('after 50ms', d2 >= 0.049, d2 < 1); }, 50);
}, 100);
print(typeof t0, t0 > 1e9);
