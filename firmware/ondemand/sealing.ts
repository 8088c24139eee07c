// A block's seal and its confirmation as the ledger applies them: live in the seal module,
// at replay in the boot module (shared by both, loaded with either: tools/build.ts).
import { Ledger } from '../core/ledger.ts';
import { RecordTable, WORDS } from '../core/table.ts';
import { hmac } from '../../protocol/hmac.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { fail } from '../core/device.ts';
import { readU16, readU32, readU48 } from '../../protocol/bytes.ts';
import { blockHeadBytes, BlockHead } from '../../protocol/block.ts';

/** A block sealed: all flash records so far are its records, frozen until confirmed.
 * (Also replayed inside a checkpoint, between the frozen and the open records.) */
export function applySeal(L: Ledger, d: string): void {
  var headLength = blockHeadBytes(readU16(d, BlockHead.CUSTOMER_COUNT), d.charCodeAt(BlockHead.FLAGS));
  var head = d.substr(0, headLength);
  var seq = readU32(head, BlockHead.SEQ);
  if ((!L.config.recordsOnHost && readU16(head, BlockHead.RECORD_COUNT) !== L.flash.count) || L.ram.count) throw new Error('sealed block ' + seq + ' does not hold the flash records');
  L.flash.frozen = L.flash.count;
  L.sealed = { seq: seq, head: head, digest: d.substr(headLength, 32), seal: d.substr(headLength + 32) };
  L.blockSeq = seq;
  L.blockFrom = readU32(head, BlockHead.TO);
  // the next block's pieces start afresh (a checkpoint's CHAIN entry, after its SEAL, restores them)
  L.rateOldest = L.rateNewest = 0;
  L.chain = '';
}

/** Removes a table's frozen records (their block was confirmed); the rest move to the front. */
function dropFrozen(t: RecordTable): void {
  var n = t.frozen * WORDS;
  var w = t.words;
  // a plain forward copy: overlapping typed-array set() is not something to trust on Espruino
  for (var at = 0; at + n < t.count * WORDS; at++) w[at] = w[at + n];
  w.fill(0, (t.count - t.frozen) * WORDS);
  t.count -= t.frozen;
  t.frozen = 0;
  t.size(t.count);
}

/** The data center confirmed the sealed block: its records are freed. */
export function applyConfirm(L: Ledger, seq: number): void {
  var s = L.sealed;
  if (!s || s.seq !== seq) throw new Error('confirmation of block ' + seq + ' that is not awaiting one');
  // confirmed: everything up to the seal (the registers in its head)
  L.releasedPieces = readU32(s.head, BlockHead.PIECES);
  L.releasedAmount = readU48(s.head, BlockHead.ASCENDING);
  dropFrozen(L.flash);
  L.confirmedSeq = seq;
  L.confirmedDigest = s.digest;
  L.sealed = null;
}

/** HMAC-SHA256 of `message` under the device key, or an Ed25519 signature where the board
 * signs (after its known-answer test, once per boot: it takes seconds on a board). The seal of
 * a block (seal.ts) and of an audit (audit.ts), each over its own domain's message. */
export function sealWithDeviceKey(L: Ledger, message: string): string {
  var ed = L.board.ed25519;
  if (!L.signKey || !ed) return hmac(L.board.sha256, L.deviceKey, message);
  if (!L.signTested) {
    var failed = ed.selfTest();
    if (failed) {
      L.lock = { code: ErrorCode.SELF_TEST, detail: failed };
      fail(ErrorCode.SELF_TEST, failed);
    }
    L.signTested = true;
  }
  return ed.sign(message, L.signKey);
}
