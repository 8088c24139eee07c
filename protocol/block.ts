// The sealed statistics block: what the PSD extracts, the host stores and carries, and the
// PSS authenticates. One layout for all three (big-endian, byte strings).
//
//   offset size  field
//   0      4     magic "PSB1"
//   4      1     seal algorithm: 1 = HMAC-SHA256 (32-byte seal), 2 = Ed25519 (64-byte seal)
//   5      1     extensions (flags): 1 = rate-table versions, 2 = per-piece chain; 0 in blocks
//                before them (still read)
//   6      2     record count n
//   8      4     device number
//   12     4     block sequence number (1, 2, 3, ... per device, no gaps)
//   16     4     from: seconds since 1970, the previous block's `to` (or the first franking)
//   20     4     to: seconds since 1970 at sealing
//   24     6     ascending register at sealing
//   30     6     descending register at sealing
//   36     4     piece counter at sealing
//   40     6     ascending register at the previous block's sealing
//   46     4     piece counter at the previous block's sealing
//   50     6     funds loaded in all (AR + DR) at sealing
//   56     2     customer count c
//   58     4c    customer numbers, ascending
//   extensions, in flag order, each only when its flag is set:
//   ..     2     rate tables (flag 1): the oldest version that priced a piece of this block
//   ..     2       ... and the newest (protocol/rates.ts; a block without the flag: none, every
//                  piece's postage was declared by the host)
//   ..     4     per-piece chain (flag 2): pieces in the chain (all of the block's pieces)
//   ..     32      ... the chain value after its last piece (pieceChainStep)
//   ..     24n   cumulative records (protocol/records.ts), in the device's table order
//   ..     32|64 seal
//
// Plausibility the PSS checks: the records' pieces sum to (piece counter - previous piece
// counter), their amounts to (AR - previous AR); AR + DR = funds loaded; the previous
// registers equal the registers of the device's previous block; `from` = previous `to`.
//
// Digest: a hash chain, so a board with a one-shot native SHA-256 and a few KB of RAM can
// compute it a segment at a time while reading records from flash:
//   d = SHA256("PSD-BLOCK" || header || customers)
//   d = SHA256(d || records[16k .. 16k+15])  for each segment of up to 16 records
// The extensions are part of the head, so the digest and the seal cover them.
//
// Per-piece chain (the option `perPiece`: US IMI, Royal Mail Mailmark): the host keeps every
// indicium it printed; the PSD chains them in franking order, from a start bound to the device
// and the block number, so the PSS can check the host's list of the block's pieces:
//   c0 = SHA256("PSD-PIECES" || device u32 || seq u32)
//   ci = SHA256(c(i-1) || weight band u8 || indicium bytes)   for each piece (not test imprints)
// (protocol/piece-chain.ts: the resident franking path computes it, so it lives apart from
// this file, which the on-demand sealing code carries)
// Seal: HMAC-SHA256(device key, "PSD-SEAL" || d), or Ed25519 over "PSD-SEAL" || d.
// Confirmation (PSS -> PSD): HMAC-SHA256(device key, "PSD-CONFIRM" || device || seq || d).
import { u16, u32, u48, readU16, readU32, readU48 } from './bytes.ts';
import { RECORD_BYTES, CumulativeRecord } from './records.ts';
import { encodeRecord, decodeRecord } from './record-codec.ts';

export var BLOCK_MAGIC = 'PSB1';
export var BLOCK_HEADER_BYTES = 58;
export var SEAL_HMAC = 1;
export var SEAL_ED25519 = 2;
export var DIGEST_SEGMENT_RECORDS = 16;
/** Extension flags (byte 5 of the head). */
export var BLOCK_RATES = 1;
export var BLOCK_CHAIN = 2;
export var RATES_EXTENSION_BYTES = 4;
export var CHAIN_EXTENSION_BYTES = 36;
/** Most records in one block: the count is a u16, and no board holds more. */
export var MAX_BLOCK_RECORDS = 65535;

/**
 * Where each field of the block header sits (byte offsets; encodeBlockHead writes them in this
 * order). Code that reads one field of an encoded head without decoding it (the PSD: a decode
 * costs variables) names it here; the firmware build puts each offset's number in its place.
 */
export var BlockHead = {
  ALGORITHM: 4,
  FLAGS: 5,
  RECORD_COUNT: 6,
  DEVICE: 8,
  SEQ: 12,
  FROM: 16,
  TO: 20,
  ASCENDING: 24,
  DESCENDING: 30,
  PIECES: 36,
  PREVIOUS_ASCENDING: 40,
  PREVIOUS_PIECES: 46,
  FUNDS_TOTAL: 50,
  CUSTOMER_COUNT: 56
};

export function sealBytes(algorithm: number): number {
  return algorithm === SEAL_ED25519 ? 64 : algorithm === SEAL_HMAC ? 32 : -1;
}

export interface BlockHeader {
  algorithm: number;
  recordCount: number;
  device: number;
  seq: number;
  from: number;
  to: number;
  ascending: number;
  descending: number;
  pieces: number;
  previousAscending: number;
  previousPieces: number;
  fundsTotal: number;
  customers: number[];
  /** rate-table versions that priced this block's pieces, oldest and newest (0: none; the
   * rates extension is written only when rateNewest is not 0) */
  rateOldest?: number;
  rateNewest?: number;
  /** the per-piece chain (present only on a device with the option on): pieces in it, and its value (32 bytes) */
  chainPieces?: number;
  chain?: string;
}

/** The extension flags a header needs. */
export function blockFlags(h: BlockHeader): number {
  return (h.rateNewest ? BLOCK_RATES : 0) | (h.chain ? BLOCK_CHAIN : 0);
}

/** Header, customer list and extensions: the part of the block before the records. */
export function encodeBlockHead(h: BlockHeader): string {
  var out =
    BLOCK_MAGIC +
    String.fromCharCode(h.algorithm, blockFlags(h)) +
    u16(h.recordCount) +
    u32(h.device) +
    u32(h.seq) +
    u32(h.from) +
    u32(h.to) +
    u48(h.ascending) +
    u48(h.descending) +
    u32(h.pieces) +
    u48(h.previousAscending) +
    u32(h.previousPieces) +
    u48(h.fundsTotal) +
    u16(h.customers.length);
  for (var i = 0; i < h.customers.length; i++) out += u32(h.customers[i]);
  if (h.rateNewest) out += u16(h.rateOldest || 0) + u16(h.rateNewest);
  if (h.chain) out += u32(h.chainPieces || 0) + h.chain;
  return out;
}

/** Parses the head; throws an Error with a reason on a malformed one. */
export function decodeBlockHead(s: string): BlockHeader {
  if (s.length < BLOCK_HEADER_BYTES) throw new Error('block shorter than its header');
  if (s.substr(0, 4) !== BLOCK_MAGIC) throw new Error('not a statistics block (bad magic)');
  var c = readU16(s, BlockHead.CUSTOMER_COUNT);
  var flags = s.charCodeAt(BlockHead.FLAGS);
  if (flags & ~(BLOCK_RATES | BLOCK_CHAIN)) throw new Error('unknown block extensions ' + flags);
  if (s.length < blockHeadBytes(c, flags)) throw new Error('block shorter than its customer list and extensions');
  var customers: number[] = [];
  for (var i = 0; i < c; i++) customers.push(readU32(s, BLOCK_HEADER_BYTES + 4 * i));
  var at = BLOCK_HEADER_BYTES + 4 * c;
  var ext: any = {};
  if (flags & BLOCK_RATES) {
    ext.rateOldest = readU16(s, at);
    ext.rateNewest = readU16(s, at + 2);
    at += RATES_EXTENSION_BYTES;
  }
  if (flags & BLOCK_CHAIN) {
    ext.chainPieces = readU32(s, at);
    ext.chain = s.substr(at + 4, 32);
  }
  var h: BlockHeader = {
    algorithm: s.charCodeAt(BlockHead.ALGORITHM),
    recordCount: readU16(s, BlockHead.RECORD_COUNT),
    device: readU32(s, BlockHead.DEVICE),
    seq: readU32(s, BlockHead.SEQ),
    from: readU32(s, BlockHead.FROM),
    to: readU32(s, BlockHead.TO),
    ascending: readU48(s, BlockHead.ASCENDING),
    descending: readU48(s, BlockHead.DESCENDING),
    pieces: readU32(s, BlockHead.PIECES),
    previousAscending: readU48(s, BlockHead.PREVIOUS_ASCENDING),
    previousPieces: readU32(s, BlockHead.PREVIOUS_PIECES),
    fundsTotal: readU48(s, BlockHead.FUNDS_TOTAL),
    customers: customers
  };
  for (var k in ext) (h as any)[k] = ext[k];
  return h;
}

/** Bytes of the head: the fixed part, the customers, and the extensions `flags` names. */
export function blockHeadBytes(customerCount: number, flags?: number): number {
  var f = flags || 0;
  return BLOCK_HEADER_BYTES + 4 * customerCount + (f & BLOCK_RATES ? RATES_EXTENSION_BYTES : 0) + (f & BLOCK_CHAIN ? CHAIN_EXTENSION_BYTES : 0);
}

/** The hash chain over head and records, fed a segment at a time. */
export function digestStart(sha256: (b: string) => string, head: string): string {
  return sha256('PSD-BLOCK' + head);
}

export function digestSegment(sha256: (b: string) => string, digest: string, records: string): string {
  return sha256(digest + records);
}

/** The digest of a whole block body (head + records) held in memory (host, server). */
export function blockDigest(sha256: (b: string) => string, head: string, records: string): string {
  var d = digestStart(sha256, head);
  var seg = DIGEST_SEGMENT_RECORDS * RECORD_BYTES;
  for (var at = 0; at < records.length; at += seg) d = digestSegment(sha256, d, records.substr(at, seg));
  return d;
}

export function sealMessage(digest: string): string {
  return 'PSD-SEAL' + digest;
}

export function confirmMessage(device: number, seq: number, digest: string): string {
  return 'PSD-CONFIRM' + u32(device) + u32(seq) + digest;
}

export interface Block {
  header: BlockHeader;
  head: string;
  records: CumulativeRecord[];
  recordBytes: string;
  seal: string;
}

/** Splits a whole block (head + records + seal) into its parts; throws with a reason. */
export function decodeBlock(s: string): Block {
  var header = decodeBlockHead(s);
  var headLength = blockHeadBytes(header.customers.length, s.charCodeAt(BlockHead.FLAGS));
  var n = sealBytes(header.algorithm);
  if (n < 0) throw new Error('unknown seal algorithm ' + header.algorithm);
  var recordsLength = header.recordCount * RECORD_BYTES;
  if (s.length !== headLength + recordsLength + n) throw new Error('block length ' + s.length + ' does not match its header (' + (headLength + recordsLength + n) + ')');
  var recordBytes = s.substr(headLength, recordsLength);
  var records: CumulativeRecord[] = [];
  for (var at = 0; at < recordsLength; at += RECORD_BYTES) records.push(decodeRecord(recordBytes, at));
  return { header: header, head: s.substr(0, headLength), records: records, recordBytes: recordBytes, seal: s.substr(headLength + recordsLength) };
}

export function encodeBlock(header: BlockHeader, records: CumulativeRecord[], seal: string): string {
  var out = encodeBlockHead(header);
  for (var i = 0; i < records.length; i++) out += encodeRecord(records[i]);
  return out + seal;
}
