// On-demand module psd.boot (firmware/core/modules.ts): runs once at every boot and is then
// dropped. Opens the flash journal (finds the live pages, repairs a torn tail, formats a blank
// region), replays it into the ledger, checks the invariants and runs the power-on
// known-answer tests of the crypto.
import { Journal, JournalEntry, OpenResult, PageInfo, PAGE_HEADER_BYTES, RECORD_MARK, ERASED_WORD, CKPT_BEGIN, CKPT_END, CKPT_ABORT, TORN } from '../core/journal.ts';
import { Entry } from '../core/entries.ts';
import { pageHeader } from './pages.ts';
import { Ledger, defaultConfig, decodeFrank, ELAPSED_PERIOD_S, CHUNK_RECORDS } from '../core/ledger.ts';
import { RecordTable } from '../core/table.ts';
import { RECORD_BYTES } from '../../protocol/records.ts';
import { decodeRecord } from '../../protocol/record-codec.ts';
import { u16, u32, readU16, readU32, fromHex } from '../../protocol/bytes.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { cryptoSelfTest } from '../core/crypto/selftest.ts';
import { applySeal, applyConfirm } from './sealing.ts';
import { applyContact, applyWithdraw } from './contact.ts';
import { applyRates } from './rates.ts';
import { event, applyEvent, applyAudit } from './events.ts';
import { AuditEvent } from '../../protocol/audit.ts';

export { cryptoSelfTest };

/** The power-on self-tests' result as a coded event, on a device whose journal is sound. */
export function noteSelfTest(L: Ledger, failed: string): void {
  if (!L.lock || L.lock.code === ErrorCode.SELF_TEST) event(L, AuditEvent.SELF_TEST, failed ? 1 : 0);
}

/** One journal entry at replay: a checkpoint's state and table, flush chunks, a block's seal and
 * confirmation here (code the resident core does not carry), every other one as the ledger
 * applies it live. */
function replay(L: Ledger, e: JournalEntry): void {
  var d = e.data;
  if (e.type === CKPT_BEGIN) reset(L);
  else if (e.type === Entry.STATE) restore(L, JSON.parse(d));
  else if (e.type === Entry.TABLE_PACKED) L.flash.addPacked(d);
  else if (e.type === Entry.FLUSH_PACKED) L.pendingChunks.push(d);
  // a journal written before the packed form
  else if (e.type === Entry.TABLE) L.flash.addPacked(repack(d));
  else if (e.type === Entry.FLUSH_CHUNK) L.pendingChunks.push(repack(d));
  else if (e.type === Entry.FLUSH_ABORT) L.pendingChunks = [];
  else if (e.type === Entry.SEAL) applySeal(L, d);
  else if (e.type === Entry.CONFIRM) applyConfirm(L, readU32(d, 0));
  else if (e.type === Entry.CONTACT) applyContact(L, d);
  else if (e.type === Entry.WITHDRAW) applyWithdraw(L);
  else if (e.type === Entry.RATES) applyRates(L, d);
  else if (e.type === Entry.EVENT) applyEvent(L, d);
  else if (e.type === Entry.EVENTS) L.events = d;
  else if (e.type === Entry.AUDIT) applyAudit(L, d);
  else if (e.type === Entry.CHAIN) {
    L.rateOldest = readU16(d, 0);
    L.rateNewest = readU16(d, 2);
    L.chain = d.substr(4);
  }
  else L.apply(e);
}

/** A chunk of 24-byte records (protocol/records.ts), as a journal from before the packed form
 * holds them, packed (firmware/core/table.ts). */
function repack(d: string): string {
  var t = new RecordTable(CHUNK_RECORDS);
  for (var at = 0; at + RECORD_BYTES <= d.length; at += RECORD_BYTES) {
    var r = decodeRecord(d, at);
    t.add(r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight);
  }
  return t.pack(0, t.count);
}

// ---- the ledger ------------------------------------------------------------------------

/** Rebuilds the state from flash and checks it; locks instead of guessing. */
export function boot(L: Ledger): void {
  var opened;
  try {
    opened = openJournal(L.journal);
  } catch (e) {
    L.lock = { code: ErrorCode.STORAGE_CORRUPT, detail: ((e as any).message || e) };
    return;
  }
  if (opened.problems.length) {
    L.lock = { code: ErrorCode.STORAGE_CORRUPT, detail: opened.problems.join('; ') };
    return;
  }
  L.formatted = opened.formatted;
  var entries = opened.entries;
  try {
    for (var i = 0; i < entries.length; i++) replay(L, entries[i]);
  } catch (e) {
    L.lock = { code: ErrorCode.INCONSISTENT, detail: ((e as any).message || e) };
    return;
  }
  L.rebootedByCommand = entries.length > 0 && entries[entries.length - 1].type === Entry.REBOOT;
  // a flush cut before its end: its chunks are not statistics (the FRANK records still are)
  if (L.pendingChunks.length) {
    try {
      L.journal.append(Entry.FLUSH_ABORT, '');
      L.pendingChunks = [];
    } catch (e) {
      L.lock = { code: ErrorCode.STORAGE_FULL, detail: 'cannot close a cut flush' };
      return;
    }
  }
  if (L.tampered) {
    L.lock = { code: ErrorCode.TAMPER, detail: '' };
    return;
  }
  if (L.withdrawn) {
    L.lock = { code: ErrorCode.WITHDRAWN, detail: 'keys erased' };
    return;
  }
  // The time since the last running-time entry is unknown: count a whole period, and write
  // it down now, so that power cycles, however quick, only ever move the count on.
  if (L.device) {
    L.setElapsed(L.elapsedSaved + ELAPSED_PERIOD_S);
    if (L.room([4])) L.commit(Entry.ELAPSED, u32(L.elapsedAt));
  }
  var problem = inconsistency(L);
  if (problem) L.lock = { code: ErrorCode.INCONSISTENT, detail: problem };
}

/** The invariants of the registers and the statistics, or null when they hold. */
export function inconsistency(L: Ledger): string | null {
  if (L.ascending + L.descending !== L.fundsTotal) return 'AR + DR != funds loaded';
  // records on the host: the PSD checks their sums when it seals them
  if (L.config.recordsOnHost) return null;
  var f = L.flash.totals();
  var r = L.ram.totals();
  if (L.releasedPieces + f.pieces + r.pieces !== L.pieces) return 'records count ' + (L.releasedPieces + f.pieces + r.pieces) + ' pieces, counter says ' + L.pieces;
  if (L.releasedAmount + f.amount + r.amount !== L.ascending) return 'records sum to ' + (L.releasedAmount + f.amount + r.amount) + ', AR is ' + L.ascending;
  return null;
}

function reset(L: Ledger): void {
  L.ascending = L.descending = L.pieces = L.zeroPieces = L.testPieces = L.fundsTotal = L.fundsCounter = L.txnCounter = 0;
  L.device = 0;
  L.deviceKey = L.kmsKey = L.signKey = '';
  L.tampered = L.withdrawn = false;
  L.keyVersion = 0;
  L.config = defaultConfig();
  L.batch = L.last = null;
  L.lastFlushAt = L.lastTime = L.piecesSinceFlush = 0;
  L.releasedPieces = L.releasedAmount = 0;
  L.blockSeq = L.blockFrom = L.confirmedSeq = 0;
  L.sealed = null;
  L.confirmedDigest = '';
  L.rateOldest = L.rateNewest = 0;
  L.chain = '';
  L.flash.clear();
  L.ram.clear();
  L.pendingChunks = [];
  L.setElapsed(0);
  L.rates = [];
  L.events = '';
  L.contactElapsed = L.contactClock = L.trustedTime = L.trustedElapsed = 0;
}

function restore(L: Ledger, s: any): void {
  L.ascending = s.ar;
  L.descending = s.dr;
  L.pieces = s.pc;
  L.zeroPieces = s.zc || 0;
  L.testPieces = s.tc || 0;
  L.fundsTotal = s.ft;
  L.fundsCounter = s.fc;
  L.txnCounter = s.tx;
  L.device = s.dv;
  L.deviceKey = fromHex(s.dk);
  L.kmsKey = fromHex(s.kk);
  L.signKey = fromHex(s.sk);
  L.tampered = s.tp;
  L.withdrawn = !!s.wd;
  L.keyVersion = s.kv || 0;
  var cf = s.cf;
  // (a journal from before the list form holds the object itself)
  var d = defaultConfig();
  // (a journal from before the list form holds the object itself; one from before the contact
  // rules, the defaults for them)
  L.config = cf instanceof Array
    ? { flushPeriodS: cf[0], flushEveryPieces: cf[1], lowStoragePct: cf[2], lockUntilConfirmed: cf[3], foldWhenFull: cf[4], recordsOnHost: cf[5], contactWarnS: cf[6] || d.contactWarnS, contactLockS: cf[7] || d.contactLockS, clockBackS: cf[8] === undefined ? d.clockBackS : cf[8], clockForwardS: cf[9] === undefined ? d.clockForwardS : cf[9], perPiece: !!cf[10] }
    : cf;
  L.setElapsed(s.el || 0);
  L.contactElapsed = s.ce || 0;
  L.contactClock = s.cc || 0;
  L.trustedTime = s.tt || 0;
  L.trustedElapsed = s.te || 0;
  L.batch = s.bt;
  L.last = s.ls ? decodeFrank(fromHex(s.ls)) : null;
  if (L.last) L.last.descending = s.ld;
  L.lastFlushAt = s.lf;
  L.lastTime = s.lt;
  L.releasedPieces = s.rp;
  L.releasedAmount = s.ra;
  L.blockSeq = s.bs;
  L.blockFrom = s.bf;
  L.confirmedSeq = s.cs;
  L.confirmedDigest = fromHex(s.cd);
}

// ---- the journal -----------------------------------------------------------------------

/** Reads one page's records. A record whose CRC fails is skipped by its length (or one
 * write unit when its header is unreadable) and reported in `bad`. The records end at the
 * first erased word after which the whole page is erased: an erased word with bits written
 * after it is part of a torn write (NOR flash programs a write's bits in any order). */
function scanPage(j: Journal, index: number, out: { type: number; data: string; offset: number }[]): { end: number; bad: { offset: number; extent: number }[] } {
  var base = index * j.flash.pageBytes;
  var offset = PAGE_HEADER_BYTES;
  var limit = j.flash.pageBytes;
  var bad: { offset: number; extent: number }[] = [];
  var written = -1;
  while (offset + 8 <= limit) {
    var head = j.flash.read(base + offset, 4);
    if (head === ERASED_WORD) {
      if (written < 0) written = lastWritten(j, base, offset);
      if (written <= offset) break;
      bad.push({ offset: offset, extent: j.flash.writeAlign });
      offset += j.flash.writeAlign;
      continue;
    }
    var len = readU16(head, 0);
    var padded = j.recordBytes(len) - 8;
    var total = 4 + padded + 4;
    var plausible = head.charCodeAt(3) === RECORD_MARK && offset + total <= limit;
    if (!plausible || j.crc32(j.flash.read(base + offset, 4 + len)) !== readU32(j.flash.read(base + offset + 4 + padded, 4), 0)) {
      var extent = plausible ? total : j.flash.writeAlign;
      bad.push({ offset: offset, extent: extent });
      offset += extent;
      continue;
    }
    out.push({ type: head.charCodeAt(2), data: j.flash.read(base + offset + 4, len), offset: offset });
    offset += total;
  }
  return { end: offset, bad: bad };
}

/** Offset (within the page) just past the last byte that is not erased, searching back to
 * `from`. (Whole erased chunks are told by one string comparison: this reads the rest of
 * every page at every boot.) */
function lastWritten(j: Journal, base: number, from: number): number {
  var chunk = 128;
  var erased = ERASED_WORD;
  while (erased.length < chunk) erased += erased;
  for (var end = j.flash.pageBytes; end > from; end -= chunk) {
    var start = Math.max(from, end - chunk);
    var bytes = j.flash.read(base + start, end - start);
    if (bytes === erased.substr(0, end - start)) continue;
    for (var i = bytes.length - 1; i >= 0; i--) if (bytes.charCodeAt(i) !== 0xff) return start + i + 1;
  }
  return from;
}

/** Finds the live journal, repairs a torn tail, and returns what to replay. */
export function openJournal(j: Journal): OpenResult {
  var count = j.flash.pageCount;
  var valid: PageInfo[] = [];
  var blank = 0;
  for (var i = 0; i < count; i++) {
    var seq = pageHeader(j, i);
    if (seq > 0) valid.push({ index: i, seq: seq });
    else if (seq === 0 && j.flash.read(i * j.flash.pageBytes + PAGE_HEADER_BYTES, 4) === ERASED_WORD) blank++;
  }
  if (!valid.length) return format(j, blank === count);
  valid.sort(function (a, b) {
    return a.seq - b.seq;
  });
  // Walk pages newest to oldest until the newest complete checkpoint's BEGIN is found.
  // torn spans noted by earlier boots: page sequence -> [from, to) offsets
  var tornNotes: { [seq: string]: number[][] } = {};
  var problems: string[] = [];
  var collected: { page: PageInfo; records: { type: number; data: string; offset: number }[] }[] = [];
  var headTorn: { offset: number; end: number } | null = null;
  var headEnd = PAGE_HEADER_BYTES;
  var endSeen = false;
  var begin = -1;
  var beginAt = -1;
  for (var p = valid.length - 1; p >= 0 && begin < 0; p--) {
    var page = valid[p];
    if (p < valid.length - 1 && valid[p + 1].seq !== page.seq + 1) {
      problems.push('page sequence gap before page ' + valid[p + 1].seq);
      break;
    }
    var recs: { type: number; data: string; offset: number }[] = [];
    var scan = scanPage(j, page.index, recs);
    for (var r = 0; r < recs.length; r++)
      if (recs[r].type === TORN) {
        var note = recs[r].data;
        var at = readU16(note, 4);
        // (a note from before spans were noted names one spot)
        (tornNotes[readU32(note, 0)] = tornNotes[readU32(note, 0)] || []).push([at, note.length >= 8 ? readU16(note, 6) : at + 1]);
      }
    if (p === valid.length - 1) headEnd = scan.end;
    var lastRecord = recs.length ? recs[recs.length - 1].offset : -1;
    var spans = tornNotes[page.seq] || [];
    for (var b = 0; b < scan.bad.length; b++) {
      var spot = scan.bad[b];
      var noted = false;
      for (var t = 0; t < spans.length; t++) if (spot.offset >= spans[t][0] && spot.offset < spans[t][1]) noted = true;
      if (noted) continue;
      // A cut write: in the newest page, after its last good record, through the end of what
      // is written (the scan ends only where the rest of the page is erased).
      if (p === valid.length - 1 && spot.offset > lastRecord) {
        if (!headTorn) headTorn = { offset: spot.offset, end: scan.end };
      } else problems.push('corrupt record in page ' + page.seq + ' at ' + spot.offset);
    }
    collected.unshift({ page: page, records: recs });
    for (var k = recs.length - 1; k >= 0; k--) {
      if (recs[k].type === CKPT_END) endSeen = true;
      if (recs[k].type === CKPT_BEGIN && endSeen && begin < 0) {
        begin = 0;
        beginAt = k;
      }
    }
  }
  // Formatting was cut before its empty checkpoint landed: nothing was ever stored.
  if (begin < 0 && valid.length === 1 && valid[0].seq === 1) return format(j, false);
  if (begin < 0 && !problems.length) problems.push('no complete checkpoint in the journal');
  j.pageIndex = '';
  j.firstSeq = collected.length ? collected[0].page.seq : 0;
  for (var d = 0; d < collected.length; d++) j.pageIndex += String.fromCharCode(collected[d].page.index);
  var entries: JournalEntry[] = [];
  if (!problems.length) {
    for (var c = 0; c < collected.length; c++) {
      var list = collected[c].records;
      for (var e = c === 0 ? beginAt : 0; e < list.length; e++) entries.push({ type: list[e].type, data: list[e].data });
    }
  }
  j.headOffset = headEnd;
  if (!problems.length) j.liveStartSeq = j.pendingLiveStart = collected[0].page.seq;
  if (headTorn && !problems.length) {
    // Note the cut write, so that later boots know these bytes were never acknowledged;
    // writing goes on after them (flash cannot be rewritten in place).
    if (!tryAppend(j, TORN, u32(j.firstSeq + j.pageIndex.length - 1) + u16(headTorn.offset) + u16(headTorn.end))) problems.push('no room to note the torn record');
  }
  if (!problems.length && openCheckpoint(entries) && !tryAppend(j, CKPT_ABORT, '')) problems.push('no room to close a cut checkpoint');
  entries = dropAborted(entries);
  return { entries: entries, problems: problems, formatted: false };
}

/** A checkpoint begun after the last complete one was cut off: its entries are not state. */
function openCheckpoint(entries: JournalEntry[]): boolean {
  for (var i = entries.length - 1; i > 0; i--) {
    if (entries[i].type === CKPT_END || entries[i].type === CKPT_ABORT) return false;
    if (entries[i].type === CKPT_BEGIN) return true;
  }
  return false;
}

/** Removes BEGIN..ABORT spans (and a trailing unfinished BEGIN..), keeps the rest. */
function dropAborted(entries: JournalEntry[]): JournalEntry[] {
  var out: JournalEntry[] = [];
  var pendingStart = -1;
  for (var i = 0; i < entries.length; i++) {
    var t = entries[i].type;
    if (t === CKPT_BEGIN && i > 0) pendingStart = out.length;
    if (t === CKPT_ABORT) {
      if (pendingStart >= 0) out.splice(pendingStart, out.length - pendingStart);
      pendingStart = -1;
      continue;
    }
    if (t === CKPT_END) pendingStart = -1;
    if (t === TORN) continue;
    out.push(entries[i]);
  }
  // splice, not `out.length = n`: Espruino 2v29 throws "Assignment to a constant" on that
  if (pendingStart >= 0) out.splice(pendingStart, out.length - pendingStart);
  return out;
}

function format(j: Journal, allBlank: boolean): OpenResult {
  for (var i = 0; i < j.flash.pageCount; i++) if (!allBlank || pageHeader(j, i) !== 0) j.flash.erase(i);
  j.pageIndex = '';
  j.startPage(0, 1);
  j.append(CKPT_BEGIN, '');
  j.append(CKPT_END, '');
  return { entries: [], problems: [], formatted: true };
}


function tryAppend(j: Journal, type: number, data: string): boolean {
  try {
    j.append(type, data);
    return true;
  } catch (e) {
    return false;
  }
}
