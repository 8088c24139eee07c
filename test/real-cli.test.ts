// The psd CLI end to end on the real interpreter: the linux image booted from Storage on
// Espruino 2v29's Linux build, a data center (KMS + PSS) over TCP, and the real `psd` child
// process on the interpreter's pseudo-terminal: provisioning and funds through the KMS, single,
// dynamic and batch franking with indicia, extraction into the host store, plain upload,
// secure-session upload with funds, rekey, confirmation, and records kept on the host.
import { expect } from 'chai';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { startTarget, runCli, realTargetUnavailable, sayRealSkipped, type Target } from '../testkit/target.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { credentialFile } from '../testkit/pss-operator.ts';

sayRealSkipped();
(realTargetUnavailable() ? describe.skip : describe)('psd CLI end to end on the real interpreter (linux image, KMS + PSS over TCP)', function () {
  this.timeout(120000);
  let t: Target;
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  let pss: string;
  let env: NodeJS.ProcessEnv;

  const psd = async (args: string[]) => {
    const r = await runCli(['--port', t.port, '--timeout', '5000', ...args, '--json'], { env, timeoutMs: 90000 });
    expect(r.code, `psd ${args.join(' ')}\n${r.stderr}\ninterpreter console: ${t.rb!.consoleTail(400)}`).to.equal(0);
    return JSON.parse(r.stdout);
  };
  const status = () => psd(['status']);
  async function expectBalanced() {
    const s = await status();
    expect(s.lock, JSON.stringify(s.lock)).to.equal(null);
    expect(s.registers.controlTotal).to.equal(s.registers.ascending + s.registers.descending);
    return s;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psd-real-cli-'));
    dc = await openDataCenter(join(dir, 'pss'));
    service = await startService(dc, { port: 0, idleMs: 20000 });
    pss = `127.0.0.1:${service.port}`;
    env = { PSD_STORE: join(dir, 'store'), PSS_ADDRESS: pss, PSS_CREDENTIALS: credentialFile(dc, dir) };
    t = await startTarget({ kind: 'real' });
  });
  after(async () => {
    await t?.close();
    await service?.close();
    await dc?.close?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('provisions through the KMS and loads funds it authenticated', async () => {
    const p = await psd(['provision', '--kms', pss]);
    expect(p.device).to.be.a('number').and.greaterThan(0);
    payingAccount(dc, p.device);
    await psd(['funds', '--kms', pss, '--amount', '500000']);
    const s = await expectBalanced();
    expect(s.device).to.equal(p.device);
    expect(s.registers.descending).to.equal(500000);
  });

  it('franks single, dynamic and batch pieces, with indicia', async () => {
    const one = await psd(['frank', '--customer', '1001', '--category', '7', '--weight', '1200', '--postage', '490', '--indicia']);
    expect(one.mode).to.equal('single');
    expect(one.pieces).to.equal(1);
    expect(one.indicia).to.have.length(1);
    expect(one.indicia[0]).to.match(/^[0-9a-f]{84}$/); // the 42-byte indicium, MAC included
    await psd(['batch', 'start', '--customer', '1002', '--mode', 'dynamic']);
    await psd(['frank', '--category', '1', '--weight', '45', '--postage', '155']);
    await psd(['frank', '--category', '2', '--weight', '480', '--postage', '270']);
    await psd(['batch', 'end']);
    await psd(['batch', 'start', '--customer', '1003', '--mode', 'batch', '--category', '3', '--weight', '95', '--postage', '160']);
    await psd(['frank', '--count', '600', '--chunk', '250']);
    await psd(['batch', 'end']);
    const s = await expectBalanced();
    expect(s.registers.pieces).to.equal(603);
    expect(s.registers.ascending).to.equal(490 + 155 + 270 + 600 * 160);
  });

  it('extracts a sealed block into the host store and uploads it plain; the PSS confirms and the PSD frees its records', async () => {
    await psd(['stats', 'extract']);
    expect(readdirSync(join(dir, 'store')).length).to.be.greaterThan(0);
    expect((await status()).block.awaitingConfirmation).to.equal(1);
    await psd(['upload', '--pss', pss]);
    const s = await expectBalanced();
    expect(s.block.lastConfirmed).to.equal(1);
    expect(s.block.awaitingConfirmation).to.equal(0);
    expect(s.storage.records + s.storage.ramRecords).to.equal(0);
    expect(s.block.confirmedPieces).to.equal(603);
  });

  it('uploads through a secure session with funds riding along, then rekeys in a session', async () => {
    await psd(['frank', '--customer', '1001', '--category', '1', '--weight', '20', '--postage', '85']);
    await psd(['upload', '--session', '--pss', pss, '--funds', '250000']);
    let s = await expectBalanced();
    expect(s.block.lastConfirmed).to.equal(2);
    expect(s.registers.ascending + s.registers.descending).to.equal(750000);
    await psd(['upload', '--session', '--pss', pss, '--rekey']);
    await psd(['frank', '--customer', '1001', '--category', '1', '--weight', '20', '--postage', '85']);
    // the PSS checks the next block under the new key
    await psd(['upload', '--session', '--pss', pss]);
    s = await expectBalanced();
    expect(s.block.lastConfirmed).to.be.greaterThan(2);
    expect(s.block.confirmedPieces).to.equal(605);
  });

  it('keeps records on the host: the PSD seals them only when they sum to its registers', async () => {
    await psd(['config', '--records-on-host', 'on']);
    await psd(['batch', 'start', '--customer', '1004', '--mode', 'batch', '--category', '2', '--weight', '30', '--postage', '95']);
    await psd(['frank', '--count', '40']);
    await psd(['batch', 'end']);
    const before = await expectBalanced();
    expect(before.storage.records + before.storage.ramRecords, 'no records on the PSD').to.equal(0);
    await psd(['stats', 'extract']);
    await psd(['upload', '--pss', pss]);
    const s = await expectBalanced();
    expect(s.block.confirmedPieces).to.equal(645);
    expect(s.block.awaitingConfirmation).to.equal(0);
  });
});
