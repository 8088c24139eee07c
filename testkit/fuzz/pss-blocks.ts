// Fuzz target pss (pss-target.ts): the fuzzer's devices, their keys, and the sealed blocks
// its cases upload (valid, stored, gap, replay, revoked, unknown, uncertified, implausible).
import nodeCrypto from 'node:crypto';
import { sampleRecords } from '../../server/sample-blocks.ts';
import { encodeBlockHead, blockDigest, sealMessage, SEAL_HMAC, SEAL_ED25519, type BlockHeader } from '../../protocol/block.ts';
import { type CumulativeRecord } from '../../protocol/records.ts';
import { encodeRecord } from '../../protocol/record-codec.ts';

// ---- the fuzzer's devices and blocks -------------------------------------------------------

export const sha256 = (s: string) => nodeCrypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
export const toHex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/** An Ed25519 key from a fixed seed (node:crypto, PKCS#8 around the seed), so runs repeat. */
export function edKey(label: string) {
  const seed = nodeCrypto.createHash('sha256').update(label).digest();
  const priv = nodeCrypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const publicKey = nodeCrypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32).toString('latin1');
  return { publicKey, sign: (m: string) => nodeCrypto.sign(null, Buffer.from(m, 'latin1'), priv).toString('latin1') };
}
export const hmacSeal = (key: string) => (m: string) => nodeCrypto.createHmac('sha256', Buffer.from(key, 'latin1')).update(Buffer.from(m, 'latin1')).digest().toString('latin1');

export const ED = edKey('psd fuzz pss: device 1002');
export const ED_UNCERTIFIED = edKey('psd fuzz pss: device 1004');
export const ED_PUBLIC_HEX = toHex(ED.publicKey);

/** The devices the data center holds before every case (registered in this order: 1001...). */
export const SERIALS = { 1001: 'FUZZ-HMAC', 1002: 'FUZZ-ED', 1003: 'FUZZ-REVOKED', 1004: 'FUZZ-ED-NEW' } as const;
export const BOARDS = { 1001: 'pico', 1002: 'esp32', 1003: 'pico', 1004: 'esp32' } as const;

export interface Sealed {
  raw: string;
  header: BlockHeader;
  records: CumulativeRecord[];
  digestHex: string;
}

/** A block sealed the PSD's way, chained on `previous` (registers, from = previous to). */
export function seal(device: number, algorithm: number, sign: (m: string) => string, records: CumulativeRecord[], previous?: BlockHeader, seq = (previous?.seq ?? 0) + 1): Sealed {
  const funds = 100_000_000;
  const pieces = records.reduce((s, r) => s + r.pieces, 0);
  const amount = records.reduce((s, r) => s + r.amount, 0);
  const prevAR = previous?.ascending ?? 0;
  const prevPieces = previous?.pieces ?? 0;
  const from = previous?.to ?? 1_790_000_000;
  const header: BlockHeader = {
    algorithm,
    recordCount: records.length,
    device,
    seq,
    from,
    to: from + 86400,
    ascending: prevAR + amount,
    descending: funds - prevAR - amount,
    pieces: prevPieces + pieces,
    previousAscending: prevAR,
    previousPieces: prevPieces,
    fundsTotal: funds,
    customers: [...new Set(records.map((r) => r.customer))].sort((a, b) => a - b)
  };
  const head = encodeBlockHead(header);
  const body = records.map(encodeRecord).join('');
  const digest = blockDigest(sha256, head, body);
  return { raw: head + body + sign(sealMessage(digest)), header, records, digestHex: toHex(digest) };
}

/** Blocks the fuzzer can upload, by name. */
export const BLOCK_REFS = [
  'hmac-1', // stored: a repeat
  'hmac-2', // stored: a repeat
  'hmac-3', // the next block: accepted
  'hmac-4', // after hmac-3: a gap alone, accepted right after hmac-3
  'hmac-2-other', // seq 2 with other records, sealed: a replay
  'hmac-3-implausible', // seq 3, sealed, registers do not follow block 2
  'hmac-3-ed25519', // device 1001's seq 3 signed Ed25519: wrong algorithm
  'ed-1', // stored: a repeat
  'ed-2', // the next block: accepted
  'ed-2-hmac', // device 1002's seq 2 with an HMAC seal: wrong algorithm
  'ed-new-1', // device 1004 has no certified key
  'revoked-1', // device 1003 is revoked
  'unknown-1' // device 1005 is not registered
] as const;
export type BlockRef = (typeof BLOCK_REFS)[number];

export interface Facts {
  blocks: Record<BlockRef, Sealed>;
  /** the blocks that may be stored, by "device/seq": each only as the next of its chain */
  chains: Map<string, Sealed>;
}

export function makeBlocks(keys: { 1001: string; 1003: string }): Facts {
  const recs = (seed: number, n = 3) => sampleRecords(n, [4001, 4002, 4003], seed);
  const sealHmac = hmacSeal(keys[1001]);
  const h1 = seal(1001, SEAL_HMAC, sealHmac, recs(1));
  const h2 = seal(1001, SEAL_HMAC, sealHmac, recs(2), h1.header);
  const h3 = seal(1001, SEAL_HMAC, sealHmac, recs(3), h2.header);
  const h4 = seal(1001, SEAL_HMAC, sealHmac, recs(4), h3.header);
  const e1 = seal(1002, SEAL_ED25519, ED.sign, recs(5));
  const e2 = seal(1002, SEAL_ED25519, ED.sign, recs(6), e1.header);
  const blocks: Record<BlockRef, Sealed> = {
    'hmac-1': h1,
    'hmac-2': h2,
    'hmac-3': h3,
    'hmac-4': h4,
    'hmac-2-other': seal(1001, SEAL_HMAC, sealHmac, recs(7), h1.header),
    'hmac-3-implausible': seal(1001, SEAL_HMAC, sealHmac, recs(8), h1.header, 3),
    'hmac-3-ed25519': seal(1001, SEAL_ED25519, ED.sign, recs(3), h2.header),
    'ed-1': e1,
    'ed-2': e2,
    'ed-2-hmac': seal(1002, SEAL_HMAC, sealHmac, recs(6), e1.header),
    'ed-new-1': seal(1004, SEAL_ED25519, ED_UNCERTIFIED.sign, recs(9)),
    'revoked-1': seal(1003, SEAL_HMAC, hmacSeal(keys[1003]), recs(10)),
    'unknown-1': seal(1005, SEAL_HMAC, hmacSeal(sha256('no such device')), recs(11))
  };
  const chains = new Map([h1, h2, h3, h4, e1, e2].map((b) => [`${b.header.device}/${b.header.seq}`, b]));
  return { blocks, chains };
}
