// Power cut at every flash write of a scripted workload, on the built image in the virtual
// board: two customers, batch and dynamic mode, a flush, a period rollover. After each cut
// the board is powered up again and must hold consistent registers and records, with no
// acknowledged piece lost and no piece counted twice, and must frank again. With per-piece data
// on, the chain each block carries must be exactly the chain over the indicia the device gave
// (and, for the request in flight, gives after the cut if it landed): no piece lost from it or
// chained twice.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ImageDevice, TestKms } from '../testkit/harness.ts';
import { checkInvariants } from '../testkit/invariants.ts';
import { extractBlock } from '../host-bridge/extract.ts';
import { weightBand } from '../protocol/records.ts';
import { fromHex } from '../protocol/bytes.ts';
import { pieceChainStart, pieceChainStep } from '../protocol/piece-chain.ts';
import { parseIndicium } from '../protocol/indicium.ts';
import type { Block } from '../protocol/block.ts';
import { sha256 } from '../server/hashes.ts';

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
  pendingConfirmed: null | { pieces: number; amount: number };
  /** per-piece data: every piece's weight band and indicium (byte string), by piece number;
   * the weight band of the request in flight */
  kept: Map<number, { band: number; indicium: string }>;
  pendingBand: number;
}

const fresh = (): Progress => ({ funds: 0, pieces: 0, pendingFunds: 0, pendingPieces: 0, confirmed: { pieces: 0, amount: 0 }, pendingConfirmed: null, kept: new Map(), pendingBand: 0 });

/** Keeps the indicia of the last FRANK commit, from piece `from` on, as the host does. */
async function keepIndicia(d: ImageDevice, p: Progress, from: number, count: number, band: number) {
  for (let n = from; n < from + count; ) {
    const r = await d.call(Command.INDICIA, { from: n });
    for (const hex of r.indicia) p.kept.set(n++, { band, indicium: fromHex(hex) });
  }
}

/** The block's chain must be the chain over the indicia the device gave for its pieces. */
function expectChain(b: Block, p: Progress, at: string) {
  const h = b.header;
  expect(h.chainPieces, at + ' chain pieces').to.equal(h.pieces - h.previousPieces);
  let c = pieceChainStart(sha256, h.device, h.seq);
  for (let n = h.previousPieces + 1; n <= h.pieces; n++) {
    const k = p.kept.get(n);
    expect(k, `${at}: indicium of piece ${n}`).to.not.equal(undefined);
    expect(parseIndicium(k!.indicium).piece).to.equal(n);
    c = pieceChainStep(sha256, c, k!.band, k!.indicium);
  }
  expect(h.chain === c, `${at}: block ${h.seq}'s chain is the chain over its ${h.pieces - h.previousPieces} pieces`).to.equal(true);
}

async function workload(d: ImageDevice, kms: TestKms, p: Progress, perPiece = false) {
  const step = async (type: number, body: any, adds: { funds?: number; pieces?: number } = {}, weight = 0) => {
    p.pendingFunds = adds.funds ?? 0;
    p.pendingPieces = adds.pieces ?? 0;
    p.pendingBand = weight ? weightBand(weight) : 0;
    const r = await d.call(type, body);
    p.funds += p.pendingFunds;
    p.pieces += p.pendingPieces;
    if (perPiece && type === Command.FRANK) await keepIndicia(d, p, r.first, r.count, p.pendingBand);
    p.pendingFunds = p.pendingPieces = 0;
    return r;
  };
  await step(Command.PROVISION, kms.provisionBody());
  await step(Command.CLOCK, { now: T0 });
  await step(Command.CONFIG, { flushEveryPieces: 40, ...(perPiece ? { perPiece: true } : {}) });
  await step(Command.FUNDS, kms.funds(1, 100000), { funds: 100000 });
  // customer 1: batch mode, two requests of many pieces
  await step(Command.BATCH_START, { customer: 1, mode: 'batch', category: 3, weight: 20, postage: 85 });
  await step(Command.FRANK, { id: 11, count: 30 }, { pieces: 30 }, 20);
  await step(Command.FRANK, { id: 12, count: 25 }, { pieces: 25 }, 20);
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
  for (const [category, weight, postage] of dynamic) await step(Command.FRANK, { id: ++id, category, weight, postage }, { pieces: 1 }, weight);
  await step(Command.STATS_FLUSH, {});
  // extraction (seal) and the data center's confirmation free the sealed records
  const x = await extractBlock((t, b) => d.call(t, b));
  if (perPiece) expectChain(x.block, p, 'uncut');
  p.pendingConfirmed = { pieces: x.block.header.pieces, amount: x.block.header.ascending };
  await d.call(Command.CONFIRM, kms.confirm(x.block.header.seq, x.digest));
  p.confirmed = p.pendingConfirmed;
  p.pendingConfirmed = null;
  // a day later: the period flush happens with the next pieces
  d.vb.advanceTime(DAY + 60);
  await step(Command.CLOCK, { now: T0 + (DAY + 120) * 1000 });
  await step(Command.FRANK, { id: ++id, category: 1, weight: 15, postage: 85 }, { pieces: 1 }, 15);
  await step(Command.BATCH_END, {});
  await step(Command.FUNDS, kms.funds(2, 5000), { funds: 5000 });
  await step(Command.FRANK, { id: ++id, customer: 1, category: 3, weight: 20, postage: 85 }, { pieces: 1 }, 20);
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

  const runs = [
    ['before', false],
    ['partial', false],
    ['after', false],
    // (one mode with the chain: each run of every cut takes some 3 minutes here)
    ['partial', true]
  ] as const;
  for (const [mode, perPiece] of runs) {
    it(`recovers from a cut at every flash operation (${mode}${perPiece ? ', per-piece chain' : ''})`, async () => {
      const probe = new ImageDevice({ board: 'pico' });
      await workload(probe, new TestKms(), fresh(), perPiece);
      const total = probe.vb.flashStats().ops;
      probe.close();
      for (let k = 1; k <= total; k++) {
        const d = new ImageDevice({ board: 'pico', powerCut: { atOp: k, mode } });
        const kms = new TestKms();
        const p: Progress = fresh();
        let cut = false;
        try {
          await workload(d, kms, p, perPiece);
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
        if (perPiece) {
          // the request in flight landed: its indicia are the device's last commit's
          if (r.pieces > p.pieces) await keepIndicia(d, p, p.pieces + 1, r.pieces - p.pieces, p.pendingBand);
          // the block awaiting confirmation (if any), then the pieces since: each block's chain exact
          await d.call(Command.CLOCK, { now: T0 + 3 * DAY * 1000 });
          if ((await d.call(Command.CONFIG, {})).config.perPiece) {
            if (s.block.awaitingConfirmation) {
              const w = await extractBlock((t, b) => d.call(t, b));
              expectChain(w.block, p, at + ' awaiting');
              await d.call(Command.CONFIRM, kms.confirm(w.block.header.seq, w.digest));
              released.pieces = w.block.header.pieces;
              released.amount = w.block.header.ascending;
            }
            const y = await extractBlock((t, b) => d.call(t, b));
            expectChain(y.block, p, at);
            await d.call(Command.CONFIRM, kms.confirm(y.block.header.seq, y.digest));
            released.pieces = y.block.header.pieces;
            released.amount = y.block.header.ascending;
            await checkInvariants(d, r.ascending + r.descending, released);
          }
        }
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
