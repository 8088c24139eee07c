// The seed's alternative (claim 10): with `psd config --records-on-host on` the PSD keeps only
// its registers, and the host keeps the cumulative records. `psd frank` adds each piece here;
// `psd stats extract` passes them through the PSD, which seals them only if they sum to its
// own register movement since the last confirmed block, so the host cannot add or drop a
// piece. (It could move pieces between customers or classes of equal postage unnoticed by
// the PSD: that is the price of keeping the records off the device.)
import fs from 'node:fs';
import path from 'node:path';
import { Command } from '../protocol/commands.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { weightBand, type CumulativeRecord } from '../protocol/records.ts';
import { encodeRecord } from '../protocol/record-codec.ts';
import { decodeBlock, blockDigest } from '../protocol/block.ts';
import { RECORDS_PER_FRAME } from '../protocol/commands.ts';
import { sha256Bytes, type PsdCall, type ExtractedBlock } from './extract.ts';
import { writeDurableSync } from '../kit/durable.ts';

export class HostRecords {
  readonly file: string;
  constructor(dir: string, device: number) {
    this.file = path.join(dir, `host-records-PSD-${device}.json`);
  }

  read(): CumulativeRecord[] {
    if (!fs.existsSync(this.file)) return [];
    const data = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    if (!Array.isArray(data.records)) throw new Error(`${this.file} is damaged: no records list`);
    return data.records;
  }

  /** Durable like the block store (kit/durable.ts): temp file, fsync, rename, fsync the folder. */
  private write(records: CumulativeRecord[]) {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeDurableSync(this.file, JSON.stringify({ format: 'psd-host-records/1', records }, null, 1));
  }

  add(customer: number, category: number, weight: number, postage: number, pieces: number) {
    const records = this.read();
    const band = weightBand(weight);
    let r = records.find((x) => x.customer === customer && x.category === category && x.weightBand === band && x.postage === postage);
    if (!r) records.push((r = { customer, category, weightBand: band, postage, pieces: 0, amount: 0, weight: 0 }));
    r.pieces += pieces;
    r.amount += pieces * postage;
    r.weight += pieces * weight;
    this.write(records);
  }

  clear() {
    this.write([]);
  }
}

/** Passes the host's records through the PSD to be sealed; returns the whole block. */
export async function sealHostRecords(call: PsdCall, records: CumulativeRecord[]): Promise<ExtractedBlock> {
  const customers = [...new Set(records.map((r) => r.customer))].sort((a, b) => a - b);
  await call(Command.HOST_SEAL_BEGIN, { records: records.length, customers });
  for (let from = 0; from < records.length; from += RECORDS_PER_FRAME)
    await call(Command.HOST_SEAL_RECORDS, { from, records: records.slice(from, from + RECORDS_PER_FRAME).map((r) => toHex(encodeRecord(r))) });
  const sealed = await call(Command.HOST_SEAL_END, {});
  let head = '';
  while (head.length < sealed.headBytes) head += fromHex((await call(Command.BLOCK_READ, { seq: sealed.seq, headFrom: head.length })).head);
  const bytes = head + records.map(encodeRecord).join('') + fromHex(sealed.seal);
  const block = decodeBlock(bytes);
  const digest = blockDigest(sha256Bytes, block.head, block.recordBytes);
  if (digest !== fromHex(sealed.digest)) throw new Error(`block ${sealed.seq}: the PSD sealed other records than these`);
  return { bytes, block, digest, fresh: true };
}
