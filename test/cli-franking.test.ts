// Franking from the CLI: the real `psd` child process against the built image on the virtual
// board (pty): provisioning, funds via the lab KMS stand-in, batch/dynamic/single franking,
// statistics that add up to the registers, and the error paths.
import { expect } from 'chai';
import crypto from 'node:crypto';
import { startTarget, runCli, type Target } from '../testkit/target.ts';

describe('psd CLI: provisioning, funds, batches, franking, statistics', function () {
  this.timeout(60000);
  let t: Target;
  const deviceKey = crypto.randomBytes(32).toString('hex');
  const kmsKey = crypto.randomBytes(32).toString('hex');
  const device = crypto.randomInt(1, 100000);

  const psd = async (args: string[], timeoutMs = 30000) => {
    const r = await runCli(['--port', t.port, ...args], { timeoutMs });
    return r;
  };
  const ok = async (args: string[]) => {
    const r = await psd([...args, '--json']);
    expect(r.code, `psd ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return JSON.parse(r.stdout);
  };

  before(async function () {
    t = await startTarget();
    if (t.real) this.skip(); // provisions the device with random keys: virtual board only
  });
  after(async () => {
    await t?.close();
  });

  it('franking before provisioning or funds fails with the device code and message, exit non-zero', async () => {
    const r = await psd(['frank', '--customer', '1', '--category', '1', '--weight', '20', '--postage', '85']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/error 25: device not provisioned/);
    const p = await ok(['provision', '--device', String(device), '--device-key', deviceKey, '--kms-key', kmsKey]);
    expect(p.device).to.equal(device);
    const j = await psd(['frank', '--customer', '1', '--category', '1', '--weight', '20', '--postage', '85', '--json']);
    expect(j.code).to.not.equal(0);
    const e = JSON.parse(j.stderr).error;
    expect(e.code).to.equal(17);
    expect(e.message).to.match(/insufficient funds/);
  });

  it('bad arguments are commander errors: error 6 and exit 2', async () => {
    for (const args of [
      ['frank', '--count', 'lots'],
      ['batch', 'start', '--customer', '1', '--mode', 'sideways'],
      ['provision', '--device', '1', '--device-key', 'abc', '--kms-key', kmsKey],
      ['stats', 'list', '--tier', 'disk'],
      ['funds', '--amount', '5', '--kms-key', kmsKey, '--mac', kmsKey]
    ]) {
      const r = await psd(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/^psd: error 6: bad argument: /);
    }
    const r = await psd(['funds', '--amount', '5']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/error 6: .*--kms-key/);
  });

  it('funds via --kms-key (lab KMS stand-in), then a replayed or forged MAC is refused', async () => {
    const f = await ok(['funds', '--amount', '1000000', '--kms-key', kmsKey]);
    expect(f.fundsCounter).to.equal(1);
    expect(f.registers.descending).to.equal(1000000);
    const forged = await psd(['funds', '--counter', '2', '--amount', '5', '--mac', '00'.repeat(32)]);
    expect(forged.code).to.not.equal(0);
    expect(forged.stderr).to.match(/error 22/);
  });

  it('batch mode: start, frank --count 600 --chunk 250, end; stats list sums match the registers', async () => {
    const s = await ok(['batch', 'start', '--customer', '1001', '--mode', 'batch', '--category', '3', '--weight', '45', '--postage', '85']);
    expect(s.batch.mode).to.equal('batch');
    const f = await ok(['frank', '--count', '600', '--chunk', '250']);
    expect(f.pieces).to.equal(600);
    expect(f.requests).to.equal(3);
    expect(new Set(f.ids).size).to.equal(3);
    expect(f.amount).to.equal(600 * 85);
    expect(f.registers.pieces).to.equal(600);
    expect(f.registers.ascending).to.equal(51000);
    const dup = await psd(['batch', 'start', '--customer', '1002', '--mode', 'dynamic']);
    expect(dup.code).to.not.equal(0);
    expect(dup.stderr).to.match(/error 20/);
    const e = await ok(['batch', 'end']);
    expect(e.pieces).to.equal(600);
    const list = await ok(['stats', 'list']);
    expect(list.reduce((n: number, r: any) => n + r.pieces, 0)).to.equal(600);
    expect(list.reduce((n: number, r: any) => n + r.amount, 0)).to.equal(51000);
  });

  it('--indicia fetches every indicium of the request', async () => {
    await ok(['batch', 'start', '--customer', '1001', '--mode', 'batch', '--category', '3', '--weight', '45', '--postage', '85']);
    const f = await ok(['frank', '--count', '20', '--chunk', '15', '--indicia']);
    expect(f.indicia).to.have.length(20);
    expect(new Set(f.indicia).size).to.equal(20);
    for (const h of f.indicia) expect(h).to.match(/^[0-9a-f]{84}$/);
    await ok(['batch', 'end']);
  });

  it('a dynamic batch and a single piece; all records add up to status registers', async () => {
    await ok(['batch', 'start', '--customer', '2002', '--mode', 'dynamic']);
    const miss = await psd(['frank', '--count', '5']);
    expect(miss.code).to.not.equal(0);
    for (const [cat, w, p] of [
      [1, 20, 85],
      [1, 90, 155],
      [2, 300, 270]
    ]) {
      const f = await ok(['frank', '--category', String(cat), '--weight', String(w), '--postage', String(p)]);
      expect(f.pieces).to.equal(1);
      expect(f.mode).to.equal('dynamic');
    }
    await ok(['batch', 'end']);
    const single = await ok(['frank', '--customer', '3003', '--category', '7', '--weight', '1200', '--postage', '490']);
    expect(single.mode).to.equal('single');
    const list = await ok(['stats', 'list', '--tier', 'all']);
    const status = await ok(['status']);
    expect(list.reduce((n: number, r: any) => n + r.pieces, 0)).to.equal(status.registers.pieces);
    expect(list.reduce((n: number, r: any) => n + r.amount, 0)).to.equal(status.registers.ascending);
    expect(list.filter((r: any) => r.tier === 'ram').map((r: any) => r.customer)).to.include(3003);
    await ok(['stats', 'flush']);
    const flash = await ok(['stats', 'list', '--tier', 'flash']);
    expect(flash.reduce((n: number, r: any) => n + r.pieces, 0)).to.equal(status.registers.pieces);
    expect(status.clock).to.be.above(1.7e9);
  });

  it('human output: stats list table, status with records, batch, lock and clock; clock and config', async () => {
    const l = await psd(['stats', 'list']);
    expect(l.code, l.stderr).to.equal(0);
    expect(l.stdout).to.match(/customer\s+category\s+weight band\s+postage\s+pieces\s+amount/);
    expect(l.stdout).to.include('1001');
    const s = await psd(['status']);
    expect(s.code, s.stderr).to.equal(0);
    for (const k of [/records\s+\d+ in flash, \d+ in RAM/, /storage low\s+no/, /batch\s+none open/, /lock\s+none/, /clock\s+20\d\d-/]) expect(s.stdout).to.match(k);
    const c = await ok(['clock', '--now', new Date().toISOString()]);
    expect(Math.abs(c.clock - Date.now() / 1000)).to.be.below(5);
    const k = await ok(['config', '--flush-every', '100', '--low-storage', '25']);
    expect(k.config).to.include({ flushEveryPieces: 100, lowStoragePct: 25 });
    const h = await runCli(['frank', '--help']);
    expect(h.code).to.equal(0);
    expect(h.stdout).to.include('--chunk');
    const p = await runCli(['provision', '--help']);
    expect(p.stdout).to.match(/LAB\/TEST/);
  });
});
