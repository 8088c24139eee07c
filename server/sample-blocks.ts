// Sealed blocks made the way a PSD makes them (protocol/block.ts), for the tests, the
// benchmark and lab demos of the PSS: a device's registers move with its records, blocks
// chain (previous registers, from = previous to), and the seal is HMAC or Ed25519.
import nacl from 'tweetnacl';
import { encodeBlockHead, blockDigest, sealMessage, type BlockHeader } from '../protocol/block.ts';
import { WEIGHT_BANDS_G, MAX_CATEGORIES, type CumulativeRecord } from '../protocol/records.ts';
import { encodeRecord } from '../protocol/record-codec.ts';
import { sha256, hmacSha256 } from './hashes.ts';
import { toBytes, fromBytes } from './bytestrings.ts';

// 1 = SEAL_HMAC, 2 = SEAL_ED25519 (literal types, so the union narrows)
export type SampleKey = { algorithm: 1; deviceKey: string } | { algorithm: 2; secretKey: Uint8Array };

/** Head + records + seal for a header (its algorithm, record count and customers are filled in). */
export function sealBlock(header: Omit<BlockHeader, 'algorithm' | 'recordCount' | 'customers'> & { customers?: number[] }, records: CumulativeRecord[], key: SampleKey): string {
  const customers = header.customers ?? [...new Set(records.map((r) => r.customer))].sort((a, b) => a - b);
  const head = encodeBlockHead({ ...header, algorithm: key.algorithm, recordCount: records.length, customers });
  const body = records.map(encodeRecord).join('');
  const message = sealMessage(blockDigest(sha256, head, body));
  const seal = key.algorithm === 1 ? hmacSha256(key.deviceKey, message) : fromBytes(nacl.sign.detached(toBytes(message), key.secretKey));
  return head + body + seal;
}

/** A PSD's registers and block chain, without the PSD. */
export class SampleDevice {
  seq = 0;
  ascending = 0;
  descending: number;
  pieces = 0;
  fundsTotal: number;
  time: number;

  constructor(
    readonly device: number,
    readonly key: SampleKey,
    funds = 100_000_000,
    start = 1_790_000_000
  ) {
    this.descending = this.fundsTotal = funds;
    this.time = start;
  }

  /** The next block holding these records (the registers move by their sums). */
  nextBlock(records: CumulativeRecord[], seconds = 86400): string {
    const pieces = records.reduce((s, r) => s + r.pieces, 0);
    const amount = records.reduce((s, r) => s + r.amount, 0);
    if (amount > this.descending) throw new Error(`sample device ${this.device}: ${amount} of postage, ${this.descending} of funds left`);
    const header = {
      device: this.device,
      seq: this.seq + 1,
      from: this.time,
      to: this.time + seconds,
      ascending: this.ascending + amount,
      descending: this.descending - amount,
      pieces: this.pieces + pieces,
      previousAscending: this.ascending,
      previousPieces: this.pieces,
      fundsTotal: this.fundsTotal
    };
    const raw = sealBlock(header, records, this.key);
    this.seq = header.seq;
    this.time = header.to;
    this.ascending = header.ascending;
    this.descending = header.descending;
    this.pieces = header.pieces;
    return raw;
  }
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same records. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` records of distinct parameter sets over the customers, consistent in every field. */
export function sampleRecords(count: number, customers: number[] = [4001, 4002, 4003], seed = 1): CumulativeRecord[] {
  const rnd = prng(seed);
  const seen = new Set<string>();
  const out: CumulativeRecord[] = [];
  while (out.length < count) {
    const customer = customers[Math.floor(rnd() * customers.length)];
    const category = Math.floor(rnd() * MAX_CATEGORIES);
    const weightBand = Math.floor(rnd() * 6);
    const postage = 50 + Math.floor(rnd() * 40) * 5;
    const k = `${customer}/${category}/${weightBand}/${postage}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const pieces = 1 + Math.floor(rnd() * 300);
    const low = weightBand ? WEIGHT_BANDS_G[weightBand - 1] + 1 : 1;
    const each = low + Math.floor(rnd() * (WEIGHT_BANDS_G[weightBand] - low + 1));
    out.push({ customer, category, weightBand, postage, pieces, amount: pieces * postage, weight: pieces * each });
  }
  return out;
}
