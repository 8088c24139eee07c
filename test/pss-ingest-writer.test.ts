// The ingest writer (server/ingest-writer.ts): uploads are verified on the event loop and
// stored by a thread of their own. A block is stored only if what it was verified against
// still holds in the writer's transaction (a device revoked meanwhile: refused as revoked,
// nothing stored), and a confirmation never leaves before its block is stored: `pss serve`
// killed in the middle of pipelined uploads keeps every block it confirmed, each whole.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { PssClient } from '../kit/pss-client.ts';

describe('PSS ingest writer', function () {
  this.timeout(60000);
  let dir: string;
  let dc: DataCenter | null;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-writer-'));
    dc = await openDataCenter(dir);
  });
  afterEach(() => {
    dc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a device revoked while its blocks wait for the writer: they and a repeat among them are refused as revoked, nothing is stored', async () => {
    const reg = dc!.kms.registerDevice('WRITER-REVOKE', 'pico');
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
    const first = dev.nextBlock(sampleRecords(50, [1], 1));
    expect((await dc!.pss.uploadGrouped(first)).stored).to.equal(true);
    const [b2, b3] = [dev.nextBlock(sampleRecords(50, [1], 2)), dev.nextBlock(sampleRecords(50, [1], 3))];
    // all verified now (the device active, b3 against b2 still waiting, b2 again as a repeat of
    // the waiting b2), then the device is revoked before the writer's transaction: none is
    // confirmed (the repeat neither: its block was not stored)
    const pending = [dc!.pss.uploadGrouped(b2), dc!.pss.uploadGrouped(b3), dc!.pss.uploadGrouped(b2)];
    dc!.kms.revoke(reg.device);
    const codes = (await Promise.allSettled(pending)).map((r) => (r.status === 'rejected' ? r.reason.code : 'stored'));
    expect(codes).to.deep.equal(['REVOKED', 'REVOKED', 'REVOKED']);
    expect(dc!.pss.lastSeq(reg.device)).to.equal(1);
    expect(dc!.pss.counts()).to.include({ blocks: 1, records: 50, rejections: 3 });
  });

  it('a block resent while its first upload waits for the writer is confirmed as a repeat after it, stored once', async () => {
    const reg = dc!.kms.registerDevice('WRITER-REPEAT', 'pico');
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
    const b1 = dev.nextBlock(sampleRecords(50, [1], 1));
    const [a, b] = await Promise.all([dc!.pss.uploadGrouped(b1), dc!.pss.uploadGrouped(b1)]);
    expect([a.stored, b.stored]).to.deep.equal([true, false]);
    expect(b.confirmation).to.equal(a.confirmation);
    expect(dc!.pss.counts()).to.include({ blocks: 1, records: 50 });
  });

  it('`pss serve` killed in the middle of pipelined uploads keeps every block it confirmed, each with all its records', async function () {
    const chains: string[][] = [];
    for (let u = 0; u < 4; u++) {
      const reg = dc!.kms.registerDevice(`WRITER-KILL-${u}`, 'pico');
      const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey }, 1e13);
      chains.push(Array.from({ length: 200 }, (_, i) => dev.nextBlock(sampleRecords(50, [1, 2, 3], i + 1))));
    }
    dc!.close();
    dc = null;
    const child = spawn(process.execPath, [path.resolve('bin/pss.js'), 'serve', '--port', '0', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const confirmed: { device: number; seq: number }[] = [];
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b) => {
          out += b;
          const m = /serving on [\d.]+:(\d+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (c) => reject(new Error('pss serve exited ' + c)));
      });
      const clients = await Promise.all(chains.map(() => PssClient.connect(`127.0.0.1:${port}`, { retries: 0, timeoutMs: 20000 })));
      const killed = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await Promise.all(
        clients.map(async (c, u) => {
          for (let at = 0; at < chains[u].length && child.exitCode === null; at += 8) {
            const outcomes = await c.uploadMany(chains[u].slice(at, at + 8)).catch(() => []);
            for (const o of outcomes) if (o.answer?.stored) confirmed.push({ device: o.answer.device, seq: o.answer.seq });
            // killed once some have been confirmed, with others under way
            if (confirmed.length >= 60 && child.exitCode === null) child.kill('SIGKILL');
          }
        })
      );
      await killed;
      for (const c of clients) await c.close().catch(() => {});
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(confirmed.length).to.be.at.least(60);
    dc = await openDataCenter(dir);
    for (const { device, seq } of confirmed) expect(dc.pss.lastSeq(device), `device ${device} block ${seq}`).to.be.at.least(seq);
    const counts = dc.pss.counts();
    expect(counts.blocks).to.be.at.least(confirmed.length);
    expect(counts.records, 'every stored block has all its records').to.equal(counts.blocks * 50);
  });
});
