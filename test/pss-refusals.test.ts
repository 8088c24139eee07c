// Data-center refusals reach the user as what they are: each PSS refusal has its own code on
// the wire and its own number and message in `psd`; `psd upload` stores what it can, reports
// every block (stored, already stored, refused and why) and exits 3 ("partly done") when some
// were refused. The real CLI (bin/psd.js) runs as a child process against a PSS over TCP.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { BlockStore } from '../host-bridge/store.ts';
import { PssClient, PssClientError } from '../kit/pss-client.ts';
import { PsdError, pssError, PssRefusal, EXIT_PARTLY_DONE } from '../host-bridge/errors.ts';
import { runCli } from '../testkit/target.ts';

describe('data-center refusals: own codes on the PSS, own numbers in psd, psd upload partly done', function () {
  this.timeout(60000);
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  let address: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-refusals-'));
    dc = await openDataCenter(path.join(dir, 'pss'));
    service = await startService(dc, { port: 0, idleMs: 10000 });
    address = `127.0.0.1:${service.port}`;
  });
  afterEach(async () => {
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function hmacDevice(serial: string): SampleDevice {
    const reg = dc.kms.registerDevice(serial, 'pico');
    return new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
  }

  it('every PSS refusal code maps to its own psd number and message; transport codes to the host ones', () => {
    const numbers = new Set<number>();
    for (const [pssCode, r] of Object.entries(PssRefusal)) {
      expect(numbers.has(r.code), pssCode).to.equal(false);
      numbers.add(r.code);
      const e = pssError(new PssClientError(pssCode, 'the detail')) as PsdError;
      expect(e).to.be.instanceOf(PsdError);
      expect(e.code).to.equal(r.code);
      expect(e.message).to.contain(r.message);
      expect(e.message).not.to.match(/internal error/);
    }
    for (const code of ['UNKNOWN_DEVICE', 'REVOKED', 'REPLAY', 'GAP', 'BAD_SEAL', 'NOT_AUTHORISED', 'BALANCE']) expect(PssRefusal[code], code).to.not.equal(undefined);
    expect((pssError(new PssClientError('NO_PSS', 'x')) as PsdError).code).to.equal(106);
    // the hint names the option that gave the address: --kms for provision and funds
    expect((pssError(new PssClientError('NO_PSS', 'x')) as PsdError).hint).to.equal('start it with `pss serve` or check --pss');
    expect((pssError(new PssClientError('NO_PSS', 'x'), '--kms') as PsdError).hint).to.equal('start it with `pss serve` or check --kms');
    // the way to the PSS keeps the host's numbers, in words about the PSS, not the serial line
    const lost = pssError(new PssClientError('LINE_LOST', 'connection to the PSS at 127.0.0.1:7707 failed: read ECONNRESET')) as PsdError;
    expect([lost.code, lost.message]).to.deep.equal([104, 'connection to the PSS at 127.0.0.1:7707 failed: read ECONNRESET']);
    expect((pssError(new PssClientError('LINE_LOST', 'client closed')) as PsdError).message).to.equal('connection to the PSS lost: client closed');
    const silent = pssError(new PssClientError('NO_ANSWER', 'upload: no answer from the PSS at 127.0.0.1:7707 (3 tries, 2000 ms each)')) as PsdError;
    expect([silent.code, silent.message]).to.deep.equal([101, 'upload: no answer from the PSS at 127.0.0.1:7707 (3 tries, 2000 ms each)']);
    const other = pssError(new PssClientError('NOT_PSS', 'answer is not JSON')) as PsdError;
    expect([other.code, other.message]).to.deep.equal([102, 'not a PSS at this address: answer is not JSON']);
    for (const e of [lost, silent, other]) expect(e.message).not.to.match(/serial line|the device/);
    expect((pssError(new PssClientError('SOMETHING_NEW', 'x')) as PsdError).message).to.contain('SOMETHING_NEW: x');
    // a session relays the PSD's own refusal as PSD_<code>: psd reports it as the device's error
    const psd = pssError(new PssClientError('PSD_26', 'the PSD refused stats extract: ...')) as PsdError;
    expect([psd.code, psd.message]).to.deep.equal([26, 'statistics await confirmation: the PSD refused stats extract: ...']);
  });

  it('the PSS answers each refusal with its own code: not registered, revoked, replay, gap, bad seal', async () => {
    const a = hmacDevice('refusal-a');
    const b1 = a.nextBlock(sampleRecords(3));
    const b2 = a.nextBlock(sampleRecords(3, undefined, 2));
    const b3 = a.nextBlock(sampleRecords(3, undefined, 3));
    const stranger = new SampleDevice(4242, { algorithm: 1, deviceKey: 'k'.repeat(32) });
    const forged = new SampleDevice(a.device, { algorithm: 1, deviceKey: 'x'.repeat(32) });
    const c = hmacDevice('refusal-c');
    const cBlock = c.nextBlock(sampleRecords(2));
    dc.kms.revoke(c.device);
    const pss = await PssClient.connect(address);
    const code = async (raw: string) => {
      try {
        await pss.upload(raw);
        return 'OK';
      } catch (e) {
        return (e as PssClientError).code;
      }
    };
    try {
      expect(await code(stranger.nextBlock(sampleRecords(2)))).to.equal('UNKNOWN_DEVICE');
      expect(await code(cBlock)).to.equal('REVOKED');
      expect(await code(forged.nextBlock(sampleRecords(2)))).to.equal('BAD_SEAL');
      expect(await code(b2)).to.equal('GAP');
      expect(await code(b1)).to.equal('OK');
      // another block under number 1: a replay
      const other = new SampleDevice(a.device, { algorithm: 1, deviceKey: dc.kms.deviceKey(a.device) });
      expect(await code(other.nextBlock(sampleRecords(4, undefined, 9)))).to.equal('REPLAY');
      expect(await code(b2)).to.equal('OK');
      expect(await code(b3)).to.equal('OK');
    } finally {
      await pss.close();
    }
    expect(dc.pss.counts()).to.include({ blocks: 3, rejections: 5 });
  });

  it('psd upload stores the good blocks, reports each refused one with its reason, exits 3', async () => {
    const store = new BlockStore(path.join(dir, 'store'));
    const a = hmacDevice('upload-a');
    const c = hmacDevice('upload-c');
    await store.put(a.nextBlock(sampleRecords(3)), { port: 'test' });
    await store.put(a.nextBlock(sampleRecords(4, undefined, 2)), { port: 'test' });
    await store.put(new SampleDevice(4242, { algorithm: 1, deviceKey: 'k'.repeat(32) }).nextBlock(sampleRecords(2)), { port: 'test' });
    await store.put(c.nextBlock(sampleRecords(2)), { port: 'test' });
    dc.kms.revoke(c.device);
    const f = hmacDevice('upload-f');
    // a block of device f sealed with another key
    const bad = new SampleDevice(f.device, { algorithm: 1, deviceKey: 'y'.repeat(32) });
    await store.put(bad.nextBlock(sampleRecords(2)), { port: 'test' });

    const env = { PSD_STORE: path.join(dir, 'store') };
    const r = await runCli(['--json', 'upload', '--no-device', '--pss', address], { env });
    expect(r.code, r.stderr).to.equal(EXIT_PARTLY_DONE);
    const results = JSON.parse(r.stdout) as any[];
    const by = (device: number, seq: number) => results.find((x) => x.device === device && x.seq === seq);
    expect(results).to.have.length(5);
    expect(by(a.device, 1)).to.include({ outcome: 'stored', stored: true });
    expect(by(a.device, 2)).to.include({ outcome: 'stored', stored: true });
    expect(by(4242, 1).outcome).to.equal('refused');
    expect(by(4242, 1).error).to.include({ code: 110, pssCode: 'UNKNOWN_DEVICE' });
    expect(by(c.device, 1).error).to.include({ code: 111, pssCode: 'REVOKED' });
    expect(by(f.device, 1).error).to.include({ code: 114, pssCode: 'BAD_SEAL' });
    expect(dc.pss.counts().blocks).to.equal(2);

    // a person reads the same in the table, and the partly-done line on stderr
    const again = await runCli(['upload', '--no-device', '--pss', address], { env });
    expect(again.code, again.stderr).to.equal(EXIT_PARTLY_DONE);
    expect(again.stdout).to.match(/already stored/);
    expect(again.stdout).to.match(/refused: error 110 \(UNKNOWN_DEVICE\): device not registered at the data center: device 4242 is not registered/);
    expect(again.stdout).to.match(/refused: error 111 \(REVOKED\): device revoked at the data center/);
    expect(again.stdout).to.match(/refused: error 114 \(BAD_SEAL\)/);
    expect(again.stderr).to.match(/partly done \(exit 3\): 3 of 5 blocks refused by the PSS/);
    expect(again.stdout + again.stderr).not.to.match(/internal error/);
  });

  it('psd upload with nothing refused exits 0; with no PSS it says so (error 106)', async () => {
    const store = new BlockStore(path.join(dir, 'store'));
    const a = hmacDevice('clean-a');
    await store.put(a.nextBlock(sampleRecords(3)), { port: 'test' });
    const env = { PSD_STORE: path.join(dir, 'store') };
    const ok = await runCli(['upload', '--no-device', '--pss', address], { env });
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/stored/);
    const none = await runCli(['upload', '--no-device', '--pss', '127.0.0.1:1'], { env });
    expect(none.code).to.equal(1);
    expect(none.stderr).to.match(/error 106: no PSS at this address/);
  });

  it('psd upload does not say "nothing to upload" over a damaged block file: it reports it not sent (105) and exits 3', async () => {
    const storeDir = path.join(dir, 'damaged-store');
    const store = new BlockStore(storeDir);
    const a = hmacDevice('damaged-a');
    await store.put(a.nextBlock(sampleRecords(2)), { port: 'test' });
    // a block file cut short by a disk fault, never uploaded
    fs.writeFileSync(path.join(storeDir, 'PSD-4242-0000000007.json'), '{"format": "psd-block/1", "device": 4242, "se');
    const env = { PSD_STORE: storeDir };
    const r = await runCli(['upload', '--no-device', '--pss', address], { env });
    expect(r.code, r.stderr).to.equal(EXIT_PARTLY_DONE);
    expect(r.stdout).to.not.match(/nothing to upload/);
    expect(r.stdout).to.match(/PSD-4242\s+7\s+not sent: error 105: .*damaged/);
    expect(r.stdout).to.match(new RegExp(`PSD-${a.device}\\s+1\\s+stored`));
    expect(r.stderr).to.match(/partly done \(exit 3\): 1 of 2 blocks refused or not sent/);
    const j = await runCli(['--json', 'upload', '--no-device', '--pss', address], { env });
    expect(j.code).to.equal(EXIT_PARTLY_DONE);
    const rows = JSON.parse(j.stdout) as any[];
    expect(rows.find((x) => x.device === 4242)).to.deep.include({ seq: 7, outcome: 'not sent', stored: false });
    expect(rows.find((x) => x.device === 4242).error.code).to.equal(105);
    // the good block was stored once; the damaged file is still there for inspection
    expect(rows.find((x) => x.device === a.device).outcome).to.equal('repeat');
    expect((await store.list()).find((e) => e.device === 4242)!.problem).to.match(/JSON/);
  });

  it('psd upload with no PSD at hand names --no-device in its hint, and --no-device then uploads', async () => {
    const store = new BlockStore(path.join(dir, 'store'));
    const a = hmacDevice('away-a');
    await store.put(a.nextBlock(sampleRecords(2)), { port: 'test' });
    const env = { PSD_STORE: path.join(dir, 'store') }; // runCli gives no PSD_PORT
    const away = await runCli(['upload', '--pss', address], { env });
    expect(away.code).to.equal(1);
    expect(away.stderr).to.match(/error 100: no device at this port/);
    expect(away.stderr).to.match(/hint: .*psd upload --no-device/);
    const json = await runCli(['--json', '--port', path.join(dir, 'no-such-tty'), 'upload', '--pss', address], { env });
    expect(json.code).to.equal(1);
    expect(JSON.parse(json.stdout).error).to.include({ code: 100 });
    expect(JSON.parse(json.stdout).error.hint).to.match(/psd upload --no-device/);
    const went = await runCli(['upload', '--no-device', '--pss', address], { env });
    expect(went.code, went.stderr).to.equal(0);
    expect(went.stdout).to.match(/stored\s+no\s+no PSD connected/);
  });
});
