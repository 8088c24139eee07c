// Fixtures of the host store tests (test/host-store*.test.ts): sealed blocks of a device and
// fresh store folders.
import nodeCrypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeBlock, encodeBlockHead, blockDigest, sealMessage, SEAL_HMAC, type BlockHeader } from '../protocol/block.ts';
import { type CumulativeRecord } from '../protocol/records.ts';
import { encodeRecord } from '../protocol/record-codec.ts';
import { hmac } from '../protocol/hmac.ts';
import { BlockStore } from '../host-bridge/store.ts';

export const sha256 = (s: string) => nodeCrypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
export const deviceKey = nodeCrypto.randomBytes(32).toString('latin1');
export const T0 = 1780000000; // seconds since 1970, mid 2026

export function records(seq: number, variant = 0): CumulativeRecord[] {
  return [
    { customer: 1001, category: 3, weightBand: 0, postage: 85, pieces: 10 * seq + variant, amount: 850 * seq + 85 * variant, weight: 180 * seq },
    { customer: 1001, category: 7, weightBand: 2, postage: 160, pieces: 4, amount: 640, weight: 360 },
    { customer: 1002, category: 3, weightBand: 4, postage: 275, pieces: 2, amount: 550, weight: 800 }
  ];
}

export function header(device: number, seq: number, recs: CumulativeRecord[], algorithm: number): BlockHeader {
  const pieces = recs.reduce((n, r) => n + r.pieces, 0);
  const amount = recs.reduce((n, r) => n + r.amount, 0);
  return {
    algorithm,
    recordCount: recs.length,
    device,
    seq,
    from: T0 + 86400 * (seq - 1),
    to: T0 + 86400 * seq,
    ascending: 100000 + amount,
    descending: 50000,
    pieces: 1000 + pieces,
    previousAscending: 100000,
    previousPieces: 1000,
    fundsTotal: 150000 + amount,
    customers: [1001, 1002]
  };
}

/** A block as the PSD seals it: encodeBlock + blockDigest + HMAC-SHA256(device key, "PSD-SEAL" || digest). */
export function hmacBlock(device: number, seq: number, variant = 0): { bytes: string; digest: string } {
  const recs = records(seq, variant);
  const h = header(device, seq, recs, SEAL_HMAC);
  const digest = blockDigest(sha256, encodeBlockHead(h), recs.map(encodeRecord).join(''));
  return { bytes: encodeBlock(h, recs, hmac(sha256, deviceKey, sealMessage(digest))), digest };
}

export let dirs: string[] = [];
export async function freshStore(): Promise<BlockStore> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'psd-store-'));
  dirs.push(dir);
  return new BlockStore(path.join(dir, 'blocks'));
}
/** Removes the folders freshStore() made (each test file calls it in its after hook). */
export async function removeStores(): Promise<void> {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
}

export const readJson = async (store: BlockStore, name: string) => JSON.parse(await fs.readFile(path.join(store.dir, name), 'utf8'));
export const writeJson = (store: BlockStore, name: string, j: unknown) => fs.writeFile(path.join(store.dir, name), JSON.stringify(j, null, 2));

/** A store holding blocks 1..3 of device 7. */
export async function storeWithThree(): Promise<BlockStore> {
  const store = await freshStore();
  for (const seq of [1, 2, 3]) await store.put(hmacBlock(7, seq).bytes, { port: '/dev/ttyACM0' });
  return store;
}
