// writes reach espruino.flash at once (read back through a second module handle)
var F = require('Flash'), A = 0x1003f000;
F.erasePage(A);
F.write(E.toUint8Array('PSD!'), A);
var G = require('Flash');
print(F === G, E.toString(G.read(4, A)), G.read(4, A + 4).join(','));
