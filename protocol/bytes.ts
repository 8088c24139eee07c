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

/**
 * JSON text with every char from 7f up escaped as \uXXXX (lowercase hex, one escape per UTF-16
 * unit), so the payload bytes are plain ASCII on every side. Espruino's JSON.stringify already
 * escapes them (uppercase hex), so there the native regex test finds nothing and the text is
 * returned as it is; the char loop only runs on text that has such chars (V8).
 */
export function asciiJson(value: unknown): string {
  var json: string = JSON.stringify(value);
  // undefined, a function: no JSON text (the regex version threw on .replace of undefined)
  if (typeof json !== 'string') throw new TypeError('no JSON text for a value of type ' + typeof value);
  // any char outside 00-7e (inside the regex subset; `[\u007f-\uffff]` is not: `\u` is the
  // letter u on Espruino); a literal per call, as in isHex
  if (!/[^\x00-\x7e]/.test(json)) return json;
  var out = '', from = 0;
  for (var i = 0; i < json.length; i++) {
    var c = json.charCodeAt(i);
    if (c >= 0x7f) {
      out += json.slice(from, i) + '\\u' + (c | 0x10000).toString(16).slice(1);
      from = i + 1;
    }
  }
  return out + json.slice(from);
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
