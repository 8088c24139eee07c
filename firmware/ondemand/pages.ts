// The journal's page work that no franking needs (firmware/core/journal.ts keeps the appends):
// reading page headers at boot, closing a page and erasing dead ones at a checkpoint or a
// tamper, the free space STATUS reports. Free functions of the journal, loaded with the
// on-demand modules that call them.
import { Journal, PageInfo, PAGE_HEADER_BYTES, PAGE_MAGIC, ERASED_WORD } from '../core/journal.ts';
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
  j.startPage(next, j.pages[j.pages.length - 1].seq + 1);
  return true;
}

/** Erases every page that holds nothing live, so what they held (keys, after a tamper)
 * is gone from flash and not merely dead. */
export function eraseDead(j: Journal): void {
  var live: PageInfo[] = [];
  for (var i = 0; i < j.pages.length; i++) if (j.pages[i].seq >= j.liveStartSeq) live.push(j.pages[i]);
  for (var p = 0; p < j.flash.pageCount; p++) {
    var isLive = false;
    for (var k = 0; k < live.length; k++) if (live[k].index === p) isLive = true;
    if (!isLive) j.flash.erase(p);
  }
  j.pages = live;
}

/** Bytes still writable before the ring comes back to live data. */
export function freeBytes(j: Journal): number {
  var live = 0;
  for (var i = 0; i < j.pages.length; i++) if (j.pages[i].seq >= j.liveStartSeq) live++;
  var freePages = j.flash.pageCount - live;
  return freePages * (j.flash.pageBytes - PAGE_HEADER_BYTES) + (j.flash.pageBytes - j.headOffset);
}

/** Bytes the journal's pages hold in all (headers excluded). */
export function totalBytes(j: Journal): number {
  return j.flash.pageCount * (j.flash.pageBytes - PAGE_HEADER_BYTES);
}
