// toString with a radix
var a = [255, 4294967295, -255, 0, 1234567, 3735928559];
for (var i = 0; i < a.length; i++) print(a[i].toString(16), a[i].toString(2), a[i].toString(8), a[i].toString(36));
print((0.5).toString(2), (255.5).toString(16));
