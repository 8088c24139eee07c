// A record table's records in the shared binary layout (protocol/records.ts), for the answers
// and blocks that carry them (extraction, sealing): a function of the on-demand modules, not a
// RecordTable method, because each method of the resident core costs variables for as long as
// the image runs.
import { encodeRecord } from '../../protocol/record-codec.ts';
import { RecordTable, WORDS } from '../core/table.ts';

/** Records [from, from+n) of table `t` (fewer past its end), 24 bytes each. */
export function encodeRecords(t: RecordTable, from: number, n: number): string {
  var out = '';
  var w = t.words;
  for (var i = from, at = i * WORDS; i < from + n && i < t.count; i++, at += WORDS)
    out += encodeRecord({ customer: w[at], category: w[at + 1] >>> 8, weightBand: w[at + 1] & 0xff, postage: w[at + 2], pieces: w[at + 3], amount: w[at + 4], weight: w[at + 5] });
  return out;
}
