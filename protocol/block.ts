// The sealed statistics block: what the PSD extracts, the host stores and carries, and the
// PSS authenticates. One layout for all three (big-endian, byte strings).
//
//   offset size  field
//   0      4     magic "PSB1"
//   4      1     seal algorithm: 1 = HMAC-SHA256 (32-byte seal), 2 = Ed25519 (64-byte seal)
//   5      1     reserved, 0
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
// Seal: HMAC-SHA256(device key, "PSD-SEAL" || d), or Ed25519 over "PSD-SEAL" || d.
// Confirmation (PSS -> PSD): HMAC-SHA256(device key, "PSD-CONFIRM" || device || seq || d).
import { u16, u32, u48, readU16, readU32, readU48 } from './bytes.ts';
import { RECORD_BYTES, CumulativeRecord, encodeRecord, decodeRecord } from './records.ts';

export var BLOCK_MAGIC = 'PSB1';
export var BLOCK_HEADER_BYTES = 58;
export var SEAL_HMAC = 1;
export var SEAL_ED25519 = 2;
export var DIGEST_SEGMENT_RECORDS = 16;
/** Most records in one block: the count is a u16, and no board holds more. */
export var MAX_BLOCK_RECORDS = 65535;

/**
 * Where each field of the block header sits (byte offsets; encodeBlockHead writes them in this
 * order). Code that reads one field of an encoded head without decoding it (the PSD: a decode
 * costs variables) names it here; the firmware build puts each offset's number in its place.
 */
export var BlockHead = {
  ALGORITHM: 4,
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
}

/** Header and customer list: the part of the block before the records. */
export function encodeBlockHead(h: BlockHeader): string {
  var out =
    BLOCK_MAGIC +
    String.fromCharCode(h.algorithm, 0) +
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
  return out;
}

/** Parses the head; throws an Error with a reason on a malformed one. */
export function decodeBlockHead(s: string): BlockHeader {
  if (s.length < BLOCK_HEADER_BYTES) throw new Error('block shorter than its header');
  if (s.substr(0, 4) !== BLOCK_MAGIC) throw new Error('not a statistics block (bad magic)');
  var c = readU16(s, BlockHead.CUSTOMER_COUNT);
  if (s.length < BLOCK_HEADER_BYTES + 4 * c) throw new Error('block shorter than its customer list');
  var customers: number[] = [];
  for (var i = 0; i < c; i++) customers.push(readU32(s, BLOCK_HEADER_BYTES + 4 * i));
  return {
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
}

export function blockHeadBytes(customerCount: number): number {
  return BLOCK_HEADER_BYTES + 4 * customerCount;
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
  var headLength = blockHeadBytes(header.customers.length);
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
