// A table of cumulative records in one Uint32Array: six words a record, up to a capacity.
// One typed array costs a handful of Espruino variables where 360 small objects would cost
// thousands (a Pico has 5,100 in all). The array grows GROW_RECORDS at a time and shrinks
// when records are freed, so an empty table costs nearly nothing: memory follows the records
// held, not the capacity (a full Pico table is 8.7 KB, about 550 variables). Each method is a
// function object that costs variables for as long as the image runs: what only sealing or
// STATUS needs (customers, summaries, dropping frozen records) is in the on-demand modules.
import { RECORD_BYTES, encodeRecord, decodeRecord, MAX_U32, MIXED_BAND } from '../../protocol/records.ts';

export var WORDS = 6;
var GROW_RECORDS = 32; // customer, category<<8|band, postage, pieces, amount, weight

export class RecordTable {
  words: Uint32Array;
  count = 0;
  /** Leading records sealed into a block awaiting confirmation: frozen, so new pieces of
   * the same parameter set open a new record after them. */
  frozen = 0;

  constructor(public capacity: number) {
    this.words = new Uint32Array(0);
  }

  /** Sizes the array for n records (whole steps of GROW_RECORDS, at most the capacity),
   * keeping the records it holds. */
  size(n: number): void {
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
    }
    var at = i * WORDS;
    this.words[at + 3] += pieces;
    this.words[at + 4] += amount;
    this.words[at + 5] += weight;
  }

  /** Records [from, from+n) in the shared binary layout. */
  encode(from: number, n: number): string {
    var out = '';
    var w = this.words;
    for (var i = from, at = i * WORDS; i < from + n && i < this.count; i++, at += WORDS)
      out += encodeRecord({ customer: w[at], category: w[at + 1] >>> 8, weightBand: w[at + 1] & 0xff, postage: w[at + 2], pieces: w[at + 3], amount: w[at + 4], weight: w[at + 5] });
    return out;
  }

  /** Adds every record of an encoded chunk. */
  addEncoded(bytes: string): void {
    for (var at = 0; at + RECORD_BYTES <= bytes.length; at += RECORD_BYTES) {
      var r = decodeRecord(bytes, at);
      this.add(r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight);
    }
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
    this.frozen = 0;
  }
}
