// Claim 10: the records live on the host and pass through the PSD only to be sealed. On the
// built pico image: the PSD seals them only if they sum to its own register movement, the PSS
// accepts the block like any other, and a host that drops, adds or invents records is refused.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { openDataCenter } from '../server/datacenter.ts';
import { startService } from '../server/service.ts';
import { PssClient } from '../kit/pss-client.ts';
import { HostRecords, sealHostRecords } from '../host-bridge/host-records.ts';
import { ImageDevice, DeviceError } from '../testkit/harness.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { operatorClient } from '../testkit/pss-operator.ts';

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    return (e as DeviceError).code;
  }
  return 0;
}

describe('records on the host, sealed by the PSD (claim 10, pico image)', function () {
  this.timeout(30000);

  it('seals the host records only when they account for every piece; the PSS stores and confirms them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-hostrec-'));
    const dc = await openDataCenter(path.join(dir, 'pss'));
    const service = await startService(dc, { port: 0 });
    const pss = await operatorClient(dc, service.port);
    const d = new ImageDevice({ board: 'pico' });
    try {
      const st = await d.call(Command.STATUS);
      const reg = await pss.register(st.deviceId.replace(/^unprovisioned-/, ''), 'pico');
      await d.call(Command.PROVISION, { device: reg.device, deviceKey: reg.deviceKey, kmsKey: reg.kmsKey });
      await d.call(Command.CLOCK, { now: Date.UTC(2026, 10, 24, 9) });
      payingAccount(dc, reg.device);
      const f = await pss.funds(reg.device, 100_000);
      await d.call(Command.FUNDS, { counter: f.counter, amount: f.amount, mac: f.mac });
      await d.call(Command.CONFIG, { recordsOnHost: true });
      const host = new HostRecords(dir, reg.device);
      const pieces: [number, number, number, number, number][] = [
        [21, 1, 20, 85, 30],
        [22, 2, 300, 150, 1],
        [21, 1, 20, 85, 5],
        [23, 4, 900, 330, 2]
      ];
      let id = 1;
      for (const [customer, category, weight, postage, count] of pieces) {
        await d.call(Command.BATCH_START, { customer, mode: 'batch', category, weight, postage });
        await d.call(Command.FRANK, { id: id++, count });
        await d.call(Command.BATCH_END);
        host.add(customer, category, weight, postage, count);
      }
      // the PSD keeps no records of its own
      expect((await d.call(Command.STATUS)).storage.records).to.equal(0);
      // and cannot switch back while pieces are not in a confirmed block (found by npm run fuzz:
      // the boot check would then lock the device for good)
      expect(await code(d.call(Command.CONFIG, { recordsOnHost: false }))).to.equal(ErrorCode.BAD_ARGUMENT);
      const records = host.read();
      expect(records).to.have.length(3);
      const call = (t: number, b: object) => d.call(t, b);
      // a host that drops a record, inflates one, or invents a customer is refused; nothing sealed
      expect(await code(sealHostRecords(call, records.slice(1)))).to.equal(ErrorCode.INCONSISTENT);
      expect(await code(sealHostRecords(call, records.map((r, i) => (i ? r : { ...r, pieces: r.pieces + 1, amount: r.amount + r.postage }))))).to.equal(ErrorCode.INCONSISTENT);
      expect(await code(sealHostRecords(call, [...records, { customer: 99, category: 1, weightBand: 0, postage: 85, pieces: 0, amount: 0, weight: 0 }]))).to.equal(ErrorCode.BAD_ARGUMENT);
      expect((await d.call(Command.STATUS)).block.lastSealed).to.equal(0);
      // the honest records: sealed, accepted by the PSS, confirmed
      const x = await sealHostRecords(call, records);
      expect(x.block.header.customers).to.deep.equal([21, 22, 23]);
      const up = await pss.upload(x.bytes);
      expect(up.stored).to.equal(true);
      expect((await d.call(Command.CONFIRM, { seq: up.seq, mac: up.confirmation })).repeated).to.equal(false);
      const s = await d.call(Command.STATUS);
      expect([s.block.lastConfirmed, s.block.confirmedPieces, s.block.confirmedAscending]).to.deep.equal([1, 38, 30 * 85 + 150 + 5 * 85 + 2 * 330]);
      // the mode switches back only while the PSD holds nothing unconfirmed
      await d.call(Command.CONFIG, { recordsOnHost: false });
    } finally {
      d.close();
      await pss.close();
      await service.close();
      dc.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
