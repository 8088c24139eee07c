// The design's invariants, checked from outside through the protocol.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { fromHex } from '../protocol/bytes.ts';
import { CumulativeRecord, MIXED_BAND } from '../protocol/records.ts';
import { decodeRecord } from '../protocol/record-codec.ts';
import type { Device } from './harness.ts';

export async function listRecords(d: Device, tier: 'flash' | 'ram'): Promise<CumulativeRecord[]> {
  const out: CumulativeRecord[] = [];
  for (let from = 0; ; ) {
    const r = await d.call(Command.STATS_LIST, { tier, from });
    for (const hex of r.records) out.push(decodeRecord(fromHex(hex), 0));
    from += r.records.length;
    if (from >= r.total || !r.records.length) return out;
  }
}

/** AR + DR = funds loaded; records (both tiers) sum to the register movement. */
export async function checkInvariants(d: Device, fundsLoaded: number, released = { pieces: 0, amount: 0 }) {
  const s = await d.call(Command.STATUS);
  const reg = s.registers;
  expect(s.lock, 'device locked: ' + JSON.stringify(s.lock)).to.equal(null);
  expect(reg.ascending + reg.descending, 'AR + DR').to.equal(fundsLoaded);
  expect(reg.controlTotal).to.equal(fundsLoaded);
  const records = [...(await listRecords(d, 'flash')), ...(await listRecords(d, 'ram'))];
  const pieces = records.reduce((a, r) => a + r.pieces, 0) + released.pieces;
  const amount = records.reduce((a, r) => a + r.amount, 0) + released.amount;
  expect(pieces, 'pieces in records').to.equal(reg.pieces);
  expect(amount, 'amount in records').to.equal(reg.ascending);
  // (a summary record, folded from several postages, has postage 0 and no such identity)
  for (const r of records) if (r.weightBand !== MIXED_BAND) expect(r.amount, 'record amount = pieces x postage').to.equal(r.pieces * r.postage);
  return { status: s, records };
}
