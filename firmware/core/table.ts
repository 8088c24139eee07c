// A table of cumulative records in one Uint32Array: six words a record, up to a capacity.
// One typed array costs a handful of Espruino variables where 360 small objects would cost
// thousands (a Pico has 5,100 in all). The array grows GROW_RECORDS at a time and shrinks
// when records are freed, so an empty table costs nearly nothing: memory follows the records
// held, not the capacity (a full Pico table is 8.7 KB, about 550 variables). Each method is a
// function object that costs variables for as long as the image runs: what only sealing or
// STATUS needs (customers, summaries, dropping frozen records, the records in the shared
// layout: firmware/ondemand/table-records.ts) is in the on-demand modules.
import { MAX_U32, MIXED_BAND } from '../../protocol/records.ts';

export var WORDS = 6;
var GROW_RECORDS = 32; // customer, category<<8|band, postage, pieces, amount, weight

// The journal's packed form of a record (TABLE_PACKED and FLUSH_PACKED chunks; blocks and
// answers keep protocol/records.ts's 24 bytes): varint customer | category u8 | band u8 |
// varint postage (a summary record's, band MIXED_BAND, is 0: its amount instead) | varint
// pieces | varint weight; a varint is 7 bits a byte, low bits first, the high bit set on every
// byte but the last. Every other record's amount is pieces x postage. A day's records at the
// reference workload pack to some 9 bytes each: checkpoints and flushes rewrite the table, and
// they wore the flash most.
/** most bytes a packed record takes (5 + 2 + 5 + 5 + 5): under RECORD_BYTES, so no reserve grows */
export var PACKED_MAX = 22;
/** A packed chunk holds whole records up to this many bytes */
export var PACK_BYTES = 768;

function varintBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function varint(n: number): string {
  var s = '';
  // % and /, not & and >>>: the numbers go to 2^32 - 1
  for (; n >= 128; n = Math.floor(n / 128)) s += String.fromCharCode((n % 128) + 128);
  return s + String.fromCharCode(n);
}

export class RecordTable {
  words: Uint32Array;
  count = 0;
  /** Leading records sealed into a block awaiting confirmation: frozen, so new pieces of
   * the same parameter set open a new record after them. */
  frozen = 0;
  /** bytes of all the records packed (the journal's form, above) */
  bytes = 0;
  /** after pack(): the first record it left out */
  next = 0;

  constructor(public capacity: number) {
    this.words = new Uint32Array(0);
  }

  /** Sizes the array for n records (whole steps of GROW_RECORDS, at most the capacity),
   * keeping the records it holds. */
  size(n: number): void {
    // every change of the records but add() ends here: count their packed bytes afresh
    var b = 0;
    for (var i = 0; i < this.count; i++) b += this.packedBytes(i);
    this.bytes = b;
    var records = Math.min(this.capacity, Math.ceil(n / GROW_RECORDS) * GROW_RECORDS);
    if (records * WORDS === this.words.length) return;
    var words = new Uint32Array(records * WORDS);
    words.set(this.words.subarray(0, Math.min(this.words.length, words.length)));
    this.words = words;
  }

  find(customer: number, category: number, band: number, postage: number): number {
    var w = this.words;
    var cat = (category << 8) | band;
    for (var i = this.frozen, at = i * WORDS; i < this.count; i++, at += WORDS) if (w[at] === customer && w[at + 1] === cat && w[at + 2] === postage) return i;
    return -1;
  }

  /** The record these pieces count in: their own, or their (customer, category)'s summary
   * record once it was folded (never for zero-value pieces: they stay apart, and a summary
   * must hold at least a minor unit per piece); -1 if a new record is needed. */
  slot(customer: number, category: number, band: number, postage: number): number {
    var i = this.find(customer, category, band, postage);
    return i < 0 && postage ? this.find(customer, category, MIXED_BAND, 0) : i;
  }

  /** Folds the open records of one (customer, category) into its summary record (the first
   * of them takes the sums; records of zero-value pieces, postage 0 and a real weight band,
   * are never folded); the records after move up. Returns the records freed, or -1
   * when the sums would overflow a record (then nothing changes). */
  fold(customer: number, category: number, dryRun?: boolean): number {
    var w = this.words;
    var sums = [0, 0, 0];
    var at;
    for (at = this.frozen * WORDS; at < this.count * WORDS; at += WORDS)
      if (w[at] === customer && w[at + 1] >>> 8 === category && !(w[at + 2] === 0 && (w[at + 1] & 0xff) !== MIXED_BAND)) for (var s = 0; s < 3; s++) sums[s] += w[at + 3 + s];
    if (sums[0] > MAX_U32 || sums[1] > MAX_U32 || sums[2] > MAX_U32) return -1;
    if (dryRun) return 0;
    var first = -1;
    var to = this.frozen * WORDS;
    for (at = to; at < this.count * WORDS; at += WORDS) {
      var match = w[at] === customer && w[at + 1] >>> 8 === category && !(w[at + 2] === 0 && (w[at + 1] & 0xff) !== MIXED_BAND);
      if (match && first >= 0) continue;
      for (var k = 0; k < WORDS; k++) w[to + k] = w[at + k];
      if (match) {
        first = to;
        w[to + 1] = (category << 8) | MIXED_BAND;
        w[to + 2] = 0;
        w[to + 3] = sums[0];
        w[to + 4] = sums[1];
        w[to + 5] = sums[2];
      }
      to += WORDS;
    }
    var freed = this.count - to / WORDS;
    w.fill(0, to);
    this.count = to / WORDS;
    this.size(this.count);
    return freed;
  }

  /** Whether adding these totals to the record (new or existing) would fit. */
  canAdd(customer: number, category: number, band: number, postage: number, pieces: number, amount: number, weight: number): boolean {
    var i = this.slot(customer, category, band, postage);
    if (i < 0) return this.count < this.capacity && pieces <= MAX_U32 && amount <= MAX_U32 && weight <= MAX_U32;
    var at = i * WORDS;
    var w = this.words;
    return w[at + 3] + pieces <= MAX_U32 && w[at + 4] + amount <= MAX_U32 && w[at + 5] + weight <= MAX_U32;
  }

  /** Adds to the record with this key, opening it if new. Call canAdd first. */
  add(customer: number, category: number, band: number, postage: number, pieces: number, amount: number, weight: number): void {
    var i = this.slot(customer, category, band, postage);
    if (i < 0) {
      if (this.count >= this.capacity) throw new Error('record table full');
      if ((this.count + 1) * WORDS > this.words.length) this.size(this.count + 1);
      i = this.count++;
      var base = i * WORDS;
      this.words[base] = customer;
      this.words[base + 1] = (category << 8) | band;
      this.words[base + 2] = postage;
    } else this.bytes -= this.packedBytes(i);
    var at = i * WORDS;
    this.words[at + 3] += pieces;
    this.words[at + 4] += amount;
    this.words[at + 5] += weight;
    this.bytes += this.packedBytes(i);
  }

  /** Bytes record i takes packed. */
  packedBytes(i: number): number {
    var w = this.words;
    var at = i * WORDS;
    return varintBytes(w[at]) + 2 + varintBytes((w[at + 1] & 0xff) === MIXED_BAND ? w[at + 4] : w[at + 2]) + varintBytes(w[at + 3]) + varintBytes(w[at + 5]);
  }

  /** Records [from, to) packed, as many as PACK_BYTES holds (at least one); `next` is then the
   * first record left out. */
  pack(from: number, to: number): string {
    var out = '';
    var w = this.words;
    var i = from;
    for (var at = i * WORDS; i < to && out.length <= PACK_BYTES - PACKED_MAX; i++, at += WORDS)
      out += varint(w[at]) + String.fromCharCode(w[at + 1] >>> 8, w[at + 1] & 0xff) + varint((w[at + 1] & 0xff) === MIXED_BAND ? w[at + 4] : w[at + 2]) + varint(w[at + 3]) + varint(w[at + 5]);
    this.next = i;
    return out;
  }

  /** Adds every record of a packed chunk (unless `dry`); returns their pieces and amount, summed. */
  addPacked(bytes: string, dry?: boolean): number[] {
    var at = 0;
    var sums = [0, 0];
    function next(): number {
      var n = 0;
      var m = 1;
      var c;
      do {
        c = bytes.charCodeAt(at++);
        n += (c % 128) * m;
        m *= 128;
      } while (c > 127);
      return n;
    }
    while (at < bytes.length) {
      var customer = next();
      var category = bytes.charCodeAt(at);
      var band = bytes.charCodeAt(at + 1);
      at += 2;
      var postage = next();
      var pieces = next();
      var weight = next();
      var amount = band === MIXED_BAND ? postage : pieces * postage;
      sums[0] += pieces;
      sums[1] += amount;
      if (!dry) this.add(customer, category, band, band === MIXED_BAND ? 0 : postage, pieces, amount, weight);
    }
    return sums;
  }

  /** Sums of records [from, to) (all by default). */
  totals(from?: number, to?: number): { pieces: number; amount: number } {
    var pieces = 0;
    var amount = 0;
    var end = (to === undefined ? this.count : to) * WORDS;
    for (var at = (from || 0) * WORDS; at < end; at += WORDS) {
      pieces += this.words[at + 3];
      amount += this.words[at + 4];
    }
    return { pieces: pieces, amount: amount };
  }

  clear(): void {
    this.words = new Uint32Array(0);
    this.count = 0;
    this.bytes = 0;
    this.frozen = 0;
  }
}
