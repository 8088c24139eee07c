// Date.now, new Date() and getTime agree
var a = Date.now(), t = getTime(), d = new Date();
print(typeof a, Math.abs(a - t * 1000) < 1000, Math.abs(d.getTime() - a) < 1000, a > 1.6e12);
