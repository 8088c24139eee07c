// Rate tables: the postage of each (category, weight band), pushed by the data center ahead of a
// price change and switched on their effective date. The PSD computes a piece's postage itself
// from the table in force and refuses a host-declared postage that differs; a category the
// table does not list is manual (the host declares its postage). ES5-safe: the firmware uses it.
//
// Encoding (what the PSS sends inside a secure session, hex, and the PSD keeps in its journal):
//   offset size  field
//   0      2     version (1..65535, rising)
//   2      4     effective from, seconds since 1970 (UTC)
//   6      1     entry count n (0..MAX_RATE_ENTRIES)
//   7      6n    entries: category u8 | weight band u8 (ANY_BAND: every band) | postage u32 (minor units, >= 1)
// The session authenticates it (only the data center can send it); the PSD checks the shape.
import { u16, u32, readU16, readU32 } from './bytes.ts';
import { MAX_CATEGORIES, weightBandLimits } from './records.ts';

export var RATE_HEAD_BYTES = 7;
export var RATE_ENTRY_BYTES = 6;
/** Most entries a table holds (its hex rides in one session message). */
export var MAX_RATE_ENTRIES = 64;
/** An entry for every weight band of its category. */
export var ANY_BAND = 255;

export interface RateEntry {
  category: number;
  /** index into weightBandLimits(), or ANY_BAND */
  band: number;
  postage: number;
}

export interface RateTable {
  version: number;
  /** seconds since 1970 */
  effective: number;
  entries: RateEntry[];
}

export function encodeRates(t: RateTable): string {
  var out = u16(t.version) + u32(t.effective) + String.fromCharCode(t.entries.length);
  for (var i = 0; i < t.entries.length; i++) out += String.fromCharCode(t.entries[i].category, t.entries[i].band) + u32(t.entries[i].postage);
  return out;
}

export function rateVersion(b: string): number {
  return readU16(b, 0);
}

export function rateEffective(b: string): number {
  return readU32(b, 2);
}

/** The postage a table lists for (category, band): its own band's entry, else its ANY_BAND
 * entry; -1 when the category is manual (not listed). */
export function listedPostage(b: string, category: number, band: number): number {
  var any = -1;
  for (var at = RATE_HEAD_BYTES; at + RATE_ENTRY_BYTES <= b.length; at += RATE_ENTRY_BYTES) {
    if (b.charCodeAt(at) !== category) continue;
    if (b.charCodeAt(at + 1) === band) return readU32(b, at + 2);
    if (b.charCodeAt(at + 1) === ANY_BAND) any = readU32(b, at + 2);
  }
  return any;
}

/** Of the tables a PSD holds (encoded, oldest first), the one in force at `now` (seconds): the
 * newest whose effective date has come; '' when none has. */
export function tableInForce(tables: string[], now: number): string {
  var best = '';
  for (var i = 0; i < tables.length; i++) if (now && rateEffective(tables[i]) <= now && (!best || rateVersion(tables[i]) > rateVersion(best))) best = tables[i];
  return best;
}
