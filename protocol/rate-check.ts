// Validating a rate table's bytes: a file of its own, apart from rates.ts, because the PSD
// checks a table only when it is installed (on-demand modules) while its resident core reads
// tables on every piece (the build puts a whole file where its first user is).
import { readU16, readU32 } from './bytes.ts';
import { MAX_CATEGORIES, weightBandLimits } from './records.ts';
import { RATE_HEAD_BYTES, RATE_ENTRY_BYTES, MAX_RATE_ENTRIES, ANY_BAND } from './rates.ts';

/** Why these bytes are not a rate table, or '' when they are one. */
export function rateTableProblem(b: string): string {
  if (b.length < RATE_HEAD_BYTES) return 'shorter than its head';
  var n = b.charCodeAt(6);
  if (n > MAX_RATE_ENTRIES) return 'more than ' + MAX_RATE_ENTRIES + ' entries';
  if (b.length !== RATE_HEAD_BYTES + n * RATE_ENTRY_BYTES) return 'length does not match its ' + n + ' entries';
  if (readU16(b, 0) < 1) return 'version 0';
  var bands = weightBandLimits().length;
  for (var i = 0; i < n; i++) {
    var at = RATE_HEAD_BYTES + i * RATE_ENTRY_BYTES;
    var category = b.charCodeAt(at);
    var band = b.charCodeAt(at + 1);
    if (category >= MAX_CATEGORIES) return 'entry ' + i + ': category ' + category;
    if (band !== ANY_BAND && band >= bands) return 'entry ' + i + ': weight band ' + band;
    if (readU32(b, at + 2) < 1) return 'entry ' + i + ': postage 0';
  }
  return '';
}
