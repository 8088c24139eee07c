// the firmware's SHA-256 constants: fractional parts of cube roots through Math.pow (protocol/sha256.ts)
var K = [];
for (var n = 2; K.length < 64; n++) {
  var prime = true;
  for (var d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
  if (prime) K.push(((Math.pow(n, 1 / 3) % 1) * 4294967296) | 0);
}
print(K.slice(0, 8).join(','));
print(E.CRC32(K.join(',')));
