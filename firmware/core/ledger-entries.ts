// The ledger's entry types and layouts (firmware/core/ledger.ts): journal chunk and record
// sizes, the franking modes, configuration, sealed block, batch, franking commit and lock, and
// the FRANK record's encoding.
import type { DeviceConfig } from '../../protocol/answers.ts';
import { u16, u32, u48, readU16, readU32, readU48 } from '../../protocol/bytes.ts';

/** Records per TABLE/FLUSH_CHUNK journal record of 24-byte records (journals from before the packed form: firmware/core/table.ts) */
export var CHUNK_RECORDS = 32;
export var FRANK_BYTES = 36;
/** Upper bound of the JSON STATE record (the worst case measures 899 bytes: every number at
 * its maximum, the contact watchdog's five times and four rules included; test/psd-storage.test.ts
 * checks it). Reserved twice in the flash. Measured before the contact fields (worst case 790):
 * 820 here let a Bangle.js 2 reach a journal it could not checkpoint out of on day 13 of the
 * capacity bench (850: day 84), so the slack of 50 stays. */
export var STATE_BYTES = 950;
/** ... and the signing key's hex where the board signs */
export var SIGN_KEY_STATE_BYTES = 140;

/** What Ledger.need checks besides a writable device (bits; the build writes them as numbers) */
export var Need = { PROVISIONED: 1, CLOCK: 2, CONTACT: 4 };

export var MODE_SINGLE = 1;
export var MODE_DYNAMIC = 2;
export var MODE_BATCH = 3;

/** The device's settings (protocol/answers.ts DeviceConfig: CONFIG answers them as they are). */
export type Config = DeviceConfig;

/** The device's running time is written to the journal this often, seconds; a power cycle
 * counts as this much running time, so cutting the power can never stop the count. */
export var ELAPSED_PERIOD_S = 3600;

/** A block sealed and marked `sent`, awaiting confirmation. */
export interface Sealed {
  seq: number;
  head: string;
  digest: string;
  seal: string;
}

export interface Batch {
  txn: number;
  customer: number;
  mode: number;
  category: number;
  weight: number;
  postage: number;
  pieces: number;
  startedAt: number;
}

/** The last FRANK commit: enough to answer its retransmission and regenerate its indicia. */
export interface FrankCommit {
  id: number;
  customer: number;
  category: number;
  band: number;
  mode: number;
  weight: number;
  postage: number;
  count: number;
  /** piece counter before this commit */
  firstPiece: number;
  /** registers before this commit */
  ascending: number;
  descending: number;
  /** seconds since 1970 */
  time: number;
  /** a test imprint: counted in testPieces only, moves no register and no record */
  test: boolean;
  /** the rate-table version that priced these pieces (0: the host declared the postage) */
  rate: number;
  /** the per-piece chain after these pieces (32 bytes), '' when the option is off */
  chain: string;
}

export interface Lock {
  code: number;
  detail: string;
}

export function defaultConfig(): Config {
  // contact: the IBI era's 90 days warning / 120 days lock-out; clock: a day back for drift,
  // a week forward for forward dating (README: the postal rules and whose practice each follows)
  return { flushPeriodS: 86400, flushEveryPieces: 255, lowStoragePct: 20, lockUntilConfirmed: false, foldWhenFull: true, recordsOnHost: false, contactWarnS: 7776000, contactLockS: 10368000, clockBackS: 86400, clockForwardS: 604800, perPiece: false };
}

// FRANK record: id u32 | customer u32 | category u8 | band u8 | mode u8 | 1 test imprint, else 0 | weight u32 |
// postage u32 | count u16 | piece counter before u32 | time u32 (seconds) | AR before u48.
// The descending register before is not stored: replay knows it. Then, only when there is one
// (FRANK_BYTES alone otherwise): rate-table version u16 | per-piece chain after (32 bytes, if on).
//
// The short form (12 bytes, 14 with a rate version), written when the commit follows `prev`,
// the commit before it, closely enough: the FRANK record is most of what wears the flash (a
// dynamic-mode piece each), and most of it repeats the commit before or the registers.
//   id - prev id u8 (1..255) | category u8 | band u8 | mode | 4 test imprint | 8 rate follows u8 |
//   count u16 | weight u16 | postage u24 | time - prev time u8 (s) | rate-table version u16, if flagged
// The customer is prev's; the piece counter and AR before are the registers as they stand (replay
// brings them there). Only prev's id, customer and time are used: the 36-byte form a checkpoint
// keeps of the last commit holds them. No short form with a per-piece chain.
export function encodeFrank(f: FrankCommit, prev?: FrankCommit | null): string {
  var di = prev ? f.id - prev.id : 0;
  var dt = prev ? f.time - prev.time : -1;
  if (prev && di > 0 && di < 256 && f.customer === prev.customer && dt >= 0 && dt < 256 && f.count < 65536 && f.weight < 65536 && f.postage < 16777216 && !f.chain)
    return String.fromCharCode(di, f.category, f.band, f.mode | (f.test ? 4 : 0) | (f.rate ? 8 : 0)) + u16(f.count) + u16(f.weight) + String.fromCharCode(f.postage >>> 16) + u16(f.postage & 0xffff) + String.fromCharCode(dt) + (f.rate ? u16(f.rate) : '');
  var out = u32(f.id) + u32(f.customer) + String.fromCharCode(f.category, f.band, f.mode, f.test ? 1 : 0) + u32(f.weight) + u32(f.postage) + u16(f.count) + u32(f.firstPiece) + u32(f.time) + u48(f.ascending);
  return f.rate || f.chain ? out + u16(f.rate) + f.chain : out;
}

/** A FRANK record back to its commit; the short form needs the commit before it (`prev`) and
 * the registers before it (`piecesBefore`, `arBefore`). The descending register is left 0: the
 * caller knows it. */
export function decodeFrank(d: string, prev?: FrankCommit | null, piecesBefore?: number, arBefore?: number): FrankCommit {
  if (d.length < FRANK_BYTES) {
    if (!prev) throw new Error('short FRANK record without the commit before it');
    var flags = d.charCodeAt(3);
    return { id: prev.id + d.charCodeAt(0), customer: prev.customer, category: d.charCodeAt(1), band: d.charCodeAt(2), mode: flags & 3, weight: readU16(d, 6), postage: d.charCodeAt(8) * 65536 + readU16(d, 9), count: readU16(d, 4), firstPiece: piecesBefore!, time: prev.time + d.charCodeAt(11), ascending: arBefore!, descending: 0, test: (flags & 4) > 0, rate: flags & 8 ? readU16(d, 12) : 0, chain: '' };
  }
  var ascending = readU48(d, 30);
  var count = readU16(d, 20);
  return {
    id: readU32(d, 0),
    customer: readU32(d, 4),
    category: d.charCodeAt(8),
    band: d.charCodeAt(9),
    mode: d.charCodeAt(10),
    weight: readU32(d, 12),
    postage: readU32(d, 16),
    count: count,
    firstPiece: readU32(d, 22),
    time: readU32(d, 26),
    ascending: ascending,
    descending: 0,
    test: d.charCodeAt(11) === 1,
    rate: d.length > FRANK_BYTES ? readU16(d, FRANK_BYTES) : 0,
    chain: d.substr(FRANK_BYTES + 2)
  };
}
