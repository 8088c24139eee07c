// Date getters (the interpreter's time zone is UTC unless E.setTimeZone)
var d = new Date(1700000000123);
print(d.getFullYear(), d.getMonth(), d.getDate(), d.getDay(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds(), d.getTimezoneOffset());
print(d.valueOf(), +d, d.toJSON(), JSON.stringify({ d: d }));
