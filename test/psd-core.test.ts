// The PSD's registers, franking modes, cumulative records and tiers, through the protocol:
// on the TypeScript core (in-memory board) and on the built image in the virtual board.
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { fromHex } from '../protocol/bytes.ts';
import { parseIndicium, INDICIUM_BODY_BYTES } from '../protocol/indicium.ts';
import { weightBand } from '../protocol/records.ts';
import { CoreDevice, ImageDevice, Device, DeviceError, TestKms, readyDevice } from '../testkit/harness.ts';
import { checkInvariants, listRecords } from '../testkit/invariants.ts';

const FUNDS = 1_000_000;

async function expectError(p: Promise<unknown>, code: number) {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(DeviceError);
    expect((e as DeviceError).code, (e as Error).message).to.equal(code);
    expect((e as Error).message).to.be.a('string').and.not.empty;
    return;
  }
  expect.fail('expected device error ' + code);
}

function verifyIndicium(hex: string, kms: TestKms) {
  const bytes = fromHex(hex);
  const f = parseIndicium(bytes);
  const mac = nodeCrypto.createHmac('sha256', kms.deviceKey).update(Buffer.from(bytes.slice(0, INDICIUM_BODY_BYTES), 'latin1')).digest().toString('latin1').slice(0, 8);
  expect(f.mac, 'indicium MAC').to.equal(mac);
  return f;
}

let nextId = 1000;
const id = () => ++nextId;

for (const target of ['core', 'image'] as const) {
  describe(`PSD core on the ${target === 'core' ? 'TypeScript core' : 'built pico image in the virtual board'}`, function () {
    this.timeout(60000);
    let d: Device;
    let kms: TestKms;
    const make = () => (target === 'core' ? new CoreDevice() : new ImageDevice({ board: 'pico' }));
    beforeEach(() => {
      d = make();
      kms = new TestKms();
    });
    afterEach(() => (d as any).close?.());

    it('refuses to frank before provisioning, before the clock is set, without funds', async () => {
      await expectError(d.call(Command.FRANK, { id: id(), customer: 1, category: 1, weight: 20, postage: 85 }), ErrorCode.NOT_PROVISIONED);
      await d.call(Command.PROVISION, kms.provisionBody());
      await expectError(d.call(Command.PROVISION, kms.provisionBody()), ErrorCode.BAD_ARGUMENT);
      await expectError(d.call(Command.FRANK, { id: id(), customer: 1, category: 1, weight: 20, postage: 85 }), ErrorCode.CLOCK_NOT_SET);
      await d.call(Command.CLOCK, { now: Date.UTC(2026, 10, 24) });
      await expectError(d.call(Command.FRANK, { id: id(), customer: 1, category: 1, weight: 20, postage: 85 }), ErrorCode.NO_FUNDS);
      await checkInvariants(d, 0);
    });

    it('loads funds only from an authentic, fresh funds reset', async () => {
      await d.call(Command.PROVISION, kms.provisionBody());
      const good = kms.funds(1, 5000);
      const forged = { ...good, amount: 500000 };
      await expectError(d.call(Command.FUNDS, forged), ErrorCode.AUTH);
      const other = new TestKms(kms.device);
      await expectError(d.call(Command.FUNDS, other.funds(1, 5000)), ErrorCode.AUTH);
      const r = await d.call(Command.FUNDS, good);
      expect(r.registers).to.deep.equal({ ascending: 0, descending: 5000, pieces: 0, controlTotal: 5000 });
      await expectError(d.call(Command.FUNDS, good), ErrorCode.REPLAY);
      await expectError(d.call(Command.FUNDS, kms.funds(3, 10)), ErrorCode.REPLAY);
      await d.call(Command.FUNDS, kms.funds(2, 10));
      await checkInvariants(d, 5010);
    });

    it('single mode: one piece, registers durable, authenticated indicium, one record', async () => {
      await readyDevice(d, kms, FUNDS);
      const r = await d.call(Command.FRANK, { id: id(), customer: 77, category: 3, weight: 45, postage: 95 });
      expect(r.count).to.equal(1);
      expect(r.registers).to.deep.equal({ ascending: 95, descending: FUNDS - 95, pieces: 1, controlTotal: FUNDS });
      const f = verifyIndicium(r.indicia[0], kms);
      expect(f).to.include({ device: kms.device, postage: 95, ascending: 95, descending: FUNDS - 95, piece: 1, category: 3, customer: 77 });
      expect(f.day).to.equal(Math.floor(Date.UTC(2026, 10, 24, 9) / 86400000));
      const { records } = await checkInvariants(d, FUNDS);
      expect(records).to.deep.equal([{ customer: 77, category: 3, weightBand: weightBand(45), postage: 95, pieces: 1, amount: 95, weight: 45 }]);
    });

    it('batch mode: many pieces in one request, indicia fetched in pages, flushed at batch end', async () => {
      await readyDevice(d, kms, FUNDS);
      const start = await d.call(Command.BATCH_START, { customer: 501, mode: 'batch', category: 7, weight: 18, postage: 60 });
      expect(start.txn).to.equal(1);
      const r = await d.call(Command.FRANK, { id: id(), count: 250 });
      expect(r).to.include({ first: 1, count: 250, amount: 15000 });
      expect(r.indicia).to.have.length(8);
      const more = await d.call(Command.INDICIA, { from: 243, count: 8 });
      expect(more.indicia).to.have.length(8);
      const last = verifyIndicium(more.indicia[7], kms);
      expect(last).to.include({ piece: 250, ascending: 15000, descending: FUNDS - 15000, customer: 501, category: 7 });
      await expectError(d.call(Command.INDICIA, { from: 251 }), ErrorCode.BAD_ARGUMENT);
      expect(await listRecords(d, 'ram')).to.have.length(1);
      const end = await d.call(Command.BATCH_END);
      expect(end).to.include({ txn: 1, pieces: 250, flushed: 1 });
      expect(await listRecords(d, 'ram')).to.have.length(0);
      const { records } = await checkInvariants(d, FUNDS);
      expect(records).to.deep.equal([{ customer: 501, category: 7, weightBand: 0, postage: 60, pieces: 250, amount: 15000, weight: 4500 }]);
      await expectError(d.call(Command.BATCH_END), ErrorCode.NO_BATCH);
    });

    it('dynamic mode: class and weight per piece open one record per parameter set', async () => {
      await readyDevice(d, kms, FUNDS);
      await d.call(Command.BATCH_START, { customer: 9, mode: 'dynamic' });
      await expectError(d.call(Command.BATCH_START, { customer: 9, mode: 'dynamic' }), ErrorCode.BATCH_OPEN);
      const pieces = [
        [1, 15, 85],
        [1, 19, 85],
        [2, 40, 100],
        [1, 300, 155],
        [2, 45, 100]
      ];
      for (const [category, weight, postage] of pieces) await d.call(Command.FRANK, { id: id(), category, weight, postage });
      await expectError(d.call(Command.FRANK, { id: id(), category: 1, weight: 15, postage: 85, count: 5 }), ErrorCode.BAD_ARGUMENT);
      await d.call(Command.BATCH_END);
      const { records } = await checkInvariants(d, FUNDS);
      const key = (r: any) => `${r.category}/${r.weightBand}/${r.postage}`;
      expect(records.map((r) => [key(r), r.pieces, r.weight])).to.have.deep.members([
        ['1/0/85', 2, 34],
        ['2/1/100', 2, 85],
        ['1/4/155', 1, 300]
      ]);
    });

    it('several customers on one device keep separate records (a mail house)', async () => {
      await readyDevice(d, kms, FUNDS);
      for (const customer of [11, 22, 33]) {
        await d.call(Command.BATCH_START, { customer, mode: 'batch', category: 5, weight: 20, postage: 70 });
        await d.call(Command.FRANK, { id: id(), count: customer });
        await d.call(Command.BATCH_END);
      }
      const { records } = await checkInvariants(d, FUNDS);
      expect(records.map((r) => [r.customer, r.pieces])).to.have.deep.members([
        [11, 11],
        [22, 22],
        [33, 33]
      ]);
    });

    it('refuses what the funds cannot cover, and changes nothing', async () => {
      await readyDevice(d, kms, 1000);
      await d.call(Command.BATCH_START, { customer: 1, mode: 'batch', category: 1, weight: 10, postage: 100 });
      await expectError(d.call(Command.FRANK, { id: id(), count: 11 }), ErrorCode.NO_FUNDS);
      await d.call(Command.FRANK, { id: id(), count: 10 });
      await expectError(d.call(Command.FRANK, { id: id(), count: 1 }), ErrorCode.NO_FUNDS);
      await checkInvariants(d, 1000);
    });

    it('a repeated frank request (same id) never charges twice', async () => {
      await readyDevice(d, kms, FUNDS);
      const req = { id: id(), customer: 5, category: 2, weight: 20, postage: 80 };
      const a = await d.call(Command.FRANK, req);
      const b = await d.call(Command.FRANK, req);
      expect(b.repeated).to.equal(true);
      expect(b.indicia).to.deep.equal(a.indicia);
      expect(b.registers).to.deep.equal(a.registers);
      const s = await checkInvariants(d, FUNDS);
      expect(s.status.registers.pieces).to.equal(1);
      // the same frame retransmitted (same sequence number) is answered from the stored answer
      const first = await d.request(Command.FRANK, { id: id(), customer: 5, category: 2, weight: 20, postage: 80 }, 4000);
      const again = await d.request(Command.FRANK, { id: 999999, customer: 5, category: 2, weight: 20, postage: 80 }, 4000);
      expect(again.raw).to.not.equal(first.raw); // different request, same seq: executed
      const third = await d.request(Command.FRANK, { id: 999999, customer: 5, category: 2, weight: 20, postage: 80 }, 4000);
      expect(third.raw).to.equal(again.raw);
      expect((await checkInvariants(d, FUNDS)).status.registers.pieces).to.equal(3);
    });

    it('flushes every N pieces and keeps the tiers consistent', async () => {
      await readyDevice(d, kms, FUNDS);
      await d.call(Command.CONFIG, { flushEveryPieces: 10 });
      for (let i = 0; i < 25; i++) await d.call(Command.FRANK, { id: id(), customer: 1 + (i % 3), category: 4, weight: 20, postage: 50 });
      const s = await d.call(Command.STATUS);
      expect(s.storage.ramRecords).to.be.at.most(3);
      const flashPieces = (await listRecords(d, 'flash')).reduce((a, r) => a + r.pieces, 0);
      expect(flashPieces).to.equal(20);
      await checkInvariants(d, FUNDS);
    });

    it('rebuilds the same state after a reboot (RAM tier included) and reports why it rebooted', async () => {
      await readyDevice(d, kms, FUNDS);
      await d.call(Command.BATCH_START, { customer: 8, mode: 'batch', category: 9, weight: 30, postage: 65 });
      await d.call(Command.FRANK, { id: id(), count: 40 });
      await d.call(Command.STATS_FLUSH);
      await d.call(Command.FRANK, { id: id(), count: 7 });
      const before = await checkInvariants(d, FUNDS);
      if (d instanceof ImageDevice) {
        d.powerCycle();
      } else {
        d = new CoreDevice((d as CoreDevice).board);
      }
      const after = await checkInvariants(d, FUNDS);
      expect(after.status.registers).to.deep.equal(before.status.registers);
      expect(after.records).to.deep.equal(before.records);
      expect(after.status.batch).to.include({ txn: 1, pieces: 47 });
      expect(after.status.resetCause).to.match(/power-on/);
      if (d instanceof ImageDevice) {
        await d.call(Command.REBOOT);
        d.vb.advanceTime(1);
        await new Promise((r) => setTimeout(r, 100));
        // the board rebooted itself; it answers on the same line
        expect((await d.call(Command.STATUS)).resetCause).to.match(/reboot command/);
        // (and a power cut after that boot is a power-on again: the boot wrote the running time)
        d.powerCycle();
        expect((await d.call(Command.STATUS)).resetCause).to.match(/power-on/);
      }
    });
  });
}
