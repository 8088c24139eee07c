// On-demand module psd.store (firmware/core/modules.ts): reclaiming flash. A checkpoint
// writes the whole live state anew (once a journal page fills), folding merges a customer's
// records of one category when the tables or the flash would fill, and the tamper response
// erases the keys from flash. Rare by nature, so their code is loaded only then.
import { CKPT_BEGIN, CKPT_END } from '../core/journal.ts';
import { Entry } from '../core/entries.ts';
import { nextPage, eraseDead, freeBytes } from './pages.ts';
import { Ledger, encodeFrank, FRANK_BYTES, Need } from '../core/ledger.ts';
import { RecordTable, WORDS } from '../core/table.ts';
import { MIXED_BAND } from '../../protocol/records.ts';
import { u16, u32, toHex } from '../../protocol/bytes.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { LogEvent } from '../../protocol/log.ts';
import { fail } from '../core/device.ts';
import { StoreOp } from '../core/modules.ts';
import { applyWithdraw } from './contact.ts';
import { event } from './events.ts';
import { AuditEvent } from '../../protocol/audit.ts';

/** What Ledger.store runs (firmware/core/modules.ts StoreOp): the module's one entry from the core. */
export function run(L: Ledger, op: number): any {
  if (op === StoreOp.CHECKPOINT) return checkpoint(L);
  if (op === StoreOp.FOLD) return foldOne(L);
  if (op === StoreOp.TAMPER) return tamper(L);
  throw new Error('no store operation ' + op);
}

/** Whether record i is one of zero-value pieces (postage 0, a real weight band): never folded. */
function zeroValue(t: RecordTable, i: number): boolean {
  return t.words[i * WORDS + 2] === 0 && (t.words[i * WORDS + 1] & 0xff) !== MIXED_BAND;
}

/** The open (customer, category) of a table with the most records (at least two), or null. */
function mostFragmented(t: RecordTable): { customer: number; category: number } | null {
  var best: { customer: number; category: number } | null = null;
  var bestCount = 1;
  var w = t.words;
  for (var i = t.frozen; i < t.count; i++) {
    // zero-value records are never folded (zeroValue above)
    if (zeroValue(t, i)) continue;
    var n = 0;
    for (var j = t.frozen; j < t.count; j++) if (w[j * WORDS] === w[i * WORDS] && w[j * WORDS + 1] >>> 8 === w[i * WORDS + 1] >>> 8 && !zeroValue(t, j)) n++;
    if (n > bestCount) {
      bestCount = n;
      best = { customer: w[i * WORDS], category: w[i * WORDS + 1] >>> 8 };
    }
  }
  return best;
}

export function snapshot(L: Ledger): any {
  var c = L.config;
  return {
    ar: L.ascending,
    dr: L.descending,
    pc: L.pieces,
    zc: L.zeroPieces,
    tc: L.testPieces,
    ft: L.fundsTotal,
    fc: L.fundsCounter,
    tx: L.txnCounter,
    dv: L.device,
    dk: toHex(L.deviceKey),
    kk: toHex(L.kmsKey),
    sk: toHex(L.signKey),
    tp: L.tampered,
    wd: L.withdrawn,
    kv: L.keyVersion,
    // the configuration as a list: the state is rewritten at every checkpoint, and its size
    // is reserved twice in the flash
    cf: [c.flushPeriodS, c.flushEveryPieces, c.lowStoragePct, c.lockUntilConfirmed, c.foldWhenFull, c.recordsOnHost, c.contactWarnS, c.contactLockS, c.clockBackS, c.clockForwardS, c.perPiece],
    // the running time and the last contact (the contact watchdog)
    el: L.elapsed(),
    ce: L.contactElapsed,
    cc: L.contactClock,
    tt: L.trustedTime,
    te: L.trustedElapsed,
    bt: L.batch,
    // the last commit in its 36-byte journal form: a third of its JSON (without its rate
    // version and chain: the CHAIN entry keeps those)
    ls: L.last ? toHex(encodeFrank(L.last).substr(0, FRANK_BYTES)) : '',
    ld: L.last ? L.last.descending : 0,
    lf: L.lastFlushAt,
    lt: L.lastTime,
    rp: L.releasedPieces,
    ra: L.releasedAmount,
    bs: L.blockSeq,
    bf: L.blockFrom,
    cs: L.confirmedSeq,
    cd: toHex(L.confirmedDigest)
  };
}

/** Writes the whole live state anew so the pages behind it can be reclaimed. */
export function checkpoint(L: Ledger): void {
  L.note(LogEvent.CHECKPOINT, L.flash.count + ' records, ' + freeBytes(L.journal) + ' B free before');
  if (L.ram.count) L.flush();
  L.journal.append(CKPT_BEGIN, '');
  L.journal.append(Entry.STATE, JSON.stringify(snapshot(L)));
  for (var r = 0; r < L.rates.length; r++) L.journal.append(Entry.RATES, L.rates[r]);
  if (L.events) L.journal.append(Entry.EVENTS, L.events);
  // sealed records, the seal, then the open records: replay freezes exactly the same ones
  var s = L.sealed;
  var frozen = L.flash.frozen;
  appendTable(L, 0, frozen);
  if (s) L.journal.append(Entry.SEAL, s.head + s.digest + s.seal);
  appendTable(L, frozen, L.flash.count);
  // after the SEAL, which starts the next block's afresh
  if (L.rateNewest || L.chain) L.journal.append(Entry.CHAIN, u16(L.rateOldest) + u16(L.rateNewest) + L.chain);
  L.journal.append(CKPT_END, '');
}

function appendTable(L: Ledger, from: number, to: number): void {
  for (var i = from; i < to; i = L.flash.next) L.journal.append(Entry.TABLE_PACKED, L.flash.pack(i, to));
}

/** Folds the most fragmented open (customer, category) into one summary record, if the
 * configuration allows it; false when there is nothing to fold. */
export function foldOne(L: Ledger): boolean {
  if (!L.config.foldWhenFull) return false;
  var f = mostFragmented(L.flash);
  if (!f || L.flash.fold(f.customer, f.category, true) < 0 || !L.journal.fits([5])) return false;
  L.commit(Entry.FOLD, u32(f.customer) + String.fromCharCode(f.category));
  L.note(LogEvent.FOLD, 'customer ' + f.customer + ' category ' + f.category);
  return true;
}

/** The tamper input fired: the keys are erased (in RAM at once, then from flash) and
 * franking is locked for good. The
 * registers and statistics stay, so the data center can still account for them. */
export function tamper(L: Ledger): void {
  if (L.tampered) return;
  L.note(LogEvent.TAMPER, 'keys erased, franking locked');
  L.deviceKey = L.kmsKey = L.signKey = '';
  L.tampered = true;
  L.lock = { code: ErrorCode.TAMPER, detail: '' };
  try {
    L.journal.append(Entry.TAMPER, '');
    event(L, AuditEvent.TAMPER, 0);
    keysOutOfFlash(L);
  } catch (e) {}
}

/** A checkpoint on a page of its own (two if the ring must turn first), then every other
 * page erased: no copy of a key stays in flash. */
function keysOutOfFlash(L: Ledger): void {
  checkpoint(L);
  if (nextPage(L.journal)) checkpoint(L);
  eraseDead(L.journal);
}

/** Withdrawal from service (the data center asks inside a session: firmware/ondemand/session.ts):
 * every piece must be in a confirmed block; the keys are erased from RAM and flash, the
 * registers stay for the final audit, and the device franks nothing any more. */
export function withdraw(L: Ledger): void {
  L.need(Need.PROVISIONED);
  if (L.batch) fail(ErrorCode.BATCH_OPEN, 'end batch ' + L.batch.txn + ' first');
  if (L.sealed) fail(ErrorCode.PENDING_CONFIRMATION, 'confirm block ' + L.sealed.seq + ' first');
  if (L.flash.count || L.ram.count || L.pieces !== L.releasedPieces) fail(ErrorCode.PENDING_CONFIRMATION, 'upload and confirm the statistics first');
  var data = JSON.stringify({ ar: L.ascending, dr: L.descending, pc: L.pieces });
  L.needRoom([data.length]);
  L.journal.append(Entry.WITHDRAW, data);
  applyWithdraw(L);
  L.note(LogEvent.LOCKED, 'withdrawn from service; keys erased');
  event(L, AuditEvent.WITHDRAW, 0);
  keysOutOfFlash(L);
}

