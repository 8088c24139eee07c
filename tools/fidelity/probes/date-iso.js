// new Date(ms).toISOString and the calendar
var ms = [0, 86400000, 951782400000, 1700000000123, 4102444800000, -1000, 1e12];
for (var i = 0; i < ms.length; i++) { var d = new Date(ms[i]); print(ms[i], d.toISOString(), d.getTime(), d.getUTCFullYear ? 'utc' : 'no utc'); }
