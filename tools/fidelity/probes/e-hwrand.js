// E.hwRand: type and range
var ok = true, r;
for (var i = 0; i < 100; i++) { r = E.hwRand(); if (typeof r !== 'number' || r !== (r | 0)) ok = false; }
print(typeof E.hwRand(), ok);
