// integers to strings (the firmware's registers and counters)
var a = [0, 1, -1, 7, 10, 255, 256, 65535, 1000000, 2147483647, 2147483648, -2147483648, 4294967295, 4294967296, 99999999999, 9007199254740991, -9007199254740991];
for (var i = 0; i < a.length; i++) print(a[i], String(a[i]), '' + a[i], a[i].toString(), a[i].toString(16), a[i].toString(2).length, a[i].toString(36));
