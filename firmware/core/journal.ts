// The flash store: an append-only journal over a ring of erase pages.
//
// Page:   magic 'PJ' | format 1 | 0xFF | page sequence u32 | CRC-32 of the 8 bytes before
// Record: length u16 | type u8 | 0x5A | data, padded with 0xFF to the write unit | CRC-32
//
// Why this shape:
// - Flash can only clear bits and erases whole pages, so nothing is rewritten in place:
//   state changes are appended and the current state is the replay of the journal.
// - Pages are used in ring order (by sequence number), so every page wears alike.
// - Space is reclaimed by a checkpoint: the owner writes its whole live state between
//   CKPT_BEGIN and CKPT_END; once END is durable, pages older than BEGIN's page are dead
//   and are erased only when the ring comes back to them. A power cut anywhere leaves
//   either the old checkpoint or the new one complete.
// - A power cut during a write leaves a torn record (its CRC fails) at the very end of
//   the newest page. At boot the journal notes it (TORN record) and writes on in a fresh
//   page; a CRC failure anywhere else is corruption, reported, never guessed around.
import { FlashRegion } from '../board.ts';
import { u16, u32, readU16, readU32 } from '../../protocol/bytes.ts';

export var PAGE_HEADER_BYTES = 12;
var PAGE_MAGIC = 'PJ\x01\xff';
var RECORD_MARK = 0x5a;
var ERASED_WORD = '\xff\xff\xff\xff';

// Record types the journal itself uses; owners use 16 and up.
export var CKPT_BEGIN = 1;
export var CKPT_END = 2;
export var TORN = 3;
export var CKPT_ABORT = 4;

export interface JournalEntry {
  type: number;
  data: string;
}

interface PageInfo {
  index: number;
  seq: number;
}

export interface OpenResult {
  /** entries from the newest complete checkpoint's BEGIN on, in order; aborted checkpoints and
   * TORN notes removed. The owner resets its state at CKPT_BEGIN. */
  entries: JournalEntry[];
  /** why the journal cannot be trusted; empty when it is sound */
  problems: string[];
  /** true when the region held no journal at all and was formatted */
  formatted: boolean;
}

function pad(bytes: string, align: number): string {
  var r = bytes.length % align;
  return r ? bytes + '\xff\xff\xff\xff\xff\xff\xff\xff'.substr(0, align - r) : bytes;
}

export class Journal {
  /** live pages, oldest first; the last one is the head being written */
  pages: PageInfo[] = [];
  headOffset = 0;
  maxRecordBytes: number;

  constructor(private flash: FlashRegion, private crc32: (s: string) => number) {
    this.maxRecordBytes = flash.pageBytes - PAGE_HEADER_BYTES - 8;
  }

  private pageHeader(index: number): number {
    var h = this.flash.read(index * this.flash.pageBytes, PAGE_HEADER_BYTES);
    if (h.substr(0, 4) !== PAGE_MAGIC || this.crc32(h.substr(0, 8)) !== readU32(h, 8)) return h === ERASED_WORD + ERASED_WORD + ERASED_WORD ? 0 : -1;
    return readU32(h, 4);
  }

  /** Reads one page's records. A record whose CRC fails is skipped by its length (or one
   * write unit when its header is unreadable) and reported in `bad`. */
  private scanPage(index: number, out: { type: number; data: string; offset: number }[]): { end: number; bad: { offset: number; extent: number }[] } {
    var base = index * this.flash.pageBytes;
    var offset = PAGE_HEADER_BYTES;
    var limit = this.flash.pageBytes;
    var bad: { offset: number; extent: number }[] = [];
    while (offset + 8 <= limit) {
      var head = this.flash.read(base + offset, 4);
      if (head === ERASED_WORD) break;
      var len = readU16(head, 0);
      var padded = this.paddedLength(len);
      var total = 4 + padded + 4;
      var plausible = head.charCodeAt(3) === RECORD_MARK && offset + total <= limit;
      if (!plausible || this.crc32(this.flash.read(base + offset, 4 + len)) !== readU32(this.flash.read(base + offset + 4 + padded, 4), 0)) {
        var extent = plausible ? total : this.flash.writeAlign;
        bad.push({ offset: offset, extent: extent });
        offset += extent;
        continue;
      }
      out.push({ type: head.charCodeAt(2), data: this.flash.read(base + offset + 4, len), offset: offset });
      offset += total;
    }
    return { end: offset, bad: bad };
  }

  /** Offset (within the page) just past the last byte that is not erased, searching back to `from`. */
  private lastWritten(base: number, from: number): number {
    var chunk = 64;
    for (var end = this.flash.pageBytes; end > from; end -= chunk) {
      var start = Math.max(from, end - chunk);
      var bytes = this.flash.read(base + start, end - start);
      for (var i = bytes.length - 1; i >= 0; i--) if (bytes.charCodeAt(i) !== 0xff) return start + i + 1;
    }
    return from;
  }

  /** Finds the live journal, repairs a torn tail, and returns what to replay. */
  open(): OpenResult {
    var count = this.flash.pageCount;
    var valid: PageInfo[] = [];
    var blank = 0;
    for (var i = 0; i < count; i++) {
      var seq = this.pageHeader(i);
      if (seq > 0) valid.push({ index: i, seq: seq });
      else if (seq === 0 && this.flash.read(i * this.flash.pageBytes + PAGE_HEADER_BYTES, 4) === ERASED_WORD) blank++;
    }
    if (!valid.length) return this.format(blank === count);
    valid.sort(function (a, b) {
      return a.seq - b.seq;
    });
    // Walk pages newest to oldest until the newest complete checkpoint's BEGIN is found.
    var tornNotes: { [key: string]: boolean } = {};
    var problems: string[] = [];
    var collected: { page: PageInfo; records: { type: number; data: string; offset: number }[] }[] = [];
    var headTorn: { offset: number; extent: number } | null = null;
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
      var scan = this.scanPage(page.index, recs);
      for (var r = 0; r < recs.length; r++) if (recs[r].type === TORN) tornNotes[readU32(recs[r].data, 0) + ':' + readU16(recs[r].data, 4)] = true;
      if (p === valid.length - 1) headEnd = scan.end;
      for (var b = 0; b < scan.bad.length; b++) {
        var spot = scan.bad[b];
        if (tornNotes[page.seq + ':' + spot.offset]) continue;
        // A cut write: the last thing in the newest page, with only erased flash after it.
        var isTail = p === valid.length - 1 && b === scan.bad.length - 1 && (!recs.length || recs[recs.length - 1].offset < spot.offset);
        if (isTail && this.lastWritten(page.index * this.flash.pageBytes, spot.offset) <= spot.offset + spot.extent) headTorn = spot;
        else problems.push('corrupt record in page ' + page.seq + ' at ' + spot.offset);
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
    if (begin < 0 && valid.length === 1 && valid[0].seq === 1) return this.format(false);
    if (begin < 0 && !problems.length) problems.push('no complete checkpoint in the journal');
    this.pages = [];
    var entries: JournalEntry[] = [];
    if (!problems.length) {
      for (var c = 0; c < collected.length; c++) {
        this.pages.push(collected[c].page);
        var list = collected[c].records;
        for (var e = c === 0 ? beginAt : 0; e < list.length; e++) entries.push({ type: list[e].type, data: list[e].data });
      }
    } else {
      for (var d = 0; d < collected.length; d++) this.pages.push(collected[d].page);
    }
    this.headOffset = headEnd;
    if (!problems.length) this.liveStartSeq = this.pendingLiveStart = collected[0].page.seq;
    if (headTorn && !problems.length) {
      // Note the cut write, so that later boots know these bytes were never acknowledged;
      // writing goes on after them (flash cannot be rewritten in place).
      if (!this.tryAppend(TORN, u32(this.pages[this.pages.length - 1].seq) + u16(headTorn.offset))) problems.push('no room to note the torn record');
    }
    if (!problems.length && this.openCheckpoint(entries) && !this.tryAppend(CKPT_ABORT, '')) problems.push('no room to close a cut checkpoint');
    entries = this.dropAborted(entries);
    return { entries: entries, problems: problems, formatted: false };
  }

  /** A checkpoint begun after the last complete one was cut off: its entries are not state. */
  private openCheckpoint(entries: JournalEntry[]): boolean {
    for (var i = entries.length - 1; i > 0; i--) {
      if (entries[i].type === CKPT_END || entries[i].type === CKPT_ABORT) return false;
      if (entries[i].type === CKPT_BEGIN) return true;
    }
    return false;
  }

  /** Removes BEGIN..ABORT spans (and a trailing unfinished BEGIN..), keeps the rest. */
  private dropAborted(entries: JournalEntry[]): JournalEntry[] {
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

  private format(allBlank: boolean): OpenResult {
    for (var i = 0; i < this.flash.pageCount; i++) if (!allBlank || this.pageHeader(i) !== 0) this.erasePage(i);
    this.pages = [];
    this.startPage(0, 1);
    this.append(CKPT_BEGIN, '');
    this.append(CKPT_END, '');
    return { entries: [], problems: [], formatted: true };
  }

  private erasePage(index: number) {
    this.flash.erase(index);
  }

  private startPage(index: number, seq: number) {
    if (this.pageHeader(index) !== 0 || this.flash.read(index * this.flash.pageBytes + PAGE_HEADER_BYTES, 4) !== ERASED_WORD) this.erasePage(index);
    var h = PAGE_MAGIC + u32(seq);
    this.flash.write(index * this.flash.pageBytes, h + u32(this.crc32(h)));
    this.pages.push({ index: index, seq: seq });
    this.headOffset = PAGE_HEADER_BYTES;
  }

  /** Data length rounded up so that header + data fill whole write units. */
  private paddedLength(dataLength: number): number {
    var align = this.flash.writeAlign;
    return Math.ceil((4 + dataLength) / align) * align - 4;
  }

  /** Bytes a record of this data length takes in flash. */
  recordBytes(dataLength: number): number {
    return 4 + this.paddedLength(dataLength) + 4;
  }

  /** The first live page: pages before it (in ring order) may be erased. */
  private liveStartSeq = 0;

  /** Next page in the ring if it holds nothing live, else -1. */
  private nextFreePage(): number {
    var head = this.pages[this.pages.length - 1];
    var next = (head.index + 1) % this.flash.pageCount;
    for (var i = 0; i < this.pages.length - 1; i++) if (this.pages[i].index === next && this.pages[i].seq >= this.liveStartSeq) return -1;
    return next;
  }

  private tryAppend(type: number, data: string): boolean {
    try {
      this.append(type, data);
      return true;
    } catch (e) {
      return false;
    }
  }

  /** Appends one record, moving to the next page when the head is full. Throws 'full'. */
  append(type: number, data: string): void {
    if (data.length > this.maxRecordBytes) throw new Error('record too long: ' + data.length);
    var size = this.recordBytes(data.length);
    if (this.headOffset + size > this.flash.pageBytes) {
      var next = this.nextFreePage();
      if (next < 0) throw new Error("journal full");
      var seq = this.pages[this.pages.length - 1].seq + 1;
      var live: PageInfo[] = [];
      for (var i = 0; i < this.pages.length; i++) if (this.pages[i].seq >= this.liveStartSeq) live.push(this.pages[i]);
      this.pages = live;
      this.startPage(next, seq);
    }
    var head = this.pages[this.pages.length - 1];
    var headerAndData = u16(data.length) + String.fromCharCode(type, RECORD_MARK) + data;
    var body = pad(headerAndData, this.flash.writeAlign);
    this.flash.write(head.index * this.flash.pageBytes + this.headOffset, body + u32(this.crc32(headerAndData)));
    if (type === CKPT_BEGIN) this.pendingLiveStart = head.seq;
    if (type === CKPT_END) this.liveStartSeq = this.pendingLiveStart;
    this.headOffset += size;
  }

  private pendingLiveStart = 0;

  /** Closes the head page: the next record starts a fresh one. False when no page is free. */
  nextPage(): boolean {
    var next = this.nextFreePage();
    if (next < 0) return false;
    this.startPage(next, this.pages[this.pages.length - 1].seq + 1);
    return true;
  }

  /** Erases every page that holds nothing live, so what they held (keys, after a tamper)
   * is gone from flash and not merely dead. */
  eraseDead(): void {
    var live: PageInfo[] = [];
    for (var i = 0; i < this.pages.length; i++) if (this.pages[i].seq >= this.liveStartSeq) live.push(this.pages[i]);
    for (var p = 0; p < this.flash.pageCount; p++) {
      var isLive = false;
      for (var j = 0; j < live.length; j++) if (live[j].index === p) isLive = true;
      if (!isLive) this.erasePage(p);
    }
    this.pages = live;
  }

  /** Bytes still writable before the ring comes back to live data. */
  freeBytes(): number {
    var live = 0;
    for (var i = 0; i < this.pages.length; i++) if (this.pages[i].seq >= this.liveStartSeq) live++;
    var freePages = this.flash.pageCount - live;
    return freePages * (this.flash.pageBytes - PAGE_HEADER_BYTES) + (this.flash.pageBytes - this.headOffset);
  }

  /** Whether records of these data lengths, appended in order, fit before the ring comes
   * back to live data (records never span pages, so free bytes alone do not tell). */
  fits(dataLengths: number[]): boolean {
    var live = 0;
    for (var i = 0; i < this.pages.length; i++) if (this.pages[i].seq >= this.liveStartSeq) live++;
    var freePages = this.flash.pageCount - live;
    var room = this.flash.pageBytes - this.headOffset;
    for (var r = 0; r < dataLengths.length; r++) {
      var size = this.recordBytes(dataLengths[r]);
      if (size > room) {
        if (!freePages) return false;
        freePages--;
        room = this.flash.pageBytes - PAGE_HEADER_BYTES;
      }
      room -= size;
    }
    return true;
  }

  totalBytes(): number {
    return this.flash.pageCount * (this.flash.pageBytes - PAGE_HEADER_BYTES);
  }
}
