// The journal's page work that no franking needs (firmware/core/journal.ts keeps the appends):
// reading page headers at boot, closing a page and erasing dead ones at a checkpoint or a
// tamper, the free space STATUS reports. Free functions of the journal, loaded with the
// on-demand modules that call them.
import { Journal, PAGE_HEADER_BYTES, PAGE_MAGIC, ERASED_WORD } from '../core/journal.ts';
import { readU32 } from '../../protocol/bytes.ts';

/** A page's sequence number, 0 if it is blank, -1 if its header is not a journal page's. */
export function pageHeader(j: Journal, index: number): number {
  var h = j.flash.read(index * j.flash.pageBytes, PAGE_HEADER_BYTES);
  if (h.substr(0, 4) !== PAGE_MAGIC || j.crc32(h.substr(0, 8)) !== readU32(h, 8)) return h === ERASED_WORD + ERASED_WORD + ERASED_WORD ? 0 : -1;
  return readU32(h, 4);
}

/** Closes the head page: the next record starts a fresh one. False when no page is free. */
export function nextPage(j: Journal): boolean {
  var next = j.nextFreePage();
  if (next < 0) return false;
  j.startPage(next, j.firstSeq + j.pageIndex.length);
  return true;
}

/** Erases every page that holds nothing live, so what they held (keys, after a tamper)
 * is gone from flash and not merely dead. */
export function eraseDead(j: Journal): void {
  var dead = Math.max(0, j.liveStartSeq - j.firstSeq);
  var live = j.pageIndex.substr(dead);
  for (var p = 0; p < j.flash.pageCount; p++) if (live.indexOf(String.fromCharCode(p)) < 0) j.flash.erase(p);
  j.pageIndex = live;
  j.firstSeq += dead;
}

/** Bytes still writable before the ring comes back to live data. */
export function freeBytes(j: Journal): number {
  var freePages = j.flash.pageCount - j.pageIndex.length + Math.max(0, j.liveStartSeq - j.firstSeq);
  return freePages * (j.flash.pageBytes - PAGE_HEADER_BYTES) + (j.flash.pageBytes - j.headOffset);
}

/** Bytes the journal's pages hold in all (headers excluded). */
export function totalBytes(j: Journal): number {
  return j.flash.pageCount * (j.flash.pageBytes - PAGE_HEADER_BYTES);
}
