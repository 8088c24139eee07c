// Byte strings (protocol/bytes.ts: chars 0..255) <-> Uint8Array for the Node libraries, and
// checks of hex text that arrives from the network.
export function toBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

export function fromBytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Even-length hex of at most maxBytes bytes (exactly `bytes` when given). */
export function isHex(v: unknown, bytes?: number, maxBytes = Infinity): v is string {
  if (typeof v !== 'string' || v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) return false;
  if (bytes !== undefined && v.length !== bytes * 2) return false;
  return v.length / 2 <= maxBytes;
}

export function hexToString(h: string): string {
  return Buffer.from(h, 'hex').toString('latin1');
}

export function stringToHex(s: string): string {
  return Buffer.from(s, 'latin1').toString('hex');
}
