// The postal operator's rules from the CLI (issue 12, the newcomer review's bugs): the real
// `psd` and `pss` child processes against the built image on the virtual board and a data
// center over TCP. Provisioned through the KMS the PSD has a trusted time at once (the clock
// typo refused before any session); a withdrawal refused inside the session prints one JSON
// document; with pieces franked after an extracted block one run withdraws; `pss withdraw`
// without the PSD credits nothing until the PSD's final figures.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { startTarget, runCli, type Target } from '../testkit/target.ts';
import { spawnSync } from 'node:child_process';
import { payingAccount } from '../testkit/pss-account.ts';
import { credentialFile } from '../testkit/pss-operator.ts';

const PSS = join(import.meta.dirname, '..', 'bin', 'pss.js');
const runPss = (args: string[]) => {
  const r = spawnSync(process.execPath, [PSS, ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('psd and pss CLI: trusted time from provisioning, withdrawal in one run, one JSON document', function () {
  this.timeout(120000);
  let t: Target;
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  let env: NodeJS.ProcessEnv;
  let device = 0;

  const psd = (args: string[]) => runCli(['--port', t.port, '--timeout', '5000', ...args, '--json'], { env, timeoutMs: 60000 });
  const ok = async (args: string[]) => {
    const r = await psd(args);
    expect(r.code, `psd ${args.join(' ')}\n${r.stderr}`).to.equal(0);
    return JSON.parse(r.stdout);
  };

  before(async function () {
    t = await startTarget();
    if (t.real) this.skip(); // provisions and withdraws the device: virtual board only
    dir = mkdtempSync(join(tmpdir(), 'psd-cli-withdraw-'));
    dc = await openDataCenter(join(dir, 'pss'));
    service = await startService(dc, { port: 0, idleMs: 20000 });
    env = { PSD_STORE: join(dir, 'store'), PSS_ADDRESS: `127.0.0.1:${service.port}`, PSS_CREDENTIALS: credentialFile(dc, dir) };
  });
  after(async () => {
    await t?.close();
    await service?.close();
    dc?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('psd provision --kms gives the PSD the data center\'s time: the 2030 typo is refused before any session', async () => {
    const before = Math.floor(Date.now() / 1000);
    device = (await ok(['provision', '--kms', env.PSS_ADDRESS!])).device;
    const s = await ok(['status']);
    expect(s.contact.trustedTime).to.be.within(before, Math.floor(Date.now() / 1000));
    const typo = await psd(['clock', '--now', '2030-01-01T00:00:00Z']);
    expect(typo.code).to.not.equal(0);
    expect(JSON.parse(typo.stdout).error.code).to.equal(36);
    payingAccount(dc, device);
    // a funds reset is a contact: the PSD's sealed audit goes to the PSS with it
    const funded = await ok(['funds', '--kms', env.PSS_ADDRESS!, '--amount', '100000']);
    expect(funded.audit).to.match(/^audit #1 stored, \d+ new events; continuity holds$/);
    const audits = dc.store.all<{ seq: number; funds_counter: number; descending: number }>('SELECT seq, funds_counter, descending FROM audits WHERE device = ?', [device]);
    expect(audits).to.deep.equal([{ seq: 1, funds_counter: 1, descending: 100000 }]);
  });

  it('a withdrawal the PSD refuses (a batch open) prints one JSON document: the error, with the session report', async () => {
    await ok(['batch', 'start', '--customer', '1001', '--mode', 'dynamic']);
    await ok(['frank', '--category', '1', '--weight', '20', '--postage', '85']);
    const r = await psd(['upload', '--session', '--withdraw']);
    expect(r.code).to.not.equal(0);
    const doc = JSON.parse(r.stdout); // one document: JSON.parse refuses two
    expect(doc.error.code).to.equal(20);
    expect(doc.result).to.include({ device, confirmed: true });
    expect(doc.result.withdrawn).to.equal(undefined);
    await ok(['batch', 'end']);
  });

  it('one run withdraws when pieces were franked after an extracted block; pss withdraw alone credits nothing', async () => {
    await ok(['frank', '--customer', '1001', '--category', '1', '--weight', '20', '--postage', '85']);
    const x = await ok(['stats', 'extract']);
    await ok(['frank', '--customer', '1002', '--category', '2', '--weight', '30', '--postage', '100']);
    // the operator withdraws it at the data center first, without the PSD: nothing credited
    const account = dc.kms.device(device)!.account!;
    const balance = dc.kms.account(account)!.balance;
    const w = runPss(['withdraw', String(device), '--data', join(dir, 'pss')]);
    expect(w.code, w.stderr).to.equal(0);
    expect(w.stdout).to.match(/refund PENDING, nothing credited yet/);
    expect(w.stdout).to.match(/psd upload --session --withdraw/);
    expect(dc.kms.account(account)!.balance).to.equal(balance);
    const r = await ok(['upload', '--session', '--withdraw']);
    expect(r.earlierBlocks, JSON.stringify(x)).to.have.length(1);
    expect(r.earlierBlocks[0]).to.include({ seq: x.seq, stored: true, records: 1 });
    expect(r.block).to.include({ seq: x.seq + 1, stored: true });
    const s = await ok(['status']);
    expect(s.lock.code).to.equal(37);
    expect(r.withdrawn).to.include({ descending: s.registers.descending, credited: s.registers.descending });
    expect(s.registers.descending).to.equal(100000 - 85 - 85 - 100);
    expect(dc.kms.account(account)!.balance).to.equal(balance + s.registers.descending);
  });
});
