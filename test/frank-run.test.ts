// The CLI's franking run as a plain function (host-bridge/frank-run.ts runFranking), called
// without the CLI parser against the built image on the virtual board: single pieces, a
// batch-mode batch in chunks, a run stopped by its caller, a refusal of the device mid-run,
// and the statistics records that must add up to what the runs franked.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { fromHex } from '../protocol/bytes.ts';
import { type CumulativeRecord } from '../protocol/records.ts';
import { decodeRecord } from '../protocol/record-codec.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { PsdError } from '../host-bridge/errors.ts';
import { openLink } from '../host-bridge/link.ts';
import { runFranking, type FrankRunParams, type FrankRunReporter } from '../host-bridge/frank-run.ts';
import { startTarget, type Target } from '../testkit/target.ts';
import { TestKms } from '../testkit/harness.ts';

describe('franking run as a plain function (runFranking, no CLI parser)', function () {
  this.timeout(60000);
  const FUNDS = 5000;
  const kms = new TestKms(4242);
  let t: Target;
  let c: PsdClient;
  let store: string;
  /** what the device franked so far, by customer: the records must say the same */
  const franked = new Map<number, { pieces: number; amount: number }>();
  const count = (customer: number, pieces: number, amount: number) => {
    const f = franked.get(customer) ?? { pieces: 0, amount: 0 };
    franked.set(customer, { pieces: f.pieces + pieces, amount: f.amount + amount });
  };
  const params = (p: Partial<FrankRunParams>): FrankRunParams => ({ chunk: 250, store, ...p });
  /** a reporter that notes everything it is told */
  const recorder = (stopAfter?: number) => {
    const seen = { starts: [] as { total: number; requests: number; mode: string }[], progress: [] as number[], inFlight: [] as ({ id: number; count: number } | null)[] };
    const reporter: FrankRunReporter = {
      start: (run) => seen.starts.push(run),
      progress: (n) => seen.progress.push(n),
      inFlight: (r) => seen.inFlight.push(r),
      stopping: () => stopAfter !== undefined && seen.progress.length > 0 && seen.progress[seen.progress.length - 1] >= stopAfter
    };
    return { seen, reporter };
  };
  const registers = async () => (await c.request(Command.STATUS)).registers;

  before(async function () {
    t = await startTarget({ virtual: true, pty: false });
    c = new PsdClient(await openLink(t.tcpUrl!), { timeoutMs: 5000 });
    store = mkdtempSync(join(tmpdir(), 'psd-frank-run-'));
    await c.request(Command.PROVISION, kms.provisionBody());
    await c.request(Command.CLOCK, { now: Date.now() });
    await c.request(Command.FUNDS, kms.funds(1, FUNDS));
  });
  after(async () => {
    await c?.close();
    await t?.close();
    if (store) rmSync(store, { recursive: true, force: true });
  });

  it('franks a single piece: one request, the registers moved by its postage', async () => {
    const { seen, reporter } = recorder();
    const r = await runFranking(c, params({ customer: 1001, category: 1, weight: 20, postage: 85 }), reporter);
    count(1001, 1, 85);
    expect(r).to.include({ mode: 'single', customer: 1001, txn: null, pieces: 1, amount: 85, requests: 1, retries: 0, replay: false, first: 1 });
    expect(r.ids).to.have.length(1);
    expect(r.registers).to.deep.equal({ ascending: 85, descending: FUNDS - 85, pieces: 1, controlTotal: FUNDS });
    expect(r.registers).to.deep.equal(await registers());
    expect(seen.starts).to.deep.equal([{ total: 1, requests: 1, mode: 'single' }]);
    expect(seen.progress).to.deep.equal([1]);
    expect(seen.inFlight).to.deep.equal([{ id: r.ids[0], count: 1 }, null]);
    expect(r).to.not.have.property('interrupted');
  });

  it('refuses parameters the device state does not allow before sending any FRANK', async () => {
    const before = await registers();
    for (const [p, message] of [
      [{ category: 1, weight: 20, postage: 85 }, /needs --customer/],
      [{ customer: 1001, category: 1, weight: 20, kind: 'zero' as const, postage: 5 }, /carry no postage/],
      [{ customer: 1001, category: 1, weight: 20, postage: 85, count: 3 }, /--count is for a batch-mode batch/]
    ] as const) {
      const { seen, reporter } = recorder();
      const e = await runFranking(c, params(p), reporter).then(
        () => null,
        (x) => x
      );
      expect(e, JSON.stringify(p)).to.be.instanceOf(PsdError);
      expect((e as PsdError).code).to.equal(ErrorCode.BAD_ARGUMENT);
      expect((e as PsdError).message).to.match(message);
      expect(seen.starts, 'nothing sent').to.deep.equal([]);
    }
    expect(await registers()).to.deep.equal(before);
  });

  it('franks a batch-mode batch in chunks, each request its chunk of pieces', async () => {
    const b = await c.request(Command.BATCH_START, { mode: 'batch', customer: 1002, category: 3, weight: 45, postage: 60 });
    const { seen, reporter } = recorder();
    const r = await runFranking(c, params({ count: 22, chunk: 5 }), reporter);
    count(1002, 22, 22 * 60);
    expect(r).to.include({ mode: 'batch', customer: 1002, txn: b.txn, pieces: 22, amount: 1320, requests: 5, first: 2 });
    expect(seen.starts).to.deep.equal([{ total: 22, requests: 5, mode: 'batch' }]);
    expect(seen.progress).to.deep.equal([5, 10, 15, 20, 22]);
    expect(seen.inFlight.filter((x) => x).map((x) => x!.count)).to.deep.equal([5, 5, 5, 5, 2]);
    expect(r.registers).to.deep.equal({ ascending: 85 + 1320, descending: FUNDS - 85 - 1320, pieces: 23, controlTotal: FUNDS });
    // a batch's piece options are fixed: giving one is refused, nothing franked
    const e = await runFranking(c, params({ count: 2, weight: 45 })).catch((x) => x);
    expect(e).to.be.instanceOf(PsdError);
    expect(e.message).to.match(/batch mode: its category, weight and postage are fixed/);
  });

  it('stops when its caller asks: the request on the line is answered, no more are sent', async () => {
    const { seen, reporter } = recorder(4);
    const r = await runFranking(c, params({ count: 12, chunk: 4 }), reporter);
    count(1002, 4, 4 * 60);
    expect(r).to.include({ pieces: 4, amount: 240, requests: 1, interrupted: true, requested: 12 });
    expect(seen.progress).to.deep.equal([4]);
    expect((await registers()).pieces).to.equal(27);
  });

  it('a refusal of the device mid-run: what was acknowledged stays franked, the refusal comes back as it came', async () => {
    const left = (await registers()).descending;
    // 600 per request of 10 pieces: the funds last for whole requests, then the device refuses
    const whole = Math.floor(left / 600);
    expect(whole).to.be.greaterThan(1);
    const { seen, reporter } = recorder();
    const e = await runFranking(c, params({ count: 100, chunk: 10 }), reporter).catch((x) => x);
    count(1002, whole * 10, whole * 600);
    expect(e).to.be.instanceOf(PsdError);
    expect(e.code).to.equal(ErrorCode.NO_FUNDS);
    expect(seen.starts).to.deep.equal([{ total: 100, requests: 10, mode: 'batch' }]);
    expect(seen.progress).to.deep.equal(Array.from({ length: whole }, (_, i) => (i + 1) * 10));
    // the refused request was on the line and was never acknowledged
    expect(seen.inFlight[seen.inFlight.length - 1]).to.include({ count: 10 });
    const reg = await registers();
    expect(reg).to.deep.equal({ ascending: FUNDS - left + whole * 600, descending: left - whole * 600, pieces: 27 + whole * 10, controlTotal: FUNDS });
  });

  it('the records add up to the runs, customer by customer, and to the registers', async () => {
    await c.request(Command.BATCH_END);
    await c.request(Command.STATS_FLUSH);
    const records: CumulativeRecord[] = [];
    for (let from = 0; ; ) {
      const page = await c.request(Command.STATS_LIST, { tier: 'flash', from });
      for (const h of page.records) records.push(decodeRecord(fromHex(h), 0));
      from += page.records.length;
      if (!page.records.length || from >= page.total) break;
    }
    const byCustomer = new Map<number, { pieces: number; amount: number }>();
    for (const r of records) {
      const x = byCustomer.get(r.customer) ?? { pieces: 0, amount: 0 };
      byCustomer.set(r.customer, { pieces: x.pieces + r.pieces, amount: x.amount + r.amount });
    }
    expect(byCustomer).to.deep.equal(franked);
    const reg = await registers();
    const all = [...franked.values()].reduce((s, x) => ({ pieces: s.pieces + x.pieces, amount: s.amount + x.amount }), { pieces: 0, amount: 0 });
    expect(reg.pieces).to.equal(all.pieces);
    expect(reg.ascending).to.equal(all.amount);
  });

  it('a zero-value piece: counted, no postage, no funds moved', async () => {
    const before = await registers();
    const r = await runFranking(c, params({ customer: 1003, category: 2, weight: 20, kind: 'zero' }));
    expect(r).to.include({ mode: 'single', pieces: 1, amount: 0, kind: 'zero-value' });
    expect(r.registers).to.deep.equal({ ...before, pieces: before.pieces + 1 });
  });
});
