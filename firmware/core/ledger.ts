// The PSD's durable state: postal registers, batches, cumulative statistics in two tiers
// (RAM since the last flush, flash after it), configuration and keys; all rebuilt at boot by
// replaying the flash journal.
//
// Every change is written to the journal first and applied to RAM only after the write
// returned (`commit`), and the same `apply` runs at boot on the replayed journal, so what
// is in RAM is always what flash says. The RAM tier is therefore never lost: the per-piece
// FRANK records it is made of are in flash; a flush writes it out as summarised records
// (FLUSH chunks + FLUSH_END, checked against the FRANK records at replay) so that a
// checkpoint can then drop the per-piece records and reclaim their pages.
import { Journal, CKPT_BEGIN, CKPT_END, JournalEntry } from './journal.ts';
import { RecordTable } from './table.ts';
import { hmac, sameBytes } from './hmac.ts';
import { Board } from '../board.ts';
import { u16, u32, u48, readU16, readU32, readU48, toHex, fromHex, MAX_U48 } from '../../protocol/bytes.ts';
import { RECORD_BYTES, MAX_U32, MAX_CATEGORIES, MIXED_BAND, WEIGHT_BANDS_G, decodeRecord } from '../../protocol/records.ts';
import { indiciumBody, INDICIUM_MAC_BYTES } from '../../protocol/indicium.ts';
import { fundsMessage } from '../../protocol/auth.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { fail } from './device.ts';
import { encodeBlockHead, blockHeadBytes, digestStart, digestSegment, sealMessage, confirmMessage, SEAL_HMAC, SEAL_ED25519, DIGEST_SEGMENT_RECORDS } from '../../protocol/block.ts';

// Journal record types (the journal itself uses 1..15).
var T_STATE = 16;
var T_TABLE = 17;
var T_PROVISION = 20;
var T_FUNDS = 21;
var T_BATCH_START = 22;
var T_BATCH_END = 23;
var T_FRANK = 24;
var T_FLUSH_CHUNK = 25;
var T_FLUSH_END = 26;
var T_CONFIG = 28;
var T_REBOOT = 30;
var T_FLUSH_ABORT = 31;
var T_SEAL = 32;
var T_CONFIRM = 33;
var T_TAMPER = 34;
var T_FOLD = 35;
var T_REKEY = 36;

/** Records per FLUSH/TABLE journal record: small strings, frugal with variables. */
var CHUNK_RECORDS = 32;
var FRANK_BYTES = 36;
/** Upper bound of the JSON STATE record (the worst case measures 790 bytes: every number at
 * its maximum; test/psd-storage.test.ts checks it). Reserved twice in the flash. Measured:
 * 820 here lets a Bangle.js 2 reach a journal it cannot checkpoint out of on day 13 of the
 * capacity bench (850: day 84), so the slack stays. */
export var STATE_BYTES = 850;
/** ... and the signing key's hex where the board signs */
var SIGN_KEY_STATE_BYTES = 140;

export var MODE_SINGLE = 1;
export var MODE_DYNAMIC = 2;
export var MODE_BATCH = 3;

export interface Config {
  /** flush RAM records to flash at least this often, seconds */
  flushPeriodS: number;
  /** ... and every this many pieces */
  flushEveryPieces: number;
  /** storage-low flag below this percentage of free journal space */
  lowStoragePct: number;
  /** refuse franking while a sealed block awaits the data center's confirmation (the
   * seed's lock-out after extraction) */
  lockUntilConfirmed: boolean;
  /** when the record table or the flash would fill, fold a customer's records of one
   * category into a summary record (losing only their weight-band and postage breakdown)
   * instead of refusing to frank */
  foldWhenFull: boolean;
  /** the seed's alternative (claim 10): the host keeps the cumulative records and they pass
   * through the PSD only to be sealed; the PSD seals them only if they sum to its register
   * movement. Switched only while the PSD holds no records and no block awaits confirmation. */
  recordsOnHost: boolean;
}

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
}

export interface Lock {
  code: number;
  detail: string;
}

export function defaultConfig(): Config {
  return { flushPeriodS: 86400, flushEveryPieces: 255, lowStoragePct: 20, lockUntilConfirmed: false, foldWhenFull: true, recordsOnHost: false };
}

export class Ledger {
  ascending = 0;
  descending = 0;
  pieces = 0;
  fundsTotal = 0;
  fundsCounter = 0;
  txnCounter = 0;
  device = 0;
  deviceKey = '';
  kmsKey = '';
  /** how often the KMS replaced the device and KMS keys (0: the keys of provisioning) */
  keyVersion = 0;
  /** Ed25519 secret key (seed || public key) on boards that sign blocks; '' elsewhere */
  signKey = '';
  private signTested = false;
  /** the tamper input fired: keys erased, franking locked for good */
  tampered = false;
  config: Config = defaultConfig();
  batch: Batch | null = null;
  last: FrankCommit | null = null;
  lock: Lock | null = null;
  /** seconds: when RAM records were last flushed, and the latest time the journal saw */
  lastFlushAt = 0;
  lastTime = 0;
  piecesSinceFlush = 0;
  /** statistics already confirmed by the data center and released from flash: the
   * registers at the last confirmed block's sealing */
  releasedPieces = 0;
  releasedAmount = 0;
  /** the last block sealed (its number) and the start of the next block's time span */
  blockSeq = 0;
  blockFrom = 0;
  sealed: Sealed | null = null;
  /** the last confirmed block, so a repeated confirmation (its answer was lost) is answered */
  confirmedSeq = 0;
  confirmedDigest = '';
  flash: RecordTable;
  ram: RecordTable;
  /** FLUSH chunks seen at replay, applied at their FLUSH_END */
  private pendingChunks: string[] = [];
  /** the journal's last entry before this boot was a deliberate reboot */
  rebootedByCommand = false;
  journal: Journal;
  formatted = false;

  constructor(private board: Board, capacity: number) {
    this.flash = new RecordTable(capacity);
    this.ram = new RecordTable(capacity);
    this.journal = new Journal(board.flash, board.crc32);
  }

  // ---- boot ---------------------------------------------------------------------------

  /** Rebuilds the state from flash and checks it; locks instead of guessing. */
  boot(): void {
    var opened;
    try {
      opened = this.journal.open();
    } catch (e) {
      this.lock = { code: ErrorCode.STORAGE_CORRUPT, detail: ((e as any).message || e) };
      return;
    }
    if (opened.problems.length) {
      this.lock = { code: ErrorCode.STORAGE_CORRUPT, detail: opened.problems.join('; ') };
      return;
    }
    this.formatted = opened.formatted;
    var entries = opened.entries;
    try {
      for (var i = 0; i < entries.length; i++) this.apply(entries[i]);
    } catch (e) {
      this.lock = { code: ErrorCode.INCONSISTENT, detail: ((e as any).message || e) };
      return;
    }
    this.rebootedByCommand = entries.length > 0 && entries[entries.length - 1].type === T_REBOOT;
    // a flush cut before its end: its chunks are not statistics (the FRANK records still are)
    if (this.pendingChunks.length) {
      try {
        this.journal.append(T_FLUSH_ABORT, '');
        this.pendingChunks = [];
      } catch (e) {
        this.lock = { code: ErrorCode.STORAGE_FULL, detail: 'cannot close a cut flush' };
        return;
      }
    }
    if (this.tampered) {
      this.lock = { code: ErrorCode.TAMPER, detail: '' };
      return;
    }
    var problem = this.inconsistency();
    if (problem) this.lock = { code: ErrorCode.INCONSISTENT, detail: problem };
  }

  /** The invariants of the registers and the statistics, or null when they hold. */
  inconsistency(): string | null {
    if (this.ascending + this.descending !== this.fundsTotal) return 'AR + DR != funds loaded';
    // records on the host: the PSD checks their sums when it seals them
    if (this.config.recordsOnHost) return null;
    var f = this.flash.totals();
    var r = this.ram.totals();
    if (this.releasedPieces + f.pieces + r.pieces !== this.pieces) return 'records count ' + (this.releasedPieces + f.pieces + r.pieces) + ' pieces, counter says ' + this.pieces;
    if (this.releasedAmount + f.amount + r.amount !== this.ascending) return 'records sum to ' + (this.releasedAmount + f.amount + r.amount) + ', AR is ' + this.ascending;
    return null;
  }

  // ---- applying journal records (live and at replay) -----------------------------------

  private apply(e: JournalEntry): void {
    var d = e.data;
    switch (e.type) {
      case CKPT_BEGIN:
        this.reset();
        break;
      case T_STATE:
        this.restore(JSON.parse(d));
        break;
      case T_TABLE:
        this.flash.addEncoded(d);
        break;
      case T_PROVISION:
        var p = JSON.parse(d);
        this.device = p.device;
        this.deviceKey = p.deviceKey;
        this.kmsKey = p.kmsKey;
        this.signKey = fromHex(p.sk || '');
        break;
      case T_FUNDS:
        var amount = readU48(d, 4);
        this.fundsCounter = readU32(d, 0);
        this.descending += amount;
        this.fundsTotal += amount;
        break;
      case T_BATCH_START:
        var started = JSON.parse(d);
        // the start record also carries the registers (for audit); the live batch does not
        this.batch = { txn: started.txn, customer: started.customer, mode: started.mode, category: started.category, weight: started.weight, postage: started.postage, pieces: started.pieces, startedAt: started.startedAt };
        this.txnCounter = this.batch!.txn;
        break;
      case T_BATCH_END:
        this.batch = null;
        break;
      case T_FRANK:
        this.applyFrank(decodeFrank(d));
        break;
      case T_FLUSH_CHUNK:
        this.pendingChunks.push(d);
        break;
      case T_FLUSH_ABORT:
        this.pendingChunks = [];
        break;
      case T_FLUSH_END:
        this.applyFlush(readU32(d, 0), readU48(d, 4), readU32(d, 10));
        break;
      case T_CONFIG:
        this.config = JSON.parse(d);
        break;
      case T_SEAL:
        this.applySeal(d);
        break;
      case T_REKEY:
        var k = JSON.parse(d);
        this.keyVersion = k.v;
        this.deviceKey = fromHex(k.dk);
        this.kmsKey = fromHex(k.kk);
        break;
      case T_TAMPER:
        this.eraseKeys();
        break;
      case T_FOLD:
        if (this.flash.fold(readU32(d, 0), d.charCodeAt(4)) < 0) throw new Error('fold would overflow a record');
        break;
      case T_CONFIRM:
        this.applyConfirm(readU32(d, 0));
        break;
    }
  }

  private reset(): void {
    this.ascending = this.descending = this.pieces = this.fundsTotal = this.fundsCounter = this.txnCounter = 0;
    this.device = 0;
    this.deviceKey = this.kmsKey = this.signKey = '';
    this.tampered = false;
    this.keyVersion = 0;
    this.config = defaultConfig();
    this.batch = this.last = null;
    this.lastFlushAt = this.lastTime = this.piecesSinceFlush = 0;
    this.releasedPieces = this.releasedAmount = 0;
    this.blockSeq = this.blockFrom = this.confirmedSeq = 0;
    this.sealed = null;
    this.confirmedDigest = '';
    this.flash.clear();
    this.ram.clear();
    this.pendingChunks = [];
  }

  private snapshot(): any {
    var c = this.config;
    return {
      ar: this.ascending,
      dr: this.descending,
      pc: this.pieces,
      ft: this.fundsTotal,
      fc: this.fundsCounter,
      tx: this.txnCounter,
      dv: this.device,
      dk: toHex(this.deviceKey),
      kk: toHex(this.kmsKey),
      sk: toHex(this.signKey),
      tp: this.tampered,
      kv: this.keyVersion,
      // the configuration as a list: the state is rewritten at every checkpoint, and its size
      // is reserved twice in the flash
      cf: [c.flushPeriodS, c.flushEveryPieces, c.lowStoragePct, c.lockUntilConfirmed, c.foldWhenFull, c.recordsOnHost],
      bt: this.batch,
      // the last commit in its 36-byte journal form: a third of its JSON
      ls: this.last ? toHex(encodeFrank(this.last)) : '',
      ld: this.last ? this.last.descending : 0,
      lf: this.lastFlushAt,
      lt: this.lastTime,
      rp: this.releasedPieces,
      ra: this.releasedAmount,
      bs: this.blockSeq,
      bf: this.blockFrom,
      cs: this.confirmedSeq,
      cd: toHex(this.confirmedDigest)
    };
  }

  private restore(s: any): void {
    this.ascending = s.ar;
    this.descending = s.dr;
    this.pieces = s.pc;
    this.fundsTotal = s.ft;
    this.fundsCounter = s.fc;
    this.txnCounter = s.tx;
    this.device = s.dv;
    this.deviceKey = fromHex(s.dk);
    this.kmsKey = fromHex(s.kk);
    this.signKey = fromHex(s.sk);
    this.tampered = s.tp;
    this.keyVersion = s.kv || 0;
    var cf = s.cf;
    // (a journal from before the list form holds the object itself)
    this.config = cf instanceof Array ? { flushPeriodS: cf[0], flushEveryPieces: cf[1], lowStoragePct: cf[2], lockUntilConfirmed: cf[3], foldWhenFull: cf[4], recordsOnHost: cf[5] } : cf;
    this.batch = s.bt;
    this.last = s.ls ? decodeFrank(fromHex(s.ls)) : null;
    if (this.last) this.last.descending = s.ld;
    this.lastFlushAt = s.lf;
    this.lastTime = s.lt;
    this.releasedPieces = s.rp;
    this.releasedAmount = s.ra;
    this.blockSeq = s.bs;
    this.blockFrom = s.bf;
    this.confirmedSeq = s.cs;
    this.confirmedDigest = fromHex(s.cd);
  }

  private applyFrank(f: FrankCommit): void {
    // each FRANK record names the registers it started from: replay checks the chain
    if (f.ascending !== this.ascending || f.firstPiece !== this.pieces) throw new Error('FRANK record ' + f.id + ' does not follow the registers');
    f.descending = this.descending;
    var amount = f.count * f.postage;
    this.ascending += amount;
    this.descending -= amount;
    this.pieces += f.count;
    if (!this.config.recordsOnHost) this.ram.add(f.customer, f.category, f.band, f.postage, f.count, amount, f.count * f.weight);
    this.piecesSinceFlush += f.count;
    if (this.batch) this.batch.pieces += f.count;
    if (f.time > this.lastTime) this.lastTime = f.time;
    if (!this.lastFlushAt) this.lastFlushAt = f.time;
    if (!this.blockFrom) this.blockFrom = f.time;
    this.last = f;
  }

  private applyFlush(pieces: number, amount: number, time: number): void {
    var r = this.ram.totals();
    var chunkPieces = 0;
    var chunkAmount = 0;
    for (var i = 0; i < this.pendingChunks.length; i++) {
      var c = this.pendingChunks[i];
      for (var at = 0; at + RECORD_BYTES <= c.length; at += RECORD_BYTES) {
        chunkPieces += readU32(c, at + 12);
        chunkAmount += readU32(c, at + 16);
      }
    }
    // The summary must say exactly what the per-piece records said.
    if (chunkPieces !== r.pieces || chunkAmount !== r.amount || pieces !== r.pieces || amount !== r.amount) throw new Error('flush summary does not match the franked pieces');
    for (var k = 0; k < this.pendingChunks.length; k++) this.flash.addEncoded(this.pendingChunks[k]);
    this.pendingChunks = [];
    this.ram.clear();
    this.piecesSinceFlush = 0;
    this.lastFlushAt = time;
    if (time > this.lastTime) this.lastTime = time;
  }

  /** A block sealed: all flash records so far are its records, frozen until confirmed.
   * (Also replayed inside a checkpoint, between the frozen and the open records.) */
  private applySeal(d: string): void {
    var headLength = blockHeadBytes(readU16(d, 56));
    var head = d.substr(0, headLength);
    var seq = readU32(head, 12);
    if ((!this.config.recordsOnHost && readU16(head, 6) !== this.flash.count) || this.ram.count) throw new Error('sealed block ' + seq + ' does not hold the flash records');
    this.flash.frozen = this.flash.count;
    this.sealed = { seq: seq, head: head, digest: d.substr(headLength, 32), seal: d.substr(headLength + 32) };
    this.blockSeq = seq;
    this.blockFrom = readU32(head, 20);
  }

  /** The data center confirmed the sealed block: its records are freed. */
  private applyConfirm(seq: number): void {
    var s = this.sealed;
    if (!s || s.seq !== seq) throw new Error('confirmation of block ' + seq + ' that is not awaiting one');
    // confirmed: everything up to the seal (the registers in its head)
    this.releasedPieces = readU32(s.head, 36);
    this.releasedAmount = readU48(s.head, 24);
    this.flash.dropFrozen();
    this.confirmedSeq = seq;
    this.confirmedDigest = s.digest;
    this.sealed = null;
  }

  // ---- writing ------------------------------------------------------------------------

  /** Journal first, RAM after: a power cut between the two leaves flash ahead, and replay
   * brings RAM up to it. */
  private commit(type: number, data: string): void {
    this.journal.append(type, data);
    this.apply({ type: type, data: data });
  }

  /** Data lengths of the chunk records that hold n cumulative records. */
  private chunkLengths(n: number): number[] {
    var out: number[] = [];
    for (; n > 0; n -= CHUNK_RECORDS) out.push(Math.min(n, CHUNK_RECORDS) * RECORD_BYTES);
    return out;
  }

  private flushLengths(): number[] {
    return this.chunkLengths(this.ram.count).concat([14]);
  }

  private checkpointLengths(): number[] {
    var s = this.sealed;
    var sealedRecords = s ? this.flash.frozen : 0;
    return [0, STATE_BYTES + (this.signKey ? SIGN_KEY_STATE_BYTES : 0)]
      .concat(this.chunkLengths(sealedRecords), s ? [s.head.length + s.digest.length + s.seal.length] : [], this.chunkLengths(this.flash.count - sealedRecords + this.ram.count), [0]);
  }

  /** What must always stay writable: a flush, and two checkpoints (a cut one wastes its
   * space and the next one must still fit). */
  private reserve(): number[] {
    var c = this.checkpointLengths();
    return this.flushLengths().concat(c, c);
  }

  /** Makes room for records of these lengths, checkpointing if needed; false if full. */
  private room(lengths: number[]): boolean {
    if (this.journal.fits(lengths.concat(this.reserve()))) return true;
    this.checkpoint();
    return this.journal.fits(lengths.concat(this.reserve()));
  }

  /** Folds the most fragmented open (customer, category) into one summary record, if the
   * configuration allows it; false when there is nothing to fold. */
  private foldOne(): boolean {
    if (!this.config.foldWhenFull) return false;
    var f = this.flash.mostFragmented();
    if (!f || this.flash.fold(f.customer, f.category, true) < 0 || !this.journal.fits([5])) return false;
    this.commit(T_FOLD, u32(f.customer) + String.fromCharCode(f.category));
    return true;
  }

  /** room(), and when a checkpoint alone cannot make it, smaller checkpoints by folding. */
  private roomFolding(lengths: number[]): boolean {
    if (this.room(lengths)) return true;
    var folded = false;
    while (!this.journal.fits(lengths.concat(this.reserve())) && this.foldOne()) folded = true;
    return folded && this.room(lengths);
  }

  /** Writes the whole live state anew so the pages behind it can be reclaimed. */
  checkpoint(): void {
    if (this.ram.count) this.flush();
    this.journal.append(CKPT_BEGIN, '');
    this.journal.append(T_STATE, JSON.stringify(this.snapshot()));
    // sealed records, the seal, then the open records: replay freezes exactly the same ones
    var s = this.sealed;
    var frozen = this.flash.frozen;
    this.appendTable(0, frozen);
    if (s) this.journal.append(T_SEAL, s.head + s.digest + s.seal);
    this.appendTable(frozen, this.flash.count);
    this.journal.append(CKPT_END, '');
  }

  private appendTable(from: number, to: number): void {
    for (var i = from; i < to; i += CHUNK_RECORDS) this.journal.append(T_TABLE, this.flash.encode(i, Math.min(CHUNK_RECORDS, to - i)));
  }

  /** Moves the RAM records into the flash tier. */
  flush(): number {
    var n = this.ram.count;
    if (!n) return 0;
    var r = this.ram.totals();
    this.pendingChunks = [];
    for (var i = 0; i < n; i += CHUNK_RECORDS) {
      var chunk = this.ram.encode(i, CHUNK_RECORDS);
      this.journal.append(T_FLUSH_CHUNK, chunk);
      this.pendingChunks.push(chunk);
    }
    this.commit(T_FLUSH_END, u32(r.pieces) + u48(r.amount) + u32(this.seconds()));
    return n;
  }

  // ---- operations ---------------------------------------------------------------------

  /** board clock plus the offset the host set, seconds since 1970; 0 until set */
  clockOffsetMs = 0;
  seconds(): number {
    return this.clockOffsetMs ? Math.floor((this.board.uptime() * 1000 + this.clockOffsetMs) / 1000) : 0;
  }

  setClock(nowMs: number): void {
    if (nowMs / 1000 < this.lastTime - 300) fail(ErrorCode.BAD_ARGUMENT, 'clock would go back before the journal (' + this.lastTime + ')');
    this.clockOffsetMs = nowMs - this.board.uptime() * 1000;
  }

  private needWritable(): void {
    if (this.lock) fail(this.lock.code, this.lock.detail);
  }

  private needProvisioned(): void {
    if (!this.device) fail(ErrorCode.NOT_PROVISIONED);
  }

  private needRoom(lengths: number[]): void {
    if (!this.room(lengths)) fail(ErrorCode.STORAGE_FULL, 'upload and confirm the statistics to free it');
  }

  provision(device: number, deviceKey: string, kmsKey: string): void {
    this.needWritable();
    if (this.device) fail(ErrorCode.BAD_ARGUMENT, 'already provisioned');
    // a board that signs makes its own key pair: the secret never leaves it, the KMS
    // certifies the public key
    var ed = this.board.ed25519;
    var sk = ed ? ed.keyPairFromSeed(randomBytes(this.board, 32)).secretKey : '';
    var data = JSON.stringify({ device: device, deviceKey: deviceKey, kmsKey: kmsKey, sk: toHex(sk) });
    this.needRoom([data.length]);
    this.commit(T_PROVISION, data);
  }

  loadFunds(counter: number, amount: number, mac: string): void {
    this.needWritable();
    this.needProvisioned();
    var expected = hmac(this.board.sha256, this.kmsKey, fundsMessage(this.device, counter, amount));
    if (!sameBytes(expected, mac)) fail(ErrorCode.AUTH, 'funds reset not from the KMS');
    if (counter !== this.fundsCounter + 1) fail(ErrorCode.REPLAY, 'funds counter ' + counter + ', expected ' + (this.fundsCounter + 1));
    if (this.descending + amount > MAX_U48 || this.fundsTotal + amount > MAX_U48) fail(ErrorCode.OVERFLOW);
    this.needRoom([10]);
    this.commit(T_FUNDS, u32(counter) + u48(amount));
  }

  startBatch(b: { customer: number; mode: number; category: number; weight: number; postage: number }): Batch {
    this.needWritable();
    this.needProvisioned();
    if (this.batch) fail(ErrorCode.BATCH_OPEN, 'transaction ' + this.batch.txn);
    var time = this.needClock();
    var batch: Batch = { txn: this.txnCounter + 1, customer: b.customer, mode: b.mode, category: b.category, weight: b.weight, postage: b.postage, pieces: 0, startedAt: time };
    // the start record carries the registers, so the batch can be audited whatever follows
    var data = JSON.stringify(batch).slice(0, -1) + ',"ar":' + this.ascending + ',"dr":' + this.descending + ',"pc":' + this.pieces + '}';
    this.needRoom([data.length]);
    this.commit(T_BATCH_START, data);
    return this.batch!;
  }

  endBatch(): { batch: Batch; flushed: number } {
    this.needWritable();
    if (!this.batch) fail(ErrorCode.NO_BATCH);
    var batch = this.batch!;
    var data = JSON.stringify({ txn: batch.txn, pieces: batch.pieces, t: this.seconds() });
    this.needRoom([data.length]);
    this.commit(T_BATCH_END, data);
    return { batch: batch, flushed: this.flush() };
  }

  private needClock(): number {
    var t = this.seconds();
    if (!t) fail(ErrorCode.CLOCK_NOT_SET, 'the host sets it with the clock command');
    return t;
  }

  /** Checks and commits `count` pieces of one parameter set. */
  frank(f: { id: number; customer: number; category: number; band: number; mode: number; weight: number; postage: number; count: number }): FrankCommit {
    this.needWritable();
    this.needProvisioned();
    var time = this.needClock();
    if (this.sealed && this.config.lockUntilConfirmed) fail(ErrorCode.PENDING_CONFIRMATION, 'block ' + this.sealed.seq + ' was extracted; upload it and confirm');
    var amount = f.count * f.postage;
    if (amount > this.descending) fail(ErrorCode.NO_FUNDS, 'needs ' + amount + ', descending register holds ' + this.descending);
    if (this.ascending + amount > MAX_U48 || this.pieces + f.count > MAX_U32) fail(ErrorCode.OVERFLOW);
    // a full RAM tier is flushed to make room, as the period or piece count would
    if (!this.ram.canAdd(f.customer, f.category, f.band, f.postage, f.count, amount, f.count * f.weight) && this.ram.count && this.room([])) this.flush();
    if (!this.ram.canAdd(f.customer, f.category, f.band, f.postage, f.count, amount, f.count * f.weight)) fail(ErrorCode.CATEGORY_LIMIT, 'record totals would overflow');
    // the flash tier must be able to take this record at the next flush: fold records into
    // summary records if the configuration allows, else refuse
    // (RAM records of keys flash already has merge at the flush: flush first, then count again)
    // (the count first: the franking path scans the tables only when they are full)
    while (this.flash.count + this.ram.count >= this.flash.capacity && this.ram.find(f.customer, f.category, f.band, f.postage) < 0 && this.flash.slot(f.customer, f.category, f.band, f.postage) < 0)
      if (!(this.ram.count && this.room(this.flushLengths()) && this.flush()) && !this.foldOne()) fail(ErrorCode.CATEGORY_LIMIT, 'upload and confirm the statistics to free records');
    var commit: FrankCommit = {
      id: f.id,
      customer: f.customer,
      category: f.category,
      band: f.band,
      mode: f.mode,
      weight: f.weight,
      postage: f.postage,
      count: f.count,
      firstPiece: this.pieces,
      ascending: this.ascending,
      descending: this.descending,
      time: time
    };
    if (!this.roomFolding([FRANK_BYTES])) fail(ErrorCode.STORAGE_FULL, 'upload and confirm the statistics to free it');
    this.commit(T_FRANK, encodeFrank(commit));
    this.maybeFlush();
    return commit;
  }

  /** Flushes when the piece count or the period says so. */
  maybeFlush(): boolean {
    if (this.lock || !this.ram.count) return false;
    var now = this.seconds();
    if (this.piecesSinceFlush >= this.config.flushEveryPieces || (now && now - this.lastFlushAt >= this.config.flushPeriodS)) {
      this.flush();
      return true;
    }
    return false;
  }

  configure(c: Config): void {
    this.needWritable();
    // every piece so far must be in a confirmed block, wherever its records were kept
    if (c.recordsOnHost !== this.config.recordsOnHost && (this.flash.count || this.ram.count || this.sealed || this.pieces !== this.releasedPieces))
      fail(ErrorCode.BAD_ARGUMENT, 'recordsOnHost changes only when every piece is in a confirmed block');
    var data = JSON.stringify(c);
    this.needRoom([data.length]);
    this.commit(T_CONFIG, data);
  }

  /** The header of the next block: the registers now, and since the last confirmed block. */
  private nextBlockHeader(time: number, recordCount: number, customers: number[]) {
    var from = this.blockFrom || time;
    return {
      algorithm: this.signKey ? SEAL_ED25519 : SEAL_HMAC,
      recordCount: recordCount,
      device: this.device,
      seq: this.blockSeq + 1,
      from: from,
      to: time > from ? time : from,
      ascending: this.ascending,
      descending: this.descending,
      pieces: this.pieces,
      previousAscending: this.releasedAmount,
      previousPieces: this.releasedPieces,
      fundsTotal: this.fundsTotal,
      customers: customers
    };
  }

  /** Host records being sealed (claim 10): fed a page at a time, digested a segment at a time. */
  hostSeal: { header: any; head: string; digest: string; received: number; segment: string; pieces: number; amount: number; seen: number[] } | null = null;

  beginHostSeal(recordCount: number, customers: number[]): void {
    this.needWritable();
    this.needProvisioned();
    if (!this.config.recordsOnHost) fail(ErrorCode.BAD_ARGUMENT, 'the records are on the PSD: extract them');
    if (this.sealed) fail(ErrorCode.PENDING_CONFIRMATION, 'block ' + this.sealed.seq + ' awaits confirmation');
    var time = this.needClock();
    for (var i = 1; i < customers.length; i++) if (customers[i] <= customers[i - 1]) fail(ErrorCode.BAD_ARGUMENT, 'customers must be ascending and distinct');
    var header = this.nextBlockHeader(time, recordCount, customers);
    var head = encodeBlockHead(header);
    this.hostSeal = { header: header, head: head, digest: digestStart(this.board.sha256, head), received: 0, segment: '', pieces: 0, amount: 0, seen: [] };
  }

  /** Records from..from+n of the host's block: checked one by one and digested. */
  hostSealRecords(from: number, records: string[]): void {
    var h = this.hostSeal;
    if (!h) fail(ErrorCode.BAD_ARGUMENT, 'begin the seal first');
    if (from !== h!.received || h!.received + records.length > h!.header.recordCount) fail(ErrorCode.BAD_ARGUMENT, 'records must follow on from ' + h!.received + ', ' + h!.header.recordCount + ' in all');
    for (var i = 0; i < records.length; i++) {
      if (records[i].length !== RECORD_BYTES) fail(ErrorCode.BAD_ARGUMENT, 'record ' + (from + i) + ' is not ' + RECORD_BYTES + ' bytes');
      var r = decodeRecord(records[i], 0);
      if (h!.header.customers.indexOf(r.customer) < 0) fail(ErrorCode.BAD_ARGUMENT, 'record ' + (from + i) + ': customer ' + r.customer + ' is not in the block');
      if (!r.pieces || r.category >= MAX_CATEGORIES || (r.weightBand !== MIXED_BAND && (r.weightBand >= WEIGHT_BANDS_G.length || r.amount !== r.pieces * r.postage)))
        fail(ErrorCode.BAD_ARGUMENT, 'record ' + (from + i) + ' is malformed');
      if (h!.seen.indexOf(r.customer) < 0) h!.seen.push(r.customer);
      h!.pieces += r.pieces;
      h!.amount += r.amount;
      h!.segment += records[i];
      h!.received++;
      if (h!.segment.length === DIGEST_SEGMENT_RECORDS * RECORD_BYTES) {
        h!.digest = digestSegment(this.board.sha256, h!.digest, h!.segment);
        h!.segment = '';
      }
    }
  }

  /** Seals the host's records if they are complete and sum to the register movement. */
  endHostSeal(): Sealed {
    var h = this.hostSeal;
    if (!h) fail(ErrorCode.BAD_ARGUMENT, 'begin the seal first');
    this.hostSeal = null;
    var hd = h!.header;
    if (h!.received !== hd.recordCount) fail(ErrorCode.BAD_ARGUMENT, h!.received + ' of ' + hd.recordCount + ' records');
    if (h!.seen.length !== hd.customers.length) fail(ErrorCode.BAD_ARGUMENT, 'a customer of the block has no record');
    // the PSD's own books decide: the records must account for every piece since the last block
    if (hd.ascending !== this.ascending || hd.pieces !== this.pieces) fail(ErrorCode.BAD_ARGUMENT, 'pieces were franked during the seal; seal again');
    if (h!.pieces !== this.pieces - this.releasedPieces || h!.amount !== this.ascending - this.releasedAmount)
      fail(ErrorCode.INCONSISTENT, 'the records sum to ' + h!.pieces + ' pieces and ' + h!.amount + ', the registers moved ' + (this.pieces - this.releasedPieces) + ' pieces and ' + (this.ascending - this.releasedAmount));
    var digest = h!.segment ? digestSegment(this.board.sha256, h!.digest, h!.segment) : h!.digest;
    return this.commitSeal(h!.head, digest);
  }

  /** Seals every record into a block marked `sent` (flushing RAM first), or returns the
   * block already awaiting confirmation, so a lost extraction can be repeated. */
  extract(): { sealed: Sealed; fresh: boolean } {
    this.needWritable();
    this.needProvisioned();
    if (this.sealed) return { sealed: this.sealed, fresh: false };
    if (this.config.recordsOnHost) fail(ErrorCode.BAD_ARGUMENT, 'the records are on the host: it seals them through the PSD');
    var time = this.needClock();
    if (this.ram.count) {
      this.needRoom(this.flushLengths());
      this.flush();
    }
    var n = this.flash.count;
    var head = encodeBlockHead(this.nextBlockHeader(time, n, this.flash.customers(n)));
    // the digest chain reads the records a segment at a time: no whole block in RAM
    var sha = this.board.sha256;
    var digest = digestStart(sha, head);
    for (var i = 0; i < n; i += DIGEST_SEGMENT_RECORDS) digest = digestSegment(sha, digest, this.flash.encode(i, DIGEST_SEGMENT_RECORDS));
    return { sealed: this.commitSeal(head, digest), fresh: true };
  }

  /** Seals a block (head and digest made) and marks it sent: the journal's T_SEAL record. */
  private commitSeal(head: string, digest: string): Sealed {
    var data = head + digest + this.sealDigest(digest);
    this.needRoom([data.length]);
    this.commit(T_SEAL, data);
    return this.sealed!;
  }

  /** HMAC under the device key, or an Ed25519 signature where the board signs (after its
   * known-answer test, once per boot: it takes seconds on a board). */
  private sealDigest(digest: string): string {
    var ed = this.board.ed25519;
    if (!this.signKey || !ed) return hmac(this.board.sha256, this.deviceKey, sealMessage(digest));
    if (!this.signTested) {
      var failed = ed.selfTest();
      if (failed) {
        this.lock = { code: ErrorCode.SELF_TEST, detail: failed };
        fail(ErrorCode.SELF_TEST, failed);
      }
      this.signTested = true;
    }
    return ed.sign(sealMessage(digest), this.signKey);
  }

  /** The delete-after-confirmation path: frees the sealed block's records once the data
   * center's confirmation of exactly that block authenticates. A repeated confirmation of
   * the last confirmed block is answered again and changes nothing. */
  confirm(seq: number, mac: string): { seq: number; repeated: boolean } {
    this.needWritable();
    var s = this.sealed;
    var digest = s && s.seq === seq ? s.digest : seq === this.confirmedSeq && seq ? this.confirmedDigest : '';
    if (!digest) fail(ErrorCode.NO_BLOCK, 'block ' + seq + (s ? '; block ' + s.seq + ' awaits confirmation' : '; no block awaits confirmation'));
    if (!sameBytes(hmac(this.board.sha256, this.deviceKey, confirmMessage(this.device, seq, digest)), mac)) fail(ErrorCode.AUTH, 'confirmation not from the data center');
    if (!s || s.seq !== seq) return { seq: seq, repeated: true };
    this.needRoom([4]);
    this.commit(T_CONFIRM, u32(seq));
    return { seq: seq, repeated: false };
  }

  private eraseKeys(): void {
    this.deviceKey = this.kmsKey = this.signKey = '';
    this.tampered = true;
  }

  /** The tamper input fired: the keys are erased (in RAM at once, then from flash) and
   * franking is locked for good. The
   * registers and statistics stay, so the data center can still account for them. */
  tamper(): void {
    if (this.tampered) return;
    this.eraseKeys();
    this.lock = { code: ErrorCode.TAMPER, detail: '' };
    try {
      this.journal.append(T_TAMPER, '');
      // a checkpoint on a page of its own (two if the ring must turn first), then every
      // other page erased: no copy of a key stays in flash
      this.checkpoint();
      if (this.journal.nextPage()) this.checkpoint();
      this.journal.eraseDead();
    } catch (e) {}
  }

  /** The KMS replaces the device and KMS keys (inside a secure session only: the caller
   * checks). Never while a block awaits confirmation, so each block is sealed and confirmed
   * under one key. */
  rekey(version: number, deviceKey: string, kmsKey: string): void {
    this.needWritable();
    this.needProvisioned();
    if (this.sealed) fail(ErrorCode.PENDING_CONFIRMATION, 'confirm block ' + this.sealed.seq + ' before new keys');
    if (version !== this.keyVersion + 1) fail(ErrorCode.REPLAY, 'key version ' + version + ', expected ' + (this.keyVersion + 1));
    var data = JSON.stringify({ v: version, dk: toHex(deviceKey), kk: toHex(kmsKey) });
    this.needRoom([data.length]);
    this.commit(T_REKEY, data);
  }

  /** Notes a deliberate reboot, so the next boot can tell why it happened. */
  noteReboot(): void {
    if (!this.lock && this.room([0])) this.journal.append(T_REBOOT, '');
  }

  /** The indicium of piece i (0-based) of a commit. */
  indicium(c: FrankCommit, i: number): string {
    var body = indiciumBody({
      device: this.device,
      day: Math.floor(c.time / 86400),
      postage: c.postage,
      ascending: c.ascending + (i + 1) * c.postage,
      descending: c.descending - (i + 1) * c.postage,
      piece: c.firstPiece + i + 1,
      category: c.category,
      customer: c.customer
    });
    return body + hmac(this.board.sha256, this.deviceKey, body).substr(0, INDICIUM_MAC_BYTES);
  }

  storage(): { used: number; free: number; total: number; low: boolean; records: number; ramRecords: number; capacity: number } {
    var total = this.journal.totalBytes();
    var free = this.journal.freeBytes();
    var records = this.flash.count;
    var low = (100 * free) / total < this.config.lowStoragePct || this.flash.count + this.ram.count >= this.flash.capacity * 0.9 || !this.journal.fits(this.reserve().concat([FRANK_BYTES * 8]));
    return { used: total - free, free: free, total: total, low: low, records: records, ramRecords: this.ram.count, capacity: this.flash.capacity };
  }
}



export function randomBytes(board: Board, n: number): string {
  var out = '';
  while (out.length < n) {
    var r = board.random32();
    out += String.fromCharCode(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, (r >>> 24) & 0xff);
  }
  return out.substr(0, n);
}

// FRANK record: id u32 | customer u32 | category u8 | band u8 | mode u8 | 0 | weight u32 |
// postage u32 | count u16 | piece counter before u32 | time u32 (seconds) | AR before u48.
// The descending register before is not stored: replay knows it.
function encodeFrank(f: FrankCommit): string {
  return u32(f.id) + u32(f.customer) + String.fromCharCode(f.category, f.band, f.mode, 0) + u32(f.weight) + u32(f.postage) + u16(f.count) + u32(f.firstPiece) + u32(f.time) + u48(f.ascending);
}

function decodeFrank(d: string): FrankCommit {
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
    descending: 0
  };
}
