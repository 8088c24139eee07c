// On-demand module psd.batch (firmware/core/modules.ts): opening and closing a batch or a
// dynamic-mode transaction (BATCH_START, BATCH_END). Once per batch, not per piece: franking
// inside the batch stays resident (firmware/core/psd.ts).
import { Command } from '../../protocol/commands.ts';
import { Entry } from '../core/entries.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { MAX_CATEGORIES, MAX_WEIGHT_G, MAX_U32, weightBand } from '../../protocol/records.ts';
import { fail } from '../core/device.ts';
import { integer } from '../core/args.ts';
import { Ledger, Batch, MODE_BATCH, MODE_DYNAMIC, Need } from '../core/ledger.ts';
import { type Psd, registers, tariff } from '../core/psd.ts';
import { batchInfo } from './batches.ts';
import { u16, u32, u48 } from '../../protocol/bytes.ts';

/** Answers BATCH_START ({batch, registers, txn}) and BATCH_END ({txn, pieces, flushed, registers}). */
export function handle(psd: Psd, type: number, req: any): any {
  var L = psd.ledger;
  if (type === Command.BATCH_START) {
    var mode = req.mode === 'batch' ? MODE_BATCH : req.mode === 'dynamic' ? MODE_DYNAMIC : fail(ErrorCode.BAD_ARGUMENT, "mode must be 'batch' or 'dynamic'");
    var customer = integer(req.customer, 'customer', 1, MAX_U32);
    var fixed = mode === MODE_BATCH;
    var started = startBatch(L, {
      customer: customer,
      mode: mode,
      category: fixed ? integer(req.category, 'category', 0, MAX_CATEGORIES - 1) : 0,
      weight: fixed ? integer(req.weight, 'weight', 1, MAX_WEIGHT_G) : 0,
      postage: fixed ? tariff(req.category, weightBand(req.weight), req.postage) : 0
    });
    return { batch: batchInfo(L), registers: registers(), txn: started.txn };
  }
  if (type === Command.BATCH_END) {
    var ended = endBatch(L);
    return { txn: ended.batch.txn, pieces: ended.batch.pieces, flushed: ended.flushed, registers: registers() };
  }
  fail(ErrorCode.UNKNOWN_COMMAND, '0x' + type.toString(16));
}

function startBatch(L: Ledger, b: { customer: number; mode: number; category: number; weight: number; postage: number }): Batch {
  L.need(Need.PROVISIONED);
  if (L.batch) fail(ErrorCode.BATCH_OPEN, 'transaction ' + L.batch.txn);
  var time = L.need(Need.CLOCK | Need.CONTACT);
  var batch: Batch = { txn: L.txnCounter + 1, customer: b.customer, mode: b.mode, category: b.category, weight: b.weight, postage: b.postage, pieces: 0, startedAt: time };
  // the start record carries the registers, so the batch can be audited whatever follows
  // (binary, firmware/core/entries.ts BATCH_OPEN: a JSON one was 4 times the bytes, once a batch)
  var data = u32(batch.txn) + u32(batch.customer) + String.fromCharCode(batch.mode, batch.category) + u16(batch.weight) + u32(batch.postage) + u32(time) + u48(L.ascending) + u48(L.descending) + u32(L.pieces);
  L.needRoom([data.length]);
  L.commit(Entry.BATCH_OPEN, data);
  return L.batch!;
}

function endBatch(L: Ledger): { batch: Batch; flushed: number } {
  L.need(0);
  if (!L.batch) fail(ErrorCode.NO_BATCH);
  var batch = L.batch!;
  // txn u32 | pieces u32 | time u32 (s)
  var data = u32(batch.txn) + u32(batch.pieces) + u32(L.seconds());
  L.needRoom([data.length]);
  L.commit(Entry.BATCH_END, data);
  return { batch: batch, flushed: L.flush() };
}
