// The flash store: an append-only journal over a ring of erase pages. Resident: what an
// append needs; opening it is in firmware/ondemand/boot.ts, the rest in
// firmware/ondemand/pages.ts (each method here costs interpreter variables always).
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
// - A power cut during a write leaves a torn record at the very end of the newest page: any
//   subset of its bits written (its CRC fails, its header may be garbage, words of it may
//   still read erased). At boot the journal notes the torn span (TORN record: page, from,
//   to) and writes on after it; a CRC failure anywhere else is corruption, reported, never
//   guessed around.
import { FlashRegion } from '../board.ts';
import { u16, u32, readU16, readU32 } from '../../protocol/bytes.ts';

export var PAGE_HEADER_BYTES = 12;
export var PAGE_MAGIC = 'PJ\x01\xff';
export var RECORD_MARK = 0x5a;
export var ERASED_WORD = '\xff\xff\xff\xff';

// Record types the journal itself uses; owners use 16 and up.
export var CKPT_BEGIN = 1;
export var CKPT_END = 2;
export var TORN = 3;
export var CKPT_ABORT = 4;

export interface JournalEntry {
  type: number;
  data: string;
}

export interface PageInfo {
  index: number;
  seq: number;
}

/** What opening the journal found (firmware/ondemand/boot.ts opens it: only at boot). */
export interface OpenResult {
  /** entries from the newest complete checkpoint's BEGIN on, in order; aborted checkpoints and
   * TORN notes removed. The owner resets its state at CKPT_BEGIN. */
  entries: JournalEntry[];
  /** why the journal cannot be trusted; empty when it is sound */
  problems: string[];
  /** true when the region held no journal at all and was formatted */
  formatted: boolean;
}

export class Journal {
  /** The pages in use, oldest first, the last one the head being written: the ring index of
   * each, one character per page (a string: a list of page objects cost some 5 interpreter
   * variables a page, 160 on a full ring), and the sequence number of the first (each next
   * page's is one more: boot refuses a gap). */
  pageIndex = '';
  firstSeq = 0;
  headOffset = 0;
  maxRecordBytes: number;

  constructor(public flash: FlashRegion, public crc32: (s: string) => number) {
    this.maxRecordBytes = flash.pageBytes - PAGE_HEADER_BYTES - 8;
  }

  startPage(index: number, seq: number) {
    // Always erased first: a page whose erase was cut can read blank at its start and still
    // hold old bits further in (NOR flash erases in any order), and writing over them would
    // corrupt every record there. A page comes round once per turn of the ring, when it
    // needs the erase anyway, so this costs no wear in practice.
    this.flash.erase(index);
    var h = PAGE_MAGIC + u32(seq);
    this.flash.write(index * this.flash.pageBytes, h + u32(this.crc32(h)));
    if (!this.pageIndex) this.firstSeq = seq;
    else if (seq !== this.firstSeq + this.pageIndex.length) throw new Error('page ' + seq + ' does not follow page ' + (this.firstSeq + this.pageIndex.length - 1));
    this.pageIndex += String.fromCharCode(index);
    this.headOffset = PAGE_HEADER_BYTES;
  }

  /** Bytes a record of this data length takes in flash: header, data padded so that header
   * and data fill whole write units, CRC. */
  recordBytes(dataLength: number): number {
    var align = this.flash.writeAlign;
    return Math.ceil((4 + dataLength) / align) * align + 4;
  }

  /** The first live page: pages before it (in ring order) may be erased. */
  liveStartSeq = 0;

  /** Next page in the ring if it holds nothing live, else -1. */
  nextFreePage(): number {
    var pages = this.pageIndex;
    var next = (pages.charCodeAt(pages.length - 1) + 1) % this.flash.pageCount;
    for (var i = 0; i < pages.length - 1; i++) if (pages.charCodeAt(i) === next && this.firstSeq + i >= this.liveStartSeq) return -1;
    return next;
  }

  /** Appends one record, moving to the next page when the head is full. Throws 'full'. */
  append(type: number, data: string): void {
    if (data.length > this.maxRecordBytes) throw new Error('record too long: ' + data.length);
    var size = this.recordBytes(data.length);
    if (this.headOffset + size > this.flash.pageBytes) {
      var next = this.nextFreePage();
      if (next < 0) throw new Error("journal full");
      // the pages before the live start hold nothing live any more: forget them
      var dead = this.liveStartSeq - this.firstSeq;
      if (dead > 0) {
        this.pageIndex = this.pageIndex.substr(dead);
        this.firstSeq += dead;
      }
      this.startPage(next, this.firstSeq + this.pageIndex.length);
    }
    var headIndex = this.pageIndex.charCodeAt(this.pageIndex.length - 1);
    var headSeq = this.firstSeq + this.pageIndex.length - 1;
    var headerAndData = u16(data.length) + String.fromCharCode(type, RECORD_MARK) + data;
    var r = headerAndData.length % this.flash.writeAlign;
    var body = r ? headerAndData + '\xff\xff\xff\xff\xff\xff\xff\xff'.substr(0, this.flash.writeAlign - r) : headerAndData;
    this.flash.write(headIndex * this.flash.pageBytes + this.headOffset, body + u32(this.crc32(headerAndData)));
    if (type === CKPT_BEGIN) this.pendingLiveStart = headSeq;
    if (type === CKPT_END) this.liveStartSeq = this.pendingLiveStart;
    this.headOffset += size;
  }

  pendingLiveStart = 0;

  /** Whether records of these data lengths, appended in order, fit before the ring comes
   * back to live data (records never span pages, so free bytes alone do not tell). */
  fits(dataLengths: number[]): boolean {
    var freePages = this.flash.pageCount - this.pageIndex.length + Math.max(0, this.liveStartSeq - this.firstSeq);
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
}
