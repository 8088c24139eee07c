// extra arguments to callbacks, string callbacks
var log = [];
setTimeout(function (x, y) { log.push('args ' + x + ' ' + y); }, 5, 'p', 2);
setTimeout('log.push("from a string")', 10);
setTimeout(function () { print(log.join(', ')); }, 100);
function t(f) { try { f(); return 'ok'; } catch (e) { return 'throws'; } }
print(t(function () { setTimeout(); }), t(function () { setTimeout(5); }));
