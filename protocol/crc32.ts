// CRC-32 (IEEE 802.3, the one zlib and Espruino's E.CRC32 compute) for the host and server.
// The firmware never imports this: it uses the board's native E.CRC32, which saves the
// 256-entry table (hundreds of variables on a Pico).
var table: number[] | null = null;

function makeTable(): number[] {
  var t: number[] = [];
  for (var n = 0; n < 256; n++) {
    var c = n;
    for (var k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t.push(c >>> 0);
  }
  return t;
}

/** CRC-32 of a byte string (each char one byte, 0-255). Unsigned. */
export function crc32(bytes: string): number {
  if (!table) table = makeTable();
  var crc = 0xffffffff;
  for (var i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
