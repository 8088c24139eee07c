// On-demand module psd.seal (firmware/core/modules.ts): sealing the statistics into a block
// for the data center, reading it out, its confirmation (only then are the records freed),
// and the sealing of records kept on the host (claim 10). Once a day or so: loaded then.
import { Command, RECORDS_PER_FRAME } from '../../protocol/commands.ts';
import { Entry } from '../core/entries.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { toHex, u32, readU16 } from '../../protocol/bytes.ts';
import { RECORD_BYTES, MAX_U32, MAX_CATEGORIES, MIXED_BAND, weightBandLimits } from '../../protocol/records.ts';
import { decodeRecord } from '../../protocol/record-codec.ts';
import { RecordTable, WORDS } from '../core/table.ts';
import { encodeRecords } from './table-records.ts';
import { BlockHead, encodeBlockHead, digestStart, digestSegment, sealMessage, confirmMessage, SEAL_HMAC, SEAL_ED25519, DIGEST_SEGMENT_RECORDS } from '../../protocol/block.ts';
import { hmac } from '../../protocol/hmac.ts';
import { sameBytes } from '../../protocol/same-bytes.ts';
import { pieceChainStart } from '../../protocol/piece-chain.ts';
import { fail } from '../core/device.ts';
import { integer } from '../core/args.ts';
import { hexBytes } from './hexarg.ts';
import { Ledger, Sealed, Need } from '../core/ledger.ts';
import { type Psd, registers } from '../core/psd.ts';
import { applySeal, applyConfirm, sealWithDeviceKey } from './sealing.ts';
import { contact } from './contact.ts';
import type { Received, SealRequest } from '../../protocol/bodies.ts';
import { event } from './events.ts';
import { AuditEvent } from '../../protocol/audit.ts';


/** Distinct customers of a table's records [0, n), ascending. */
function customers(t: RecordTable, n: number): number[] {
  var out: number[] = [];
  for (var at = 0; at < n * WORDS; at += WORDS) if (out.indexOf(t.words[at]) < 0) out.push(t.words[at]);
  return out.sort(function (a, b) {
    return a - b;
  });
}

/** head bytes per answer: small enough to travel inside a session message too */
var HEAD_PAGE = 128;

// a block's head grows with its customers: it is read in pages, like the records
function sealedInfo(x: Sealed) {
  return { seq: x.seq, headBytes: x.head.length, recordCount: readU16(x.head, BlockHead.RECORD_COUNT), digest: toHex(x.digest), seal: toHex(x.seal), state: 'sent' };
}

/** Answers one request of the commands above (psd.ts routes them here). */
export function handle(psd: Psd, type: number, req: Received<SealRequest>): any {
  var ledger = psd.ledger;
  switch (type) {
    case Command.STATS_EXTRACT:
      var r = extract(ledger);
      var info: any = sealedInfo(r.sealed);
      info.fresh = r.fresh;
      return info;
    case Command.BLOCK_READ:
      var seq = integer(req.seq, 'seq', 1, MAX_U32);
      var x = ledger.sealed;
      if (!x || x.seq !== seq) fail(ErrorCode.NO_BLOCK, x ? 'block ' + x.seq + ' awaits confirmation' : 'no block awaits confirmation');
      if (req.headFrom !== undefined) {
        var at = integer(req.headFrom, 'headFrom', 0, x!.head.length);
        return { seq: x!.seq, headFrom: at, headBytes: x!.head.length, head: toHex(x!.head.substr(at, HEAD_PAGE)) };
      }
      var n = ledger.flash.frozen;
      var from = integer(req.from === undefined ? 0 : req.from, 'from', 0, n);
      var max = integer(req.count === undefined ? RECORDS_PER_FRAME : req.count, 'count', 1, RECORDS_PER_FRAME);
      var records: string[] = [];
      for (var i = from; i < n && records.length < max; i++) records.push(toHex(encodeRecords(ledger.flash, i, 1)));
      return { seq: x!.seq, from: from, total: n, records: records };
    // claim 10: the host's records pass through the PSD only to be sealed
    case Command.HOST_SEAL_BEGIN:
      var customers = req.customers;
      if (!(customers instanceof Array) || customers.length > 200) fail(ErrorCode.BAD_ARGUMENT, 'customers must be a list of at most 200');
      for (var c = 0; c < customers.length; c++) integer(customers[c], 'customer', 1, MAX_U32);
      beginHostSeal(ledger, integer(req.records, 'records', 0, 65535), customers);
      return { seq: ledger.blockSeq + 1 };
    case Command.HOST_SEAL_RECORDS:
      var list = req.records;
      if (!(list instanceof Array) || list.length > RECORDS_PER_FRAME) fail(ErrorCode.BAD_ARGUMENT, 'records must be a list of at most ' + RECORDS_PER_FRAME);
      var bytes: string[] = [];
      for (var k = 0; k < list.length; k++) bytes.push(hexBytes(list[k], 'record', 24));
      hostSealRecords(ledger, integer(req.from, 'from', 0, 65535), bytes);
      return { received: ledger.hostSeal ? ledger.hostSeal.received : 0 };
    case Command.HOST_SEAL_END:
      return sealedInfo(endHostSeal(ledger));
    case Command.CONFIRM:
      var done = confirm(ledger, integer(req.seq, 'seq', 1, MAX_U32), hexBytes(req.mac, 'mac', 32));
      return { seq: done.seq, repeated: done.repeated, registers: registers(), records: ledger.flash.count };
  }
  fail(ErrorCode.UNKNOWN_COMMAND, '0x' + type.toString(16));
}

/** The header of the next block: the registers now, and since the last confirmed block; the
 * rate-table versions of its pieces, and their chain when the per-piece option is on (it was
 * on for all of them: it switches only between blocks). */
function nextBlockHeader(L: Ledger, time: number, recordCount: number, customers: number[]) {
  var from = L.blockFrom || time;
  var h: any = {
    algorithm: L.signKey ? SEAL_ED25519 : SEAL_HMAC,
    recordCount: recordCount,
    device: L.device,
    seq: L.blockSeq + 1,
    from: from,
    to: time > from ? time : from,
    ascending: L.ascending,
    descending: L.descending,
    pieces: L.pieces,
    previousAscending: L.releasedAmount,
    previousPieces: L.releasedPieces,
    fundsTotal: L.fundsTotal,
    customers: customers,
    rateOldest: L.rateOldest,
    rateNewest: L.rateNewest
  };
  if (L.config.perPiece) {
    h.chainPieces = L.pieces - L.releasedPieces;
    h.chain = L.chain || pieceChainStart(L.board.sha256, L.device, L.blockSeq + 1);
  }
  return h;
}

function beginHostSeal(L: Ledger, recordCount: number, customers: number[]): void {
  L.need(Need.PROVISIONED);
  if (!L.config.recordsOnHost) fail(ErrorCode.BAD_ARGUMENT, 'the records are on the PSD: extract them');
  if (L.sealed) fail(ErrorCode.PENDING_CONFIRMATION, 'block ' + L.sealed.seq + ' awaits confirmation');
  var time = L.need(Need.CLOCK);
  for (var i = 1; i < customers.length; i++) if (customers[i] <= customers[i - 1]) fail(ErrorCode.BAD_ARGUMENT, 'customers must be ascending and distinct');
  var header = nextBlockHeader(L, time, recordCount, customers);
  var head = encodeBlockHead(header);
  L.hostSeal = { header: header, head: head, digest: digestStart(L.board.sha256, head), received: 0, segment: '', pieces: 0, amount: 0, seen: [] };
}

/** Records from..from+n of the host's block: checked one by one and digested. */
function hostSealRecords(L: Ledger, from: number, records: string[]): void {
  var h = L.hostSeal;
  if (!h) fail(ErrorCode.BAD_ARGUMENT, 'begin the seal first');
  if (from !== h!.received || h!.received + records.length > h!.header.recordCount) fail(ErrorCode.BAD_ARGUMENT, 'records must follow on from ' + h!.received + ', ' + h!.header.recordCount + ' in all');
  var bands = weightBandLimits().length;
  for (var i = 0; i < records.length; i++) {
    if (records[i].length !== RECORD_BYTES) fail(ErrorCode.BAD_ARGUMENT, 'record ' + (from + i) + ' is not ' + RECORD_BYTES + ' bytes');
    var r = decodeRecord(records[i], 0);
    if (h!.header.customers.indexOf(r.customer) < 0) fail(ErrorCode.BAD_ARGUMENT, 'record ' + (from + i) + ': customer ' + r.customer + ' is not in the block');
    if (!r.pieces || r.category >= MAX_CATEGORIES || (r.weightBand !== MIXED_BAND && (r.weightBand >= bands || r.amount !== r.pieces * r.postage)))
      fail(ErrorCode.BAD_ARGUMENT, 'record ' + (from + i) + ' is malformed');
    if (h!.seen.indexOf(r.customer) < 0) h!.seen.push(r.customer);
    h!.pieces += r.pieces;
    h!.amount += r.amount;
    h!.segment += records[i];
    h!.received++;
    if (h!.segment.length === DIGEST_SEGMENT_RECORDS * RECORD_BYTES) {
      h!.digest = digestSegment(L.board.sha256, h!.digest, h!.segment);
      h!.segment = '';
    }
  }
}

/** Seals the host's records if they are complete and sum to the register movement. */
function endHostSeal(L: Ledger): Sealed {
  var h = L.hostSeal;
  if (!h) fail(ErrorCode.BAD_ARGUMENT, 'begin the seal first');
  L.hostSeal = null;
  var hd = h!.header;
  if (h!.received !== hd.recordCount) fail(ErrorCode.BAD_ARGUMENT, h!.received + ' of ' + hd.recordCount + ' records');
  if (h!.seen.length !== hd.customers.length) fail(ErrorCode.BAD_ARGUMENT, 'a customer of the block has no record');
  // the PSD's own books decide: the records must account for every piece since the last block
  if (hd.ascending !== L.ascending || hd.pieces !== L.pieces) fail(ErrorCode.BAD_ARGUMENT, 'pieces were franked during the seal; seal again');
  if (h!.pieces !== L.pieces - L.releasedPieces || h!.amount !== L.ascending - L.releasedAmount)
    fail(ErrorCode.INCONSISTENT, 'the records sum to ' + h!.pieces + ' pieces and ' + h!.amount + ', the registers moved ' + (L.pieces - L.releasedPieces) + ' pieces and ' + (L.ascending - L.releasedAmount));
  var digest = h!.segment ? digestSegment(L.board.sha256, h!.digest, h!.segment) : h!.digest;
  return commitSeal(L, h!.head, digest);
}

/** Seals every record into a block marked `sent` (flushing RAM first), or returns the
 * block already awaiting confirmation, so a lost extraction can be repeated. */
function extract(L: Ledger): { sealed: Sealed; fresh: boolean } {
  L.need(Need.PROVISIONED);
  if (L.sealed) return { sealed: L.sealed, fresh: false };
  if (L.config.recordsOnHost) fail(ErrorCode.BAD_ARGUMENT, 'the records are on the host: it seals them through the PSD');
  var time = L.need(Need.CLOCK);
  if (L.ram.count) {
    L.needRoom(L.flushLengths());
    L.flush();
  }
  var n = L.flash.count;
  var head = encodeBlockHead(nextBlockHeader(L, time, n, customers(L.flash, n)));
  // the digest chain reads the records a segment at a time: no whole block in RAM
  var sha = L.board.sha256;
  var digest = digestStart(sha, head);
  for (var i = 0; i < n; i += DIGEST_SEGMENT_RECORDS) digest = digestSegment(sha, digest, encodeRecords(L.flash, i, DIGEST_SEGMENT_RECORDS));
  return { sealed: commitSeal(L, head, digest), fresh: true };
}

/** Seals a block (head and digest made) and marks it sent: the journal's Entry.SEAL record. */
function commitSeal(L: Ledger, head: string, digest: string): Sealed {
  var data = head + digest + sealWithDeviceKey(L, sealMessage(digest));
  L.needRoom([data.length]);
  L.journal.append(Entry.SEAL, data);
  applySeal(L, data);
  return L.sealed!;
}


/** The delete-after-confirmation path: frees the sealed block's records once the data
 * center's confirmation of exactly that block authenticates. A repeated confirmation of
 * the last confirmed block is answered again and changes nothing. */
function confirm(L: Ledger, seq: number, mac: string): { seq: number; repeated: boolean } {
  L.need(0);
  var s = L.sealed;
  var digest = s && s.seq === seq ? s.digest : seq === L.confirmedSeq && seq ? L.confirmedDigest : '';
  if (!digest) fail(ErrorCode.NO_BLOCK, 'block ' + seq + (s ? '; block ' + s.seq + ' awaits confirmation' : '; no block awaits confirmation'));
  if (!sameBytes(hmac(L.board.sha256, L.deviceKey, confirmMessage(L.device, seq, digest)), mac)) fail(ErrorCode.AUTH, 'confirmation not from the data center');
  if (!s || s.seq !== seq) return { seq: seq, repeated: true };
  L.needRoom([4]);
  L.journal.append(Entry.CONFIRM, u32(seq));
  applyConfirm(L, seq);
  event(L, AuditEvent.UPLOAD, seq);
  contact(L, 0);
  return { seq: seq, repeated: false };
}
