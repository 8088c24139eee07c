// HMAC (RFC 2104) over the board's SHA-256: a few lines over a native hash, as the
// Espruino README measured (RFC 4231 case 2 matches). Byte strings in and out.
export function hmac(sha256: (bytes: string) => string, key: string, message: string): string {
  if (key.length > 64) key = sha256(key);
  var inner = '';
  var outer = '';
  for (var i = 0; i < 64; i++) {
    var k = i < key.length ? key.charCodeAt(i) : 0;
    inner += String.fromCharCode(k ^ 0x36);
    outer += String.fromCharCode(k ^ 0x5c);
  }
  return sha256(outer + sha256(inner + message));
}

