// The indicium: what is printed on each piece, authenticated by the PSD.
//
//   offset size  field
//   0      1     layout version (1); | 0x80 on a test imprint (not postage: counted apart, never charged)
//   1      4     device number
//   5      2     date, days since 1970-01-01 (UTC)
//   7      4     postage, minor units
//   11     6     ascending register after this piece
//   17     6     descending register after this piece
//   23     4     piece number (the piece counter after this piece)
//   27     1     category
//   28     4     customer number
//   32     8     MAC: HMAC-SHA256(device key, bytes 0..31), first 8 bytes
import { u16, u32, u48, readU16, readU32, readU48 } from './bytes.ts';

export var INDICIUM_VERSION = 1;
export var INDICIUM_BODY_BYTES = 32;
export var INDICIUM_MAC_BYTES = 8;
/** set in the version byte of a test imprint */
export var INDICIUM_TEST_FLAG = 0x80;
export var INDICIUM_BYTES = INDICIUM_BODY_BYTES + INDICIUM_MAC_BYTES;

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
}

export function indiciumBody(f: IndiciumFields): string {
  return String.fromCharCode(f.test ? INDICIUM_VERSION | INDICIUM_TEST_FLAG : INDICIUM_VERSION) + u32(f.device) + u16(f.day) + u32(f.postage) + u48(f.ascending) + u48(f.descending) + u32(f.piece) + String.fromCharCode(f.category) + u32(f.customer);
}

export function parseIndicium(bytes: string): IndiciumFields & { version: number; mac: string } {
  return {
    version: bytes.charCodeAt(0) & ~INDICIUM_TEST_FLAG,
    test: (bytes.charCodeAt(0) & INDICIUM_TEST_FLAG) !== 0,
    device: readU32(bytes, 1),
    day: readU16(bytes, 5),
    postage: readU32(bytes, 7),
    ascending: readU48(bytes, 11),
    descending: readU48(bytes, 17),
    piece: readU32(bytes, 23),
    category: bytes.charCodeAt(27),
    customer: readU32(bytes, 28),
    mac: bytes.substr(INDICIUM_BODY_BYTES, INDICIUM_MAC_BYTES)
  };
}
