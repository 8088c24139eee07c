// Byte strings: the wire and the flash layout are handled as strings whose chars are bytes
// (0-255), because that is what Espruino's Serial delivers and writes natively, and string
// building is cheaper in variables there than growing typed arrays.

export function u16(n: number): string {
  return String.fromCharCode((n >>> 8) & 0xff, n & 0xff);
}

export function u32(n: number): string {
  return String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function readU16(s: string, at: number): number {
  return (s.charCodeAt(at) << 8) | s.charCodeAt(at + 1);
}

export function readU32(s: string, at: number): number {
  return ((s.charCodeAt(at) << 24) | (s.charCodeAt(at + 1) << 16) | (s.charCodeAt(at + 2) << 8) | s.charCodeAt(at + 3)) >>> 0;
}

/** Byte string to hex, for logs and JSON (never put typed arrays in JSON: Espruino and V8 disagree). */
export function toHex(s: string): string {
  var out = '';
  for (var i = 0; i < s.length; i++) out += (s.charCodeAt(i) | 256).toString(16).slice(1);
  return out;
}

export function fromHex(h: string): string {
  var out = '';
  for (var i = 0; i + 1 < h.length; i += 2) out += String.fromCharCode(parseInt(h.substr(i, 2), 16));
  return out;
}

/** JSON text with every non-ASCII char escaped, so the payload bytes are plain ASCII on every side. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (c) {
    return '\\u' + (c.charCodeAt(0) | 0x10000).toString(16).slice(1);
  });
}

export var MAX_U48 = 281474976710655; // 2^48 - 1: registers are 48-bit, integer-exact in a double

/** 48-bit big-endian (registers): split in two because JS bit operators are 32-bit. */
export function u48(n: number): string {
  var hi = Math.floor(n / 4294967296);
  return u16(hi) + u32(n - hi * 4294967296);
}

export function readU48(s: string, at: number): number {
  return readU16(s, at) * 4294967296 + readU32(s, at + 2);
}
