// Rarely used code lives in Storage files of its own (firmware/ondemand/, one Storage file
// each, built by tools/build.ts): loaded when a request needs it and dropped after, so its
// function objects cost interpreter variables only while it runs (Espruino keeps every
// function object in RAM even when its code stays in flash). What every piece needs
// (frame, franking, records, journal appends) stays resident.
import { Board } from '../board.ts';

/** Storage file names of the on-demand modules (at most 28 characters: JsfFileName). */
export var BOOT = 'psd.boot';
export var STORE = 'psd.store';
export var SEAL = 'psd.seal';
export var ADMIN = 'psd.admin';
export var SESSION = 'psd.session';
export var AUDIT = 'psd.audit';
export var BATCH = 'psd.batch';

/** Operations of the store module (firmware/ondemand/store.ts run, through Ledger.store): in the
 * image they become literals (rollup.config.js), so the table costs no variables. */
export var StoreOp = { CHECKPOINT: 1, FOLD: 2, TAMPER: 3 };

/** Runs fn with the module loaded, and drops the module after, whatever fn does. */
export function withModule(board: Board, name: string, fn: (module: any) => any): any {
  var m = board.load(name);
  var result;
  try {
    result = fn(m);
  } catch (e) {
    board.unload(name);
    throw e;
  }
  board.unload(name);
  return result;
}
