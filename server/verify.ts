// Verification of a sealed statistics block (protocol/block.ts). Pure: everything it needs
// from the registry and the stored blocks comes in through a VerifyContext, so tests can
// attack it directly and the PSS (server/pss.ts) decides what to store.
//
// Order: decode -> device known and active -> seal algorithm is the device's -> digest ->
// seal -> repeat/replay/gap against the stored sequence -> plausibility against the previous
// block -> the per-piece list against the block's chain and records (server/pieces.ts), for a
// device with that option. The seal is checked before anything is compared with stored blocks,
// so nothing unauthenticated can even be called a repeat.
import nodeCrypto from 'node:crypto';
import { decodeBlock, decodeBlockHead, blockHeadBytes, sealBytes, BlockHead, blockDigest, sealMessage, confirmMessage, SEAL_HMAC, SEAL_ED25519, type Block } from '../protocol/block.ts';
import { MAX_CATEGORIES, WEIGHT_BANDS_G, MAX_WEIGHT_G, MIXED_BAND, RECORD_BYTES } from '../protocol/records.ts';
import { sha256 as defaultSha256, hmacSha256 as defaultHmac, ed25519Verify as defaultEd25519, sameBytes } from './hashes.ts';
import type { PssErrorCodeName } from '../protocol/pss-errors.ts';
import { decodePieceList, pieceListProblem } from './pieces.ts';

export interface DeviceFacts {
  status: string;
  seal: number;
  /** 32 bytes (byte string), Ed25519 devices with a certificate only */
  publicKey: string | null;
}

export interface PreviousBlock {
  seq: number;
  to: number;
  ascending: number;
  pieces: number;
}

export interface VerifyContext {
  device(device: number): DeviceFacts | undefined;
  /** HMAC device key (byte string), derived by the KMS */
  deviceKey(device: number): string;
  /** the device's block with the highest sequence number, if any */
  lastBlock(device: number): PreviousBlock | undefined;
  /** digest (byte string) of the stored block `seq` of the device */
  storedDigest(device: number, seq: number): string | undefined;
  /** whether the data center gave the device this trusted time (seconds) in a session: a
   * block may start there, before the previous block's end (the clock set back; see
   * implausible). Absent: no block may start before the previous one ended. */
  trustedTimeGiven?(device: number, at: number): boolean;
}

/** The primitives, swappable for the benchmark's alternatives (node:crypto). */
export interface SealPrimitives {
  sha256(bytes: string): string;
  hmacSha256(key: string, message: string): string;
  ed25519Verify(publicKey: string, message: string, signature: string): boolean;
}

export const noblePrimitives: SealPrimitives = { sha256: defaultSha256, hmacSha256: defaultHmac, ed25519Verify: defaultEd25519 };

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const nodeEdKeys = new Map<string, nodeCrypto.KeyObject>();

/**
 * The same primitives over node:crypto (OpenSSL): what the PSS verifies uploads with (Ed25519
 * verification some 50 times faster than tweetnacl's; npm run bench -- pss). Public keys are
 * imported once and kept (a few hundred bytes per device).
 */
export const nodeCryptoPrimitives: SealPrimitives = {
  sha256: (s) => nodeCrypto.createHash('sha256').update(s, 'latin1').digest('binary'),
  hmacSha256: (k, m) => nodeCrypto.createHmac('sha256', latin1(k)).update(m, 'latin1').digest('binary'),
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    let key = nodeEdKeys.get(publicKey);
    if (!key) {
      if (nodeEdKeys.size > 100_000) nodeEdKeys.clear();
      nodeEdKeys.set(publicKey, (key = nodeCrypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI, latin1(publicKey)]), format: 'der', type: 'spki' })));
    }
    try {
      return nodeCrypto.verify(null, latin1(message), key, latin1(signature));
    } catch {
      return false;
    }
  }
};

export type Verdict =
  | { ok: true; repeat: boolean; block: Block; digest: string }
  | { ok: false; code: PssErrorCodeName; reason: string; device?: number; seq?: number };

/** A block's digest and whether its seal holds under `key` (the HMAC device key or the Ed25519 public key, byte strings). */
export interface SealCheck {
  algorithm: number;
  key: string;
  digest: string;
  sealOk: boolean;
  /** an HMAC-sealed block's confirmation under the same key (the device key), when the seal
   * threads computed it ahead (byte string) */
  confirmation?: string;
}

/** What checkSeal reads of a block: its header, head, record bytes and seal. */
export type SealedParts = Pick<Block, 'header' | 'head' | 'recordBytes' | 'seal'>;

/**
 * A block cut into the parts its seal covers, without decoding its records (the seal
 * threads' work: decodeBlock's checks of the lengths, not its 50 record objects); throws
 * as decodeBlock does when the lengths do not add up.
 */
export function sealedParts(raw: string): SealedParts {
  const header = decodeBlockHead(raw);
  const headLength = blockHeadBytes(header.customers.length, raw.charCodeAt(BlockHead.FLAGS));
  const n = sealBytes(header.algorithm);
  if (n < 0) throw new Error('unknown seal algorithm ' + header.algorithm);
  const recordsLength = header.recordCount * RECORD_BYTES;
  if (raw.length !== headLength + recordsLength + n) throw new Error(`block length ${raw.length} does not match its header (${headLength + recordsLength + n})`);
  return { header, head: raw.substr(0, headLength), recordBytes: raw.substr(headLength, recordsLength), seal: raw.substr(headLength + recordsLength) };
}

/** The digest chain and the seal of a decoded block under a key: the costly part of verifyBlock. */
export function checkSeal(block: SealedParts, key: string, prims: SealPrimitives): SealCheck {
  const algorithm = block.header.algorithm;
  const digest = blockDigest(prims.sha256, block.head, block.recordBytes);
  const message = sealMessage(digest);
  const sealOk = algorithm === SEAL_HMAC ? sameBytes(prims.hmacSha256(key, message), block.seal) : algorithm === SEAL_ED25519 ? prims.ed25519Verify(key, message, block.seal) : false;
  return { algorithm, key, digest, sealOk };
}

/** checkSeal, and for a good HMAC seal the confirmation too (under the same key): what a seal
 * thread does, so that the event loop computes neither. */
export function checkSealAndConfirm(block: SealedParts, key: string, prims: SealPrimitives): SealCheck {
  const check = checkSeal(block, key, prims);
  if (check.sealOk && check.algorithm === SEAL_HMAC) check.confirmation = prims.hmacSha256(key, confirmMessage(block.header.device, block.header.seq, check.digest));
  return check;
}

/**
 * Verifies a sealed block (byte string) against what the context says of its device and the
 * stored blocks. `pre`: its seal already checked (checkSeal, in a worker thread); used only
 * when it was checked under the key the device has now, else the seal is checked again here.
 * `pieces`: the host's list of the block's pieces (server/pieces.ts encoding), which a block
 * with a per-piece chain needs; ignored for other blocks.
 */
export function verifyBlock(raw: string, ctx: VerifyContext, prims: SealPrimitives = noblePrimitives, pre?: SealCheck, pieces?: string): Verdict {
  let block: Block;
  try {
    block = decodeBlock(raw);
  } catch (e) {
    return { ok: false, code: 'BAD_BLOCK', reason: (e as Error).message };
  }
  const h = block.header;
  const reject = (code: PssErrorCodeName, reason: string): Verdict => ({ ok: false, code, reason, device: h.device, seq: h.seq });

  const device = ctx.device(h.device);
  if (!device) return reject('UNKNOWN_DEVICE', `device ${h.device} is not registered`);
  // a device whose withdrawal is pending still brings its final statistics
  if (device.status !== 'active' && device.status !== 'withdrawing') return reject('REVOKED', `device ${h.device} was revoked`);
  if (h.algorithm !== device.seal) return reject('WRONG_ALGORITHM', `block sealed with algorithm ${h.algorithm}, device ${h.device} is registered with ${device.seal}`);

  if (h.algorithm === SEAL_ED25519 && !device.publicKey) return reject('NO_CERTIFICATE', `device ${h.device} has no certified public key`);
  const key = h.algorithm === SEAL_HMAC ? ctx.deviceKey(h.device) : device.publicKey!;
  // checked in a worker thread already (server/seal-pool.ts) under this very key, or here
  const checked = pre && pre.algorithm === h.algorithm && pre.key === key ? pre : checkSeal(block, key, prims);
  const digest = checked.digest;
  if (!checked.sealOk)
    return reject('BAD_SEAL', h.algorithm === SEAL_HMAC ? 'HMAC seal does not match the block under the device key' : "Ed25519 seal does not verify under the device's certified key");

  const last = ctx.lastBlock(h.device);
  const lastSeq = last ? last.seq : 0;
  if (h.seq === 0) return reject('IMPLAUSIBLE', 'block number 0 (blocks count from 1)');
  if (h.seq <= lastSeq) {
    const stored = ctx.storedDigest(h.device, h.seq);
    if (stored !== undefined && sameBytes(stored, digest)) return { ok: true, repeat: true, block, digest };
    return reject('REPLAY', `block ${h.seq} of device ${h.device} is already stored with other contents`);
  }
  if (h.seq > lastSeq + 1) return reject('GAP', `block ${h.seq} follows block ${lastSeq}: blocks ${lastSeq + 1}..${h.seq - 1} are missing`);

  const why = implausible(block, last, ctx.trustedTimeGiven && ((at) => ctx.trustedTimeGiven!(h.device, at)));
  if (why) return reject('IMPLAUSIBLE', why);
  if (h.chain !== undefined) {
    if (pieces === undefined) return reject('PIECES', `device ${h.device} keeps per-piece data: block ${h.seq} needs the list of its ${h.chainPieces} pieces (psd upload sends it from the host store)`);
    let problem: string;
    try {
      problem = pieceListProblem(block, decodePieceList(pieces), prims.sha256, ctx.deviceKey(h.device));
    } catch (e) {
      problem = (e as Error).message;
    }
    if (problem) return reject('PIECES', `block ${h.seq}: ${problem}`);
  }
  return { ok: true, repeat: false, block, digest };
}

/**
 * The first reason the block does not add up, or '' when it does. Times continue: a block
 * starts where the previous one ended, or earlier only at a trusted time the data center gave
 * the device (`trustedTimeGiven`, seconds): a clock the host had set forward, then set back by
 * the data center, starts the next block there (firmware/ondemand/contact.ts). A later start
 * is a gap in time, always refused.
 */
export function implausible(block: Block, previous: PreviousBlock | undefined, trustedTimeGiven?: (at: number) => boolean): string {
  const h = block.header;
  const prevAscending = previous ? previous.ascending : 0;
  const prevPieces = previous ? previous.pieces : 0;
  if (h.previousAscending !== prevAscending || h.previousPieces !== prevPieces)
    return `previous registers (AR ${h.previousAscending}, pieces ${h.previousPieces}) differ from the ${previous ? 'stored block ' + previous.seq : 'start'} (AR ${prevAscending}, pieces ${prevPieces})`;
  if (previous && h.from > previous.to) return `from ${h.from} is after the previous block's to ${previous.to}: a gap in time`;
  if (previous && h.from < previous.to && !trustedTimeGiven?.(h.from))
    return `from ${h.from} is before the previous block's to ${previous.to}, and no trusted time the data center gave the device`;
  if (h.to < h.from) return `to ${h.to} is before from ${h.from}`;
  if (h.ascending + h.descending !== h.fundsTotal) return `AR ${h.ascending} + DR ${h.descending} != funds loaded ${h.fundsTotal}`;
  if (h.pieces < h.previousPieces || h.ascending < h.previousAscending) return 'registers moved backwards';
  if (h.rateNewest !== undefined && (!h.rateOldest || h.rateOldest > h.rateNewest)) return `rate-table versions ${h.rateOldest}..${h.rateNewest} are not a range`;

  let pieces = 0;
  let amount = 0;
  const customers: number[] = [];
  for (let i = 0; i < block.records.length; i++) {
    const r = block.records[i];
    if (r.category >= MAX_CATEGORIES) return `record ${i}: category ${r.category} out of range`;
    if (r.weightBand === MIXED_BAND) {
      // a summary record (the PSD folded a category's bands and postages): only sums are left
      if (r.postage !== 0) return `record ${i}: a summary record has postage ${r.postage}, not 0 (mixed)`;
      if (r.weight < r.pieces || r.weight > r.pieces * MAX_WEIGHT_G) return `record ${i}: weight ${r.weight} g does not fit ${r.pieces} pieces`;
      if (r.amount < r.pieces) return `record ${i}: amount ${r.amount} is less than one minor unit per piece`;
    } else {
      if (r.amount !== r.pieces * r.postage) return `record ${i}: amount ${r.amount} != ${r.pieces} pieces x ${r.postage}`;
      if (r.weightBand >= WEIGHT_BANDS_G.length) return `record ${i}: weight band ${r.weightBand} out of range`;
      // every piece of the band weighs more than the band below's limit and at most its own
      const lower = r.weightBand > 0 ? WEIGHT_BANDS_G[r.weightBand - 1] + 1 : 1;
      if (r.weight < r.pieces * lower || r.weight > r.pieces * WEIGHT_BANDS_G[r.weightBand]) return `record ${i}: weight ${r.weight} g does not fit ${r.pieces} pieces of band ${r.weightBand}`;
    }
    pieces += r.pieces;
    amount += r.amount;
    if (customers.indexOf(r.customer) < 0) customers.push(r.customer);
  }
  if (pieces !== h.pieces - h.previousPieces) return `records hold ${pieces} pieces, registers moved ${h.pieces - h.previousPieces}`;
  if (amount !== h.ascending - h.previousAscending) return `records hold ${amount} postage, AR moved ${h.ascending - h.previousAscending}`;
  customers.sort((a, b) => a - b);
  if (customers.length !== h.customers.length || customers.some((c, i) => c !== h.customers[i]))
    return `customer list [${h.customers.join(', ')}] is not the records' customers [${customers.join(', ')}]`;
  return '';
}
