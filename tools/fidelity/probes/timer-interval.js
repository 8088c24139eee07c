// setInterval and clearInterval
var n = 0, log = [];
var id = setInterval(function () { n++; log.push('tick ' + n); if (n == 3) { clearInterval(id); print(log.join(', ')); } }, 10);
print(typeof id);
