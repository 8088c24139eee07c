// Date setters
var d = new Date(0);
d.setFullYear(2030); d.setMonth(5); d.setDate(15); d.setHours(12); d.setMinutes(30); d.setSeconds(45); d.setMilliseconds(500);
print(d.toISOString());
d.setTime(86400000);
print(d.toISOString(), d.setDate(40), new Date(NaN).getTime());
