// Reading a sealed statistics block off the PSD: STATS_EXTRACT seals (or returns the block
// already awaiting confirmation), BLOCK_READ pages its records out, and the host checks what
// it assembled against the digest the PSD computed before storing or uploading it.
import { sha256Bytes } from './store.ts';
import { Command } from '../protocol/commands.ts';
import { fromHex } from '../protocol/bytes.ts';
import { decodeBlock, blockDigest, Block } from '../protocol/block.ts';
import { RECORD_BYTES } from '../protocol/records.ts';

/** One request to the PSD: PsdClient.request on the host, a test device's call in tests. */
export type PsdCall = (type: number, body: object) => Promise<any>;

export { sha256Bytes };

export interface ExtractedBlock {
  /** the whole sealed block as a byte string */
  bytes: string;
  block: Block;
  digest: string;
  /** false when the PSD returned the block it had already sealed */
  fresh: boolean;
}

/** `recordsPerRead` below the device's page size keeps answers small (inside a session). */
export async function extractBlock(call: PsdCall, onProgress?: (read: number, total: number) => void, recordsPerRead?: number): Promise<ExtractedBlock> {
  const sealed = await call(Command.STATS_EXTRACT, {});
  let records = '';
  const total: number = sealed.recordCount;
  while (records.length / RECORD_BYTES < total) {
    const page = await call(Command.BLOCK_READ, { seq: sealed.seq, from: records.length / RECORD_BYTES, count: recordsPerRead });
    if (!page.records.length) throw new Error(`PSD returned no records at ${records.length / RECORD_BYTES} of ${total}`);
    for (const hex of page.records) records += fromHex(hex);
    onProgress?.(records.length / RECORD_BYTES, total);
  }
  let head = '';
  while (head.length < sealed.headBytes) {
    const page = await call(Command.BLOCK_READ, { seq: sealed.seq, headFrom: head.length });
    if (!page.head) throw new Error(`PSD returned no head bytes at ${head.length} of ${sealed.headBytes}`);
    head += fromHex(page.head);
  }
  const bytes = head + records + fromHex(sealed.seal);
  const block = decodeBlock(bytes);
  const digest = blockDigest(sha256Bytes, block.head, block.recordBytes);
  // the line is CRC-checked per frame; this catches a block assembled wrongly from its pages
  if (digest !== fromHex(sealed.digest)) throw new Error(`block ${sealed.seq}: assembled records do not match the PSD's digest`);
  return { bytes, block, digest, fresh: sealed.fresh };
}
