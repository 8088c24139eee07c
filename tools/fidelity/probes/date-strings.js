// Date to text
var d = new Date(1700000000123);
print(d.toString());
print(d.toUTCString());
print(String(new Date(0)));
