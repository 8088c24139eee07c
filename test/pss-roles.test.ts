// Who may do what on the PSS's TCP service: devices upload with no secret (plain frames);
// operators (register, certify, funds, sessions with funds, rekey or config) and auditors
// present a client certificate of the lab CA over TLS. Without a credential, with one of
// another CA, with an auditor's for an operator request, or with a revoked one, the request
// is refused as NOT_AUTHORISED and nothing changes. The master key never appears in logs,
// answers, errors or exports.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { revoke } from '../server/credentials.ts';
import { MASTER_KEY_FILE } from '../server/keyfiles.ts';
import { exportPeriod } from '../server/export.ts';
import { parsePeriod, loadDiscountConfig } from '../server/discounts.ts';
import { DEFAULT_RULES_FILE } from '../server/commands/report.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { PssClient, type PssClientError } from '../kit/pss-client.ts';
import { credentialFor } from '../testkit/pss-operator.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { credentialFile } from '../testkit/pss-operator.ts';
import { provisionFromKms, fundsFromKms } from '../host-bridge/upload.ts';
import { PsdError } from '../host-bridge/errors.ts';
import { Command } from '../protocol/commands.ts';
import { runReport } from '../server/report.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('PSS roles: devices plain, operators and auditors over TLS with lab-CA credentials', function () {
  this.timeout(60000);
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  const log: string[] = [];
  let address: string;
  const clients: PssClient[] = [];
  const connect = async (credential?: ReturnType<typeof credentialFor> | null) => {
    const c = await PssClient.connect(address, { credential, retries: 0, timeoutMs: 3000 });
    clients.push(c);
    return c;
  };
  const outcome = (p: Promise<unknown>) => p.then(() => 'OK', (e: PssClientError) => e.code);
  const state = () => ['devices', 'funds_resets', 'accounts', 'ledger', 'blocks', 'credentials'].map((t) => dc.store.all(`SELECT * FROM ${t}`));

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-roles-'));
    dc = await openDataCenter(path.join(dir, 'pss'));
    log.length = 0;
    service = await startService(dc, { port: 0, log: (l) => log.push(l) });
    address = `127.0.0.1:${service.port}`;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('operator requests without a credential are refused and change nothing; device uploads need none', async () => {
    const reg = dc.kms.registerDevice('ROLE-1', 'pico');
    payingAccount(dc, reg.device);
    const plain = await connect();
    const before = state();
    expect(await outcome(plain.register('ROLE-2', 'pico'))).to.equal('NOT_AUTHORISED');
    expect(await outcome(plain.funds(reg.device, 100))).to.equal('NOT_AUTHORISED');
    expect(await outcome(plain.certify(reg.device, 'ab'.repeat(32)))).to.equal('NOT_AUTHORISED');
    expect(await outcome(plain.sessionBegin(reg.device, { funds: 100 }))).to.equal('NOT_AUTHORISED');
    expect(await outcome(plain.sessionBegin(reg.device, { rekey: true }))).to.equal('NOT_AUTHORISED');
    expect(state()).to.deep.equal(before);
    expect(log.filter((l) => /not authorised/.test(l))).to.have.length(5);
    // the log names where a plain connection came from, not "device device"
    expect(log.find((l) => /refused: register/.test(l))).to.match(/^refused: register from device 127\.0\.0\.1:\d+ \(no credential\): not authorised$/);
    // the sealed block authenticates itself: a plain upload is stored and confirmed
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
    expect(await plain.upload(dev.nextBlock(sampleRecords(3)))).to.include({ seq: 1, stored: true });
    expect((await plain.hello()).protocol).to.equal(1);
    // a session that only reads statistics is a device's too (it starts: a relay to the PSD)
    expect(await plain.sessionBegin(reg.device)).to.have.property('relay');
  });

  it('an operator credential may register, certify and load funds; an auditor only reads', async () => {
    const op = await connect(credentialFor(dc, 'operator', 'alice'));
    const reg = await op.register('ROLE-OP', 'pico');
    expect(reg.device).to.equal(1001);
    payingAccount(dc, reg.device);
    expect((await op.funds(reg.device, 500)).counter).to.equal(1);
    const auditor = await connect(credentialFor(dc, 'auditor', 'bob'));
    const before = state();
    expect(await outcome(auditor.funds(reg.device, 500))).to.equal('NOT_AUTHORISED');
    expect(await outcome(auditor.register('ROLE-AUD', 'pico'))).to.equal('NOT_AUTHORISED');
    expect(state()).to.deep.equal(before);
    expect(await auditor.status(reg.device)).to.include({ device: reg.device, fundsCounter: 1 });
  });

  it('a revoked operator credential is refused from its next request on, on an open connection too', async () => {
    const cred = credentialFor(dc, 'operator', 'carol');
    const op = await connect(cred);
    const reg = await op.register('ROLE-REV', 'pico');
    payingAccount(dc, reg.device);
    revoke(dc.store, cred.serial);
    const before = state();
    expect(await outcome(op.funds(reg.device, 1))).to.equal('NOT_AUTHORISED');
    expect(await outcome(op.hello())).to.equal('NOT_AUTHORISED');
    const again = await connect(cred);
    expect(await outcome(again.funds(reg.device, 1))).to.equal('NOT_AUTHORISED');
    expect(state().slice(0, 5)).to.deep.equal(before.slice(0, 5));
  });

  it('a certificate of another CA (a wrong credential) does not get through TLS', async () => {
    const other = await openDataCenter(path.join(dir, 'other'));
    try {
      const foreign = credentialFor(other, 'operator', 'mallory');
      const before = state();
      const refused = await connect(foreign).then((c) => c.register('ROLE-X', 'pico')).then(() => null, (e: PssClientError) => e);
      // the client checks the PSS's certificate against its own CA, the PSS the client's against the lab CA
      expect(refused?.code).to.equal('NOT_AUTHORISED');
      expect(refused?.message).to.match(/^the PSS at 127\.0\.0\.1:\d+ and the credential of operator mallory are not of one lab CA \(SELF_SIGNED_CERT_IN_CHAIN\): a credential of another data center\?/);
      expect(state()).to.deep.equal(before);
      // a client certificate of this CA with a CA file of another: the server's certificate is refused
      const mixed = { ...credentialFor(dc, 'operator', 'eve'), ca: foreign.ca };
      expect(await outcome(connect(mixed))).to.equal('NOT_AUTHORISED');
    } finally {
      other.close();
    }
  });

  it('a certificate of another CA carrying the serial of an operator credential here is refused: only a chain to the lab CA counts', async () => {
    // the attack: a self-made certificate with an operator's serial (serials are printed by
    // pss credential list and in refusals); a TLSSocket made by hand does not enforce
    // rejectUnauthorized, so the service must check the chain itself
    const other = await openDataCenter(path.join(dir, 'other'));
    try {
      const forged = credentialFor(other, 'operator', 'mallory');
      const genuine = credentialFor(dc, 'operator', 'trent');
      dc.store.run('UPDATE credentials SET serial = ? WHERE serial = ?', [forged.serial, genuine.serial]);
      const before = state();
      // the forger trusts this PSS (its CA certificate is public), so the client side passes
      const refused = await connect({ ...forged, ca: genuine.ca }).then((c) => c.register('ROLE-FORGED', 'pico')).then(() => null, (e: PssClientError) => e);
      expect(refused?.code).to.equal('NOT_AUTHORISED');
      expect(refused?.message).to.match(/is not one this data center's lab CA issued/);
      expect(state()).to.deep.equal(before);
      expect(log.join('\n')).to.match(/certificate mallory \(serial [0-9A-F]+\) refused/);
    } finally {
      other.close();
    }
  });

  it('psd provision|funds --kms take the credential from PSS_CREDENTIALS (or PSS_CREDENTIALS_PEM); without it: error 115, not authorised', async () => {
    // the PSD's side as psd's client sees it: STATUS, then PROVISION / FUNDS with what the KMS gave
    const calls: [number, any][] = [];
    let device = 0;
    const psd = {
      request: async (type: number, body: any = {}) => {
        calls.push([type, body]);
        if (type === Command.STATUS) return device ? { device, board: 'pico' } : { deviceId: 'unprovisioned-ROLECLI', board: 'pico' };
        if (type === Command.PROVISION) return { device: (device = body.device), seal: 'hmac' };
        if (type === Command.FUNDS) return { fundsCounter: body.counter };
        throw new Error('unexpected ' + type);
      }
    } as any;
    const saved = { file: process.env.PSS_CREDENTIALS, pem: process.env.PSS_CREDENTIALS_PEM };
    try {
      delete process.env.PSS_CREDENTIALS;
      delete process.env.PSS_CREDENTIALS_PEM;
      const refused = await provisionFromKms(psd, address).catch((e) => e);
      expect(refused).to.be.instanceOf(PsdError);
      expect(refused.code).to.equal(115);
      expect(refused.message).to.match(/^not authorised by the data center: register needs an operator credential over TLS/);
      expect(calls.map((c) => c[0])).to.deep.equal([Command.STATUS]);
      expect(dc.kms.devices()).to.deep.equal([]);

      const file = credentialFile(dc, dir);
      process.env.PSS_CREDENTIALS = file;
      expect((await provisionFromKms(psd, address)).device).to.equal(1001);
      payingAccount(dc, 1001, 1000);
      expect(await fundsFromKms(psd, address, 600)).to.deep.equal({ fundsCounter: 1 });
      const beyond = await fundsFromKms(psd, address, 600).catch((e) => e);
      expect([beyond.code, beyond.pssCode]).to.deep.equal([116, 'BALANCE']);
      expect(beyond.message).to.match(/^funds beyond the account balance: a funds reset of 600 for device 1001 is beyond the balance of account 1 \(400\)/);

      delete process.env.PSS_CREDENTIALS;
      process.env.PSS_CREDENTIALS_PEM = fs.readFileSync(file, 'utf8');
      expect(await fundsFromKms(psd, address, 400)).to.deep.equal({ fundsCounter: 2 });
      delete process.env.PSS_CREDENTIALS_PEM;
      fs.chmodSync(file, 0o644);
      process.env.PSS_CREDENTIALS = file;
      const loose = await fundsFromKms(psd, address, 1).catch((e) => e);
      expect(loose.code).to.equal(6);
      expect(loose.message).to.match(/readable by others/);
    } finally {
      for (const [k, v] of [['PSS_CREDENTIALS', saved.file], ['PSS_CREDENTIALS_PEM', saved.pem]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('an auditor reads reports over TLS, page by page, the same as the local report; a device may not', async () => {
    const reg = dc.kms.registerDevice('ROLE-REP', 'pico');
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
    for (let i = 0; i < 4; i++) dc.pss.upload(dev.nextBlock(sampleRecords(60, [11, 12, 13, 14, 15], i + 1)));
    const local = runReport(dc.store, { by: ['customer', 'class'] });
    expect(local.rows.length).to.be.greaterThan(50); // several frames' worth
    const auditor = await connect(credentialFor(dc, 'auditor', 'dora'));
    const remote = await auditor.report({ by: 'customer,class' });
    expect(remote).to.deep.equal(JSON.parse(JSON.stringify(local)));
    const plain = await connect();
    expect(await outcome(plain.report({ by: 'customer' }))).to.equal('NOT_AUTHORISED');
    // pss report --pss with the credential from a file
    const file = credentialFile(dc, dir, 'auditor');
    // (a child process, waited for without blocking this process, which serves the PSS)
    const r = await run(process.execPath, [path.resolve('bin/pss.js'), 'report', '--pss', address, '--credentials', file, '--by', 'customer', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(r.stdout)).to.deep.equal(JSON.parse(JSON.stringify(runReport(dc.store, { by: ['customer'] }))));
    const none: any = await run(process.execPath, [path.resolve('bin/pss.js'), 'report', '--pss', address], { encoding: 'utf8', env: { ...process.env, PSS_CREDENTIALS: '', PSS_CREDENTIALS_PEM: '' } }).catch((e) => e);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.match(/pss: NOT_AUTHORISED: a report over --pss needs an auditor credential/);
  });

  it('the master key never appears in logs, answers, errors or exports', async () => {
    const master = fs.readFileSync(path.join(dc.dir, MASTER_KEY_FILE));
    const forms = [master.toString('hex'), master.toString('hex').toUpperCase(), master.toString('base64'), master.toString('latin1')];
    const op = await connect(credentialFor(dc));
    const seen: string[] = [];
    const reg = await op.register('ROLE-MK', 'pico');
    seen.push(JSON.stringify(reg));
    payingAccount(dc, reg.device);
    seen.push(JSON.stringify(await op.funds(reg.device, 10)));
    for (const call of [() => op.funds(4242, 1), () => op.register('x', 'nope'), () => op.upload('garbage'), () => connect().then((c) => c.funds(reg.device, 1))])
      seen.push(await call().then((x) => JSON.stringify(x), (e) => `${e.code} ${e.message}`));
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: dc.kms.deviceKey(reg.device) });
    seen.push(JSON.stringify(await op.upload(dev.nextBlock(sampleRecords(3)))));
    const now = new Date();
    const out = path.join(dir, 'export');
    exportPeriod(dc.store, { period: parsePeriod(`${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`, 'month'), rules: loadDiscountConfig(DEFAULT_RULES_FILE), outDir: out, dataDir: dc.dir });
    for (const f of fs.readdirSync(out)) seen.push(fs.readFileSync(path.join(out, f), 'latin1'));
    seen.push(...log);
    const all = seen.join('\n');
    for (const f of forms) expect(all).not.to.include(f);
    expect(seen.length).to.be.greaterThan(10);
  });

  it('a credential file written in the project folder is ignored by git: its private key never lands in a commit', async function () {
    // pss init --operator alice writes ./alice.pss-credential.pem; the README's quick path names alice.pem
    const root = path.resolve(import.meta.dirname, '..');
    const git = await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root }).catch(() => null);
    if (!git) this.skip(); // an exported tree, not a checkout
    for (const name of ['alice.pss-credential.pem', 'alice.pem', 'config/operator.pem']) {
      const r = await run('git', ['check-ignore', '--no-index', '-q', name], { cwd: root }).then(() => 0, (e) => e.code);
      expect(r, `${name} must be git-ignored`).to.equal(0);
    }
  });
});
