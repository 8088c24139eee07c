// timers set from timers
var log = [];
setTimeout(function () {
  log.push('outer');
  setTimeout(function () { log.push('inner0'); }, 0);
  setTimeout(function () { log.push('inner5'); print(log.join(',')); }, 5);
}, 5);
