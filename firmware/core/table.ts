// A fixed-capacity table of cumulative records in one Uint32Array: six words a record.
// One typed array costs a handful of Espruino variables where 360 small objects would cost
// thousands (a Pico has 5,100 in all).
import { CumulativeRecord, RECORD_BYTES, encodeRecord, decodeRecord, MAX_U32 } from '../../protocol/records.ts';

var WORDS = 6; // customer, category<<8|band, postage, pieces, amount, weight

export class RecordTable {
  words: Uint32Array;
  count = 0;
  /** Leading records sealed into a block awaiting confirmation: frozen, so new pieces of
   * the same parameter set open a new record after them. */
  frozen = 0;

  constructor(public capacity: number) {
    this.words = new Uint32Array(capacity * WORDS);
  }

  find(customer: number, category: number, band: number, postage: number): number {
    var w = this.words;
    var cat = (category << 8) | band;
    for (var i = this.frozen, at = i * WORDS; i < this.count; i++, at += WORDS) if (w[at] === customer && w[at + 1] === cat && w[at + 2] === postage) return i;
    return -1;
  }

  /** Whether adding these totals to the record (new or existing) would fit. */
  canAdd(customer: number, category: number, band: number, postage: number, pieces: number, amount: number, weight: number): boolean {
    var i = this.find(customer, category, band, postage);
    if (i < 0) return this.count < this.capacity && pieces <= MAX_U32 && amount <= MAX_U32 && weight <= MAX_U32;
    var at = i * WORDS;
    var w = this.words;
    return w[at + 3] + pieces <= MAX_U32 && w[at + 4] + amount <= MAX_U32 && w[at + 5] + weight <= MAX_U32;
  }

  /** Adds to the record with this key, opening it if new. Call canAdd first. */
  add(customer: number, category: number, band: number, postage: number, pieces: number, amount: number, weight: number): void {
    var i = this.find(customer, category, band, postage);
    if (i < 0) {
      if (this.count >= this.capacity) throw new Error('record table full');
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

  get(i: number): CumulativeRecord {
    var at = i * WORDS;
    var w = this.words;
    return { customer: w[at], category: w[at + 1] >>> 8, weightBand: w[at + 1] & 0xff, postage: w[at + 2], pieces: w[at + 3], amount: w[at + 4], weight: w[at + 5] };
  }

  /** Records [from, from+n) in the shared binary layout. */
  encode(from: number, n: number): string {
    var out = '';
    for (var i = from; i < from + n && i < this.count; i++) out += encodeRecord(this.get(i));
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

  /** Distinct customers of records [0, n), ascending. */
  customers(n: number): number[] {
    var out: number[] = [];
    for (var at = 0; at < n * WORDS; at += WORDS) if (out.indexOf(this.words[at]) < 0) out.push(this.words[at]);
    return out.sort(function (a, b) {
      return a - b;
    });
  }

  /** Removes the frozen records (their block was confirmed); the rest move to the front. */
  dropFrozen(): void {
    var n = this.frozen * WORDS;
    var w = this.words;
    // a plain forward copy: overlapping typed-array set() is not something to trust on Espruino
    for (var at = 0; at + n < this.count * WORDS; at++) w[at] = w[at + n];
    w.fill(0, (this.count - this.frozen) * WORDS);
    this.count -= this.frozen;
    this.frozen = 0;
  }

  clear(): void {
    this.words.fill(0);
    this.count = 0;
    this.frozen = 0;
  }
}
