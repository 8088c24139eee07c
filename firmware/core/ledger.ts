// The PSD's durable state (resident part: what franking needs; booting, checkpoints,
// sealing and administration are on-demand modules in firmware/ondemand/ that work on it): postal registers, batches, cumulative statistics in two tiers
// (RAM since the last flush, flash after it), configuration and keys; all rebuilt at boot by
// replaying the flash journal.
//
// Every change is written to the journal first and applied to RAM only after the write
// returned (`commit`), and the same `apply` runs at boot on the replayed journal, so what
// is in RAM is always what flash says. The RAM tier is therefore never lost: the per-piece
// FRANK records it is made of are in flash; a flush writes it out as summarised records
// (FLUSH chunks + FLUSH_END, checked against the FRANK records at replay) so that a
// checkpoint can then drop the per-piece records and reclaim their pages.
import { Journal, JournalEntry } from './journal.ts';
import { Entry } from './entries.ts';
import { LogEvent } from '../../protocol/log.ts';
import { RecordTable, PACK_BYTES, PACKED_MAX } from './table.ts';
import { hmac } from '../../protocol/hmac.ts';
import { Board } from '../board.ts';
import { u32, u48, readU16, readU32, readU48, fromHex, MAX_U48 } from '../../protocol/bytes.ts';
import { MAX_U32 } from '../../protocol/records.ts';
import { indiciumBody, INDICIUM_MAC_BYTES } from '../../protocol/indicium.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { fail } from './device.ts';
import { withModule, STORE, StoreOp } from './modules.ts';
import { Need, CHUNK_RECORDS, FRANK_BYTES, STATE_BYTES, SIGN_KEY_STATE_BYTES, type Config, ELAPSED_PERIOD_S, type Sealed, type Batch, type FrankCommit, type Lock, defaultConfig, encodeFrank, decodeFrank } from './ledger-entries.ts';
export { Need, CHUNK_RECORDS, FRANK_BYTES, STATE_BYTES, MODE_SINGLE, MODE_DYNAMIC, MODE_BATCH, type Config, ELAPSED_PERIOD_S, type Sealed, type Batch, type FrankCommit, type Lock, defaultConfig, encodeFrank, decodeFrank } from './ledger-entries.ts';

export class Ledger {
  ascending = 0;
  descending = 0;
  pieces = 0;
  /** pieces franked at zero value (counted in `pieces` and in records of postage 0 too), and
   * test imprints (counted here only) */
  zeroPieces = 0;
  testPieces = 0;
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
  signTested = false;
  /** the tamper input fired: keys erased, franking locked for good */
  tampered = false;
  /** withdrawn from service: keys erased, franking over (firmware/ondemand/store.ts) */
  withdrawn = false;
  /** the rate tables held, oldest first (protocol/rates.ts encoding; firmware/ondemand/rates.ts) */
  rates: string[] = [];
  /** the coded events and the audit number (protocol/audit.ts EVENT_STATE_HEAD, then the ring
   * of the newest events; firmware/ondemand/events.ts), '' until the first event */
  events = '';
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
  /** the pieces franked since the last seal (the next block's): the rate-table versions that
   * priced them, oldest and newest (0: none), and the per-piece chain over them ('': not
   * started, or the option is off) */
  rateOldest = 0;
  rateNewest = 0;
  chain = '';
  /** the last confirmed block, so a repeated confirmation (its answer was lost) is answered */
  confirmedSeq = 0;
  confirmedDigest = '';
  flash: RecordTable;
  ram: RecordTable;
  /** FLUSH chunks seen at replay, applied at their FLUSH_END */
  pendingChunks: string[] = [];
  /** the journal's last entry before this boot was a deliberate reboot */
  rebootedByCommand = false;
  journal: Journal;
  formatted = false;
  /** The device's own running time, seconds since provisioning: `elapsedAt` when the board's
   * uptime read `elapsedUptime`; `elapsedSaved` is the last value in the journal. */
  elapsedAt = 0;
  elapsedUptime = 0;
  elapsedSaved = 0;
  /** the last authenticated contact with the data center: the running time then, and the
   * clock then (the trusted time when the contact brought one; 0 when the clock was unset) */
  contactElapsed = 0;
  contactClock = 0;
  /** the last trusted time the data center sent (seconds since 1970, 0: none yet), and the
   * running time when it arrived */
  trustedTime = 0;
  trustedElapsed = 0;
  /** notes an event in the device log (firmware/core/psd.ts sets it; protocol/log.ts codes) */
  note: (code: number, detail: string) => void = function () {};

  constructor(public board: Board, capacity: number) {
    this.flash = new RecordTable(capacity);
    this.ram = new RecordTable(capacity);
    this.journal = new Journal(board.flash, board.crc32);
  }

  // ---- applying journal records (live and at replay) -----------------------------------

  apply(e: JournalEntry): void {
    var d = e.data;
    // used by two cases: declared before the switch, as Espruino creates a local only where its
    // var runs (tools/profile/check.ts hoisting)
    var amount: number;
    switch (e.type) {
      case Entry.PROVISION:
        var p = JSON.parse(d);
        this.device = p.device;
        this.deviceKey = p.deviceKey;
        this.kmsKey = p.kmsKey;
        this.signKey = fromHex(p.sk || '');
        // the contact watchdog counts from provisioning
        this.setElapsed(p.el || 0);
        this.contactElapsed = p.el || 0;
        this.contactClock = p.ck || 0;
        break;
      case Entry.ELAPSED:
        this.setElapsed(readU32(d, 0));
        break;
      case Entry.FUNDS:
        amount = readU48(d, 4);
        this.fundsCounter = readU32(d, 0);
        this.descending += amount;
        this.fundsTotal += amount;
        break;
      // (JSON: journals from before BATCH_OPEN)
      case Entry.BATCH_START:
        var started = JSON.parse(d);
        // the start record also carries the registers (for audit); the live batch does not
        this.batch = { txn: started.txn, customer: started.customer, mode: started.mode, category: started.category, weight: started.weight, postage: started.postage, pieces: started.pieces, startedAt: started.startedAt };
        this.txnCounter = this.batch!.txn;
        break;
      case Entry.BATCH_OPEN:
        this.batch = { txn: readU32(d, 0), customer: readU32(d, 4), mode: d.charCodeAt(8), category: d.charCodeAt(9), weight: readU16(d, 10), postage: readU32(d, 12), pieces: 0, startedAt: readU32(d, 16) };
        this.txnCounter = this.batch!.txn;
        break;
      case Entry.BATCH_END:
        this.batch = null;
        break;
      case Entry.FRANK:
        var f = decodeFrank(d, this.last, this.pieces, this.ascending);
        // each FRANK record names the registers it started from: replay checks the chain
        if (f.ascending !== this.ascending || f.firstPiece !== this.pieces) throw new Error('FRANK record ' + f.id + ' does not follow the registers');
        f.descending = this.descending;
        if (f.test) this.testPieces += f.count;
        else {
          amount = f.count * f.postage;
          this.ascending += amount;
          this.descending -= amount;
          this.pieces += f.count;
          if (!f.postage) this.zeroPieces += f.count;
          if (!this.config.recordsOnHost) this.ram.add(f.customer, f.category, f.band, f.postage, f.count, amount, f.count * f.weight);
          this.piecesSinceFlush += f.count;
          if (this.batch) this.batch.pieces += f.count;
        }
        if (f.rate) {
          if (!this.rateOldest || f.rate < this.rateOldest) this.rateOldest = f.rate;
          if (f.rate > this.rateNewest) this.rateNewest = f.rate;
        }
        if (f.chain) this.chain = f.chain;
        if (f.time > this.lastTime) this.lastTime = f.time;
        if (!this.lastFlushAt) this.lastFlushAt = f.time;
        if (!this.blockFrom) this.blockFrom = f.time;
        this.last = f;
        break;
      case Entry.FLUSH_END:
        // the RAM records, written out as FLUSH_PACKED chunks before this entry, join the flash tier
        var pieces = readU32(d, 0);
        var flushed = readU48(d, 4);
        var time = readU32(d, 10);
        var r = this.ram.totals();
        var chunkPieces = 0;
        var chunkAmount = 0;
        for (var i = 0; i < this.pendingChunks.length; i++) {
          var sums = this.ram.addPacked(this.pendingChunks[i], true);
          chunkPieces += sums[0];
          chunkAmount += sums[1];
        }
        // The summary must say exactly what the per-piece records said.
        if (chunkPieces !== r.pieces || chunkAmount !== r.amount || pieces !== r.pieces || flushed !== r.amount) throw new Error('flush summary does not match the franked pieces');
        for (var m = 0; m < this.pendingChunks.length; m++) this.flash.addPacked(this.pendingChunks[m]);
        this.pendingChunks = [];
        this.ram.clear();
        this.piecesSinceFlush = 0;
        this.lastFlushAt = time;
        if (time > this.lastTime) this.lastTime = time;
        break;
      case Entry.CONFIG:
        this.config = JSON.parse(d);
        break;
      case Entry.REKEY:
        var k = JSON.parse(d);
        this.keyVersion = k.v;
        this.deviceKey = fromHex(k.dk);
        this.kmsKey = fromHex(k.kk);
        break;
      case Entry.TAMPER:
        this.deviceKey = this.kmsKey = this.signKey = '';
        this.tampered = true;
        break;
      case Entry.FOLD:
        if (this.flash.fold(readU32(d, 0), d.charCodeAt(4)) < 0) throw new Error('fold would overflow a record');
        break;
    }
  }

  // ---- writing ------------------------------------------------------------------------

  /** Journal first, RAM after: a power cut between the two leaves flash ahead, and replay
   * brings RAM up to it. */
  commit(type: number, data: string): void {
    this.journal.append(type, data);
    this.apply({ type: type, data: data });
  }

  /** Data lengths that bound the packed chunks of records of these packed bytes (firmware/core/table.ts:
   * each chunk but the last holds more than PACK_BYTES - PACKED_MAX bytes). */
  chunkLengths(bytes: number): number[] {
    var out: number[] = [];
    for (var k = bytes ? Math.floor(bytes / (PACK_BYTES - PACKED_MAX + 1)) + 1 : 0; k > 0; k--) out.push(Math.min(bytes, PACK_BYTES));
    return out;
  }

  flushLengths(): number[] {
    return this.chunkLengths(this.ram.bytes).concat([14]);
  }

  checkpointLengths(): number[] {
    var s = this.sealed;
    var sealedBytes = 0;
    for (var f = 0; s && f < this.flash.frozen; f++) sealedBytes += this.flash.packedBytes(f);
    var rates: number[] = [];
    for (var i = 0; i < this.rates.length; i++) rates.push(this.rates[i].length);
    if (this.events) rates.push(this.events.length);
    // (the RAM records merge into the flash ones: the packed bytes of both bound the merged)
    return [0, STATE_BYTES + (this.signKey ? SIGN_KEY_STATE_BYTES : 0)]
      .concat(rates, this.chunkLengths(sealedBytes), s ? [s.head.length + s.digest.length + s.seal.length] : [], this.chunkLengths(this.flash.bytes - sealedBytes + this.ram.bytes), this.config.perPiece || this.rates.length ? [36, 0] : [0]);
  }

  /** What must always stay writable: a flush, and two checkpoints (a cut one wastes its
   * space and the next one must still fit). */
  reserve(): number[] {
    var c = this.checkpointLengths();
    return this.flushLengths().concat(c, c);
  }

  /** Makes room for records of these lengths, checkpointing if needed; false if full. */
  room(lengths: number[]): boolean {
    if (this.journal.fits(lengths.concat(this.reserve()))) return true;
    this.store(StoreOp.CHECKPOINT);
    return this.journal.fits(lengths.concat(this.reserve()));
  }

  /** Runs one of the on-demand store module's operations (modules.ts StoreOp) on the ledger:
   * CHECKPOINT writes the whole live state anew so the pages behind it can be reclaimed;
   * FOLD folds the most fragmented open (customer, category) into one summary record if the
   * configuration allows it (false when there is nothing to fold); TAMPER erases the keys and
   * locks franking for good. One method for the three: each costs interpreter variables. */
  store(op: number): any {
    var L = this;
    return withModule(this.board, STORE, function (m) {
      return m.run(L, op);
    });
  }

  /** room(), and when a checkpoint alone cannot make it, smaller checkpoints by folding. */
  roomFolding(lengths: number[]): boolean {
    if (this.room(lengths)) return true;
    var folded = false;
    while (!this.journal.fits(lengths.concat(this.reserve())) && this.store(StoreOp.FOLD)) folded = true;
    return folded && this.room(lengths);
  }

  /** Moves the RAM records into the flash tier. */
  flush(): number {
    var n = this.ram.count;
    if (!n) return 0;
    var r = this.ram.totals();
    this.pendingChunks = [];
    for (var i = 0; i < n; i = this.ram.next) {
      var chunk = this.ram.pack(i, n);
      this.journal.append(Entry.FLUSH_PACKED, chunk);
      this.pendingChunks.push(chunk);
    }
    this.commit(Entry.FLUSH_END, u32(r.pieces) + u48(r.amount) + u32(this.seconds()));
    return n;
  }

  // ---- operations ---------------------------------------------------------------------

  /** board clock plus the offset the host set, seconds since 1970; 0 until set */
  clockOffsetMs = 0;
  seconds(): number {
    return this.clockOffsetMs ? Math.floor((this.board.uptime() * 1000 + this.clockOffsetMs) / 1000) : 0;
  }

  setElapsed(at: number): void {
    this.elapsedAt = this.elapsedSaved = at;
    this.elapsedUptime = this.board.uptime();
  }

  /** The device's own running time now, seconds since provisioning. */
  elapsed(): number {
    return this.elapsedAt + Math.floor(this.board.uptime() - this.elapsedUptime);
  }

  /** Seconds since the last authenticated contact: by the device's running time, or by the
   * clock if that says more (a clock the host set forward cannot hide it, nor set back). */
  contactAge(): number {
    var byRunning = this.elapsed() - this.contactElapsed;
    var now = this.seconds();
    var byClock = now && this.contactClock ? now - this.contactClock : 0;
    return byRunning > byClock ? byRunning : byClock;
  }

  /** Writes the running time to the journal when a period has passed (the minute tick). */
  keepTime(): void {
    if (this.device && !this.lock && this.elapsed() - this.elapsedSaved >= ELAPSED_PERIOD_S && this.room([4])) this.commit(Entry.ELAPSED, u32(this.elapsed()));
  }

  /**
   * What an operation needs of the device, checked in this order, the first one missing being
   * the error: writable (not locked: withdrawn, tampered, ...) always, then as `what` asks
   * (ledger-entries.ts Need): provisioned, the clock set (CLOCK_NOT_SET), and contact with the
   * data center recent enough (CONTACT_OVERDUE: franking stops when it has not been reached
   * for too long). Returns the clock, seconds, when asked for it, else 0. One method for the
   * four checks: on Espruino each method costs variables for as long as the image runs.
   */
  need(what: number): number {
    if (this.lock) fail(this.lock.code, this.lock.detail);
    if (what & Need.PROVISIONED && !this.device) fail(ErrorCode.NOT_PROVISIONED);
    var t = 0;
    if (what & Need.CLOCK && !(t = this.seconds())) fail(ErrorCode.CLOCK_NOT_SET, 'the host sets it with the clock command');
    if (what & Need.CONTACT) {
      var age = this.contactAge();
      if (age > this.config.contactLockS) fail(ErrorCode.CONTACT_OVERDUE, 'last contact ' + Math.floor(age / 8640) / 10 + ' days ago by the device\'s time and clock (limit ' + Math.floor(this.config.contactLockS / 8640) / 10 + ' days); a session with the data center releases it');
    }
    return t;
  }

  needRoom(lengths: number[]): void {
    if (!this.room(lengths)) fail(ErrorCode.STORAGE_FULL, 'upload and confirm the statistics to free it');
  }

  /** Checks and commits `count` pieces of one parameter set. */
  frank(f: { id: number; customer: number; category: number; band: number; mode: number; weight: number; postage: number; count: number; test: boolean; rate: number }): FrankCommit {
    var time = this.need(Need.PROVISIONED | Need.CLOCK | Need.CONTACT);
    if (this.sealed && this.config.lockUntilConfirmed) fail(ErrorCode.PENDING_CONFIRMATION, 'block ' + this.sealed.seq + ' was extracted; upload it and confirm');
    var amount = f.count * f.postage;
    if (amount > this.descending) fail(ErrorCode.NO_FUNDS, 'needs ' + amount + ', descending register holds ' + this.descending);
    if (this.ascending + amount > MAX_U48 || this.pieces + f.count > MAX_U32) fail(ErrorCode.OVERFLOW);
    // a test imprint takes no record: the tables need no room
    // a full RAM tier is flushed to make room, as the period or piece count would
    if (!f.test && !this.ram.canAdd(f.customer, f.category, f.band, f.postage, f.count, amount, f.count * f.weight) && this.ram.count && this.room([])) this.flush();
    if (!f.test && !this.ram.canAdd(f.customer, f.category, f.band, f.postage, f.count, amount, f.count * f.weight)) fail(ErrorCode.CATEGORY_LIMIT, 'record totals would overflow');
    // the flash tier must be able to take this record at the next flush: fold records into
    // summary records if the configuration allows, else refuse
    // (RAM records of keys flash already has merge at the flush: flush first, then count again)
    // (the count first: the franking path scans the tables only when they are full)
    while (!f.test && this.flash.count + this.ram.count >= this.flash.capacity && this.ram.find(f.customer, f.category, f.band, f.postage) < 0 && this.flash.slot(f.customer, f.category, f.band, f.postage) < 0)
      if (!(this.ram.count && this.room(this.flushLengths()) && this.flush()) && !this.store(StoreOp.FOLD)) fail(ErrorCode.CATEGORY_LIMIT, 'upload and confirm the statistics to free records');
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
      time: time,
      test: f.test,
      rate: f.test ? 0 : f.rate,
      chain: ''
    };
    // per-piece data: each indicium into the chain the next block carries, journaled with
    // the pieces (a power cut keeps both or neither). protocol/piece-chain.ts defines the chain;
    // written out here, its two functions would cost the resident core some 12 variables
    if (this.config.perPiece && !f.test) {
      var sha = this.board.sha256;
      var chain = this.chain || sha('PSD-PIECES' + u32(this.device) + u32(this.blockSeq + 1));
      for (var i = 0; i < f.count; i++) chain = sha(chain + String.fromCharCode(f.band) + this.indicium(commit, i));
      commit.chain = chain;
    }
    var data = encodeFrank(commit, this.last);
    if (!this.roomFolding([data.length])) fail(ErrorCode.STORAGE_FULL, 'upload and confirm the statistics to free it');
    this.commit(Entry.FRANK, data);
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

  /** Host records being sealed (claim 10), firmware/ondemand/seal.ts: fed a page at a time, digested a segment at a time. */
  hostSeal: { header: any; head: string; digest: string; received: number; segment: string; pieces: number; amount: number; seen: number[] } | null = null;

  /** The indicium of piece i (0-based) of a commit. */
  indicium(c: FrankCommit, i: number): string {
    // a test imprint: marked, postage 0, piece 0, the registers as they stand
    var n = c.test ? 0 : i + 1;
    var body = indiciumBody({
      device: this.device,
      day: Math.floor(c.time / 86400),
      postage: c.test ? 0 : c.postage,
      ascending: c.ascending + n * c.postage,
      descending: c.descending - n * c.postage,
      piece: c.test ? 0 : c.firstPiece + n,
      category: c.category,
      customer: c.customer,
      test: c.test,
      rateVersion: c.rate
    });
    return body + hmac(this.board.sha256, this.deviceKey, body).substr(0, INDICIUM_MAC_BYTES);
  }

}
