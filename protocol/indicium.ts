// The indicium: what is printed on each piece, authenticated by the PSD.
//
//   offset size  field
//   0      1     layout version (2); | 0x80 on a test imprint (not postage: counted apart, never charged)
//   1      4     device number
//   5      2     date, days since 1970-01-01 (UTC)
//   7      4     postage, minor units
//   11     6     ascending register after this piece
//   17     6     descending register after this piece
//   23     4     piece number (the piece counter after this piece)
//   27     1     category
//   28     4     customer number
//   32     2     rate-table version that priced the piece (0: the host declared the postage)
//   34     8     MAC: HMAC-SHA256(device key, bytes 0..33), first 8 bytes
//
// Layout version 1 (PSDs built before 2026-11-30) had no rate-table version: 40 bytes, the MAC
// over bytes 0..31 at 32. The data center and the host still read it; the PSD writes version 2.
import { u16, u32, u48, readU16, readU32, readU48 } from './bytes.ts';

export var INDICIUM_VERSION = 2;
export var INDICIUM_BODY_BYTES = 34;
export var INDICIUM_MAC_BYTES = 8;
/** set in the version byte of a test imprint */
export var INDICIUM_TEST_FLAG = 0x80;
export var INDICIUM_BYTES = INDICIUM_BODY_BYTES + INDICIUM_MAC_BYTES;
/** the versions a reader knows, and each one's body length (the MAC follows the body) */
export var INDICIUM_BODY_BYTES_OF: { [version: number]: number } = { 1: 32, 2: 34 };

export interface IndiciumFields {
  device: number;
  day: number;
  postage: number;
  ascending: number;
  descending: number;
  piece: number;
  category: number;
  customer: number;
  /** a test imprint (postage 0, piece 0): marked in the version byte */
  test?: boolean;
  /** the rate-table version that priced the piece; 0 when the host declared the postage
   * (absent in a layout-1 indicium, which did not carry it) */
  rateVersion?: number;
}

export function indiciumBody(f: IndiciumFields): string {
  return String.fromCharCode(f.test ? INDICIUM_VERSION | INDICIUM_TEST_FLAG : INDICIUM_VERSION) + u32(f.device) + u16(f.day) + u32(f.postage) + u48(f.ascending) + u48(f.descending) + u32(f.piece) + String.fromCharCode(f.category) + u32(f.customer) + u16(f.rateVersion || 0);
}

/** The layout version in an indicium's first byte (the test flag cleared). */
export function indiciumVersion(bytes: string): number {
  return bytes.charCodeAt(0) & ~INDICIUM_TEST_FLAG;
}

/** Bytes of an indicium of that layout version, or -1 for a version this reader does not know. */
export function indiciumBytesOf(version: number): number {
  var body = INDICIUM_BODY_BYTES_OF[version];
  return body === undefined ? -1 : body + INDICIUM_MAC_BYTES;
}

/** The fields of an indicium of a known layout version (check its length first: indiciumBytesOf). */
export function parseIndicium(bytes: string): IndiciumFields & { version: number; mac: string } {
  var version = indiciumVersion(bytes);
  var body = INDICIUM_BODY_BYTES_OF[version] || INDICIUM_BODY_BYTES;
  var f: IndiciumFields & { version: number; mac: string } = {
    version: version,
    test: (bytes.charCodeAt(0) & INDICIUM_TEST_FLAG) !== 0,
    device: readU32(bytes, 1),
    day: readU16(bytes, 5),
    postage: readU32(bytes, 7),
    ascending: readU48(bytes, 11),
    descending: readU48(bytes, 17),
    piece: readU32(bytes, 23),
    category: bytes.charCodeAt(27),
    customer: readU32(bytes, 28),
    mac: bytes.substr(body, INDICIUM_MAC_BYTES)
  };
  if (version >= 2) f.rateVersion = readU16(bytes, 32);
  return f;
}
