// Math.random range and type
var ok = true;
for (var i = 0; i < 200; i++) { var r = Math.random(); if (!(r >= 0 && r < 1)) ok = false; }
print(typeof Math.random(), ok);
