// Flash geometry of the Linux build: getFree, getPage
var F = require('Flash');
print(JSON.stringify(F.getFree()));
print(JSON.stringify(F.getPage(0x10000000)), JSON.stringify(F.getPage(0x10000000 + 1500)), JSON.stringify(F.getPage(0x10038000)), JSON.stringify(F.getPage(0x1003ffff)));
print(F.getPage(0x10040000), F.getPage(0x0fffffff), F.getPage(0));
