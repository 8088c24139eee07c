// Power cut at every flash write of a scripted workload, on the built image in the virtual
// board: two customers, batch and dynamic mode, a flush, a period rollover. After each cut
// the board is powered up again and must hold consistent registers and records, with no
// acknowledged piece lost and no piece counted twice, and must frank again.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ImageDevice, TestKms } from '../testkit/harness.ts';
import { checkInvariants } from '../testkit/invariants.ts';
import { extractBlock } from '../host-bridge/extract.ts';

const DAY = 86400;
const T0 = Date.UTC(2026, 10, 24, 8);

interface Progress {
  /** funds and pieces the device acknowledged */
  funds: number;
  pieces: number;
  /** what the request in flight when the power went would have added */
  pendingFunds: number;
  pendingPieces: number;
  /** pieces and AR of the last block the device acknowledged as confirmed, and of the one in flight */
  confirmed: { pieces: number; amount: number };
  pendingConfirmed: { pieces: number; amount: number } | null;
}

const fresh = (): Progress => ({ funds: 0, pieces: 0, pendingFunds: 0, pendingPieces: 0, confirmed: { pieces: 0, amount: 0 }, pendingConfirmed: null });

async function workload(d: ImageDevice, kms: TestKms, p: Progress) {
  const step = async (type: number, body: object, adds: { funds?: number; pieces?: number } = {}) => {
    p.pendingFunds = adds.funds ?? 0;
    p.pendingPieces = adds.pieces ?? 0;
    const r = await d.call(type, body);
    p.funds += p.pendingFunds;
    p.pieces += p.pendingPieces;
    p.pendingFunds = p.pendingPieces = 0;
    return r;
  };
  await step(Command.PROVISION, kms.provisionBody());
  await step(Command.CLOCK, { now: T0 });
  await step(Command.CONFIG, { flushEveryPieces: 40 });
  await step(Command.FUNDS, kms.funds(1, 100000), { funds: 100000 });
  // customer 1: batch mode, two requests of many pieces
  await step(Command.BATCH_START, { customer: 1, mode: 'batch', category: 3, weight: 20, postage: 85 });
  await step(Command.FRANK, { id: 11, count: 30 }, { pieces: 30 });
  await step(Command.FRANK, { id: 12, count: 25 }, { pieces: 25 });
  await step(Command.BATCH_END, {});
  // customer 2: dynamic mode, class and weight per piece
  await step(Command.BATCH_START, { customer: 2, mode: 'dynamic' });
  const dynamic = [
    [1, 15, 85],
    [2, 60, 145],
    [1, 18, 85],
    [4, 400, 270],
    [2, 55, 145]
  ];
  let id = 20;
  for (const [category, weight, postage] of dynamic) await step(Command.FRANK, { id: ++id, category, weight, postage }, { pieces: 1 });
  await step(Command.STATS_FLUSH, {});
  // extraction (seal) and the data center's confirmation free the sealed records
  const x = await extractBlock((t, b) => d.call(t, b));
  p.pendingConfirmed = { pieces: x.block.header.pieces, amount: x.block.header.ascending };
  await d.call(Command.CONFIRM, kms.confirm(x.block.header.seq, x.digest));
  p.confirmed = p.pendingConfirmed;
  p.pendingConfirmed = null;
  // a day later: the period flush happens with the next pieces
  d.vb.advanceTime(DAY + 60);
  await step(Command.CLOCK, { now: T0 + (DAY + 120) * 1000 });
  await step(Command.FRANK, { id: ++id, category: 1, weight: 15, postage: 85 }, { pieces: 1 });
  await step(Command.BATCH_END, {});
  await step(Command.FUNDS, kms.funds(2, 5000), { funds: 5000 });
  await step(Command.FRANK, { id: ++id, customer: 1, category: 3, weight: 20, postage: 85 }, { pieces: 1 });
  // a second block sealed, left awaiting confirmation
  await extractBlock((t, b) => d.call(t, b));
}

describe('power cut at every flash write of a franking workload (built image, virtual board)', function () {
  this.timeout(600000);

  it('counts the flash writes of the uncut workload', async () => {
    const d = new ImageDevice({ board: 'pico' });
    const kms = new TestKms();
    const p: Progress = fresh();
    await workload(d, kms, p);
    const s = await checkInvariants(d, p.funds, p.confirmed);
    expect(p.confirmed.pieces).to.equal(60);
    expect(s.status.registers.pieces).to.equal(62);
    expect(d.vb.flashStats().ops).to.be.greaterThan(20);
    d.close();
  });

  for (const mode of ['before', 'partial', 'after'] as const) {
    it(`recovers from a cut at every flash operation (${mode})`, async () => {
      const probe = new ImageDevice({ board: 'pico' });
      await workload(probe, new TestKms(), fresh());
      const total = probe.vb.flashStats().ops;
      probe.close();
      for (let k = 1; k <= total; k++) {
        const d = new ImageDevice({ board: 'pico', powerCut: { atOp: k, mode } });
        const kms = new TestKms();
        const p: Progress = fresh();
        let cut = false;
        try {
          await workload(d, kms, p);
        } catch (e) {
          cut = d.vb.dead;
          if (!cut) throw e;
        }
        expect(cut, `cut at op ${k} of ${total}`).to.equal(true);
        d.powerCycle();
        const at = `cut at op ${k} (${mode})`;
        const s = await d.call(Command.STATUS);
        expect(s.lock, at + ': ' + JSON.stringify(s.lock)).to.equal(null);
        if (!s.device) continue; // the cut came before provisioning landed: a blank device
        const r = s.registers;
        // the request in flight either landed whole or not at all
        expect([p.funds, p.funds + p.pendingFunds], at + ' funds').to.include(r.ascending + r.descending);
        expect([p.pieces, p.pieces + p.pendingPieces], at + ' pieces').to.include(r.pieces);
        // a confirmation in flight either freed its block or not; nothing else was freed
        const released = { pieces: s.block.confirmedPieces, amount: s.block.confirmedAscending };
        expect([p.confirmed, p.pendingConfirmed ?? p.confirmed], at + ' confirmed').to.deep.include(released);
        await checkInvariants(d, r.ascending + r.descending, released);
        // and it franks again
        await d.call(Command.CLOCK, { now: T0 + 3 * DAY * 1000 });
        if (r.descending >= 85) {
          if (s.batch) await d.call(Command.BATCH_END);
          await d.call(Command.FRANK, { id: 999, customer: 3, category: 1, weight: 10, postage: 85 });
          const after = await checkInvariants(d, r.ascending + r.descending, released);
          expect(after.status.registers.pieces, at).to.equal(r.pieces + 1);
        }
        d.close();
      }
    });
  }
});
