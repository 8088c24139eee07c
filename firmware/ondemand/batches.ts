// What the batch module and STATUS share about the open batch (a chunk of its own: psd.xbatches).
import { Ledger } from '../core/ledger.ts';

/** The modes by number (ledger-entries.ts MODE_SINGLE, MODE_DYNAMIC, MODE_BATCH), as answers
 * name them; here, not in the resident core, where the array would hold 9 variables for good */
var MODE_NAMES = ['', 'single', 'dynamic', 'batch'];

/** The open batch as answers show it ({txn, customer, mode name, category, weight, postage,
 * pieces, startedAt}), or null. */
export function batchInfo(L: Ledger): any {
  var b = L.batch;
  return b ? { txn: b.txn, customer: b.customer, mode: MODE_NAMES[b.mode], category: b.category, weight: b.weight, postage: b.postage, pieces: b.pieces, startedAt: b.startedAt } : null;
}
