// clearTimeout of pending, fired and unknown ids
var log = [];
var a = setTimeout(function () { log.push('a must not run'); }, 50);
var b = setTimeout(function () { log.push('b runs'); }, 100);
clearTimeout(a);
clearTimeout(a);
clearTimeout(9999);
try { clearTimeout(undefined); } catch (e) { print('clearTimeout(undefined):', e.message); }
try { clearInterval(undefined); } catch (e) { print('clearInterval(undefined):', e.message); }
clearTimeout(null);
setTimeout(function () { clearTimeout(b); log.push('cleared after fire'); print(log.join(', ')); }, 150);
