// SHA-256 in plain ES5 over byte strings, for boards whose Espruino build has no native
// SHA256 (the Original Espruino has SHA1 only). Written by hand because the published
// @noble/hashes 2.x dies at load on Espruino (Uint32Array.from) and 1.x is several times
// larger than this; tested against the NIST FIPS 180-2 vectors. Only images for boards
// without native SHA256 include it.
// A typed array, not an array of numbers: on Espruino the 64 constants then take some 20
// variables instead of some 130 (an index name and a number each) for as long as the image runs.
var K = new Int32Array(64);
(function () {
  // the first 32 bits of the fractional parts of the cube roots of the first 64 primes
  for (var n = 2, k = 0; k < 64; n++) {
    var prime = true;
    for (var d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (prime) K[k++] = ((Math.pow(n, 1 / 3) % 1) * 4294967296) | 0;
  }
})();

export function sha256(message: string): string {
  var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  var bitLength = message.length * 8;
  var m = message + '\x80';
  while (m.length % 64 !== 56) m += '\x00';
  m += String.fromCharCode(0, 0, 0, (bitLength / 4294967296) & 0xff, (bitLength >>> 24) & 0xff, (bitLength >>> 16) & 0xff, (bitLength >>> 8) & 0xff, bitLength & 0xff);
  var w = new Int32Array(64);
  // declared before the loops: Espruino creates a local only where its var runs, and i is used
  // after them (tools/profile/check.ts hoisting)
  var i;
  for (var block = 0; block < m.length; block += 64) {
    for (i = 0; i < 16; i++) {
      var j = block + i * 4;
      w[i] = (m.charCodeAt(j) << 24) | (m.charCodeAt(j + 1) << 16) | (m.charCodeAt(j + 2) << 8) | m.charCodeAt(j + 3);
    }
    for (i = 16; i < 64; i++) {
      var a = w[i - 15];
      var b = w[i - 2];
      var s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      var s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    var A = h[0], B = h[1], C = h[2], D = h[3], E = h[4], F = h[5], G = h[6], H = h[7];
    for (i = 0; i < 64; i++) {
      var S1 = ((E >>> 6) | (E << 26)) ^ ((E >>> 11) | (E << 21)) ^ ((E >>> 25) | (E << 7));
      var t1 = (H + S1 + ((E & F) ^ (~E & G)) + K[i] + w[i]) | 0;
      var S0 = ((A >>> 2) | (A << 30)) ^ ((A >>> 13) | (A << 19)) ^ ((A >>> 22) | (A << 10));
      var t2 = (S0 + ((A & B) ^ (A & C) ^ (B & C))) | 0;
      H = G;
      G = F;
      F = E;
      E = (D + t1) | 0;
      D = C;
      C = B;
      B = A;
      A = (t1 + t2) | 0;
    }
    h[0] = (h[0] + A) | 0;
    h[1] = (h[1] + B) | 0;
    h[2] = (h[2] + C) | 0;
    h[3] = (h[3] + D) | 0;
    h[4] = (h[4] + E) | 0;
    h[5] = (h[5] + F) | 0;
    h[6] = (h[6] + G) | 0;
    h[7] = (h[7] + H) | 0;
  }
  var out = '';
  for (i = 0; i < 8; i++) out += String.fromCharCode((h[i] >>> 24) & 0xff, (h[i] >>> 16) & 0xff, (h[i] >>> 8) & 0xff, h[i] & 0xff);
  return out;
}
