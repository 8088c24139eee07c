// An auditor takes a period's export from a running PSS over TLS (`pss export --pss`): the PSS
// makes it under its own discount rules and signing key, hands the files over a page at a time,
// and the auditor's side writes them and verifies the signature, pinned to the key it expects.
// Devices (no credential) and revoked credentials are refused.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { revoke } from '../server/credentials.ts';
import { buildExport, verifyExport, loadOrCreateSigningKey, MANIFEST_FILE, SIGNATURE_FILE } from '../server/export.ts';
import { parsePeriod, loadDiscountConfig, DEFAULT_RULES_FILE } from '../server/discounts.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { PssClient, type PssClientError } from '../kit/pss-client.ts';
import { credentialFor, credentialFile } from '../testkit/pss-operator.ts';
import { MAX_PAYLOAD_BYTES } from '../protocol/frame.ts';

const run = promisify(execFile);
const PSS = path.resolve('bin/pss.js');

describe('PSS export over TLS: an auditor takes the signed files of a period', function () {
  this.timeout(60000);
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  let address: string;
  const clients: PssClient[] = [];
  // the sample device seals its blocks a day apart from 2026-09-21 (server/sample-blocks.ts)
  const period = '2026-09';
  const connect = async (credential?: ReturnType<typeof credentialFor> | null) => {
    const c = await PssClient.connect(address, { credential, retries: 0, timeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  const outcome = (p: Promise<unknown>) => p.then(() => 'OK', (e: PssClientError) => e.code);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-export-tls-'));
    dc = await openDataCenter(path.join(dir, 'pss'));
    service = await startService(dc, { port: 0 });
    address = `127.0.0.1:${service.port}`;
    const reg = dc.kms.registerDevice('EXPORT-1', 'pico');
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
    for (let i = 0; i < 3; i++) dc.pss.upload(dev.nextBlock(sampleRecords(40, [11, 12, 13], i + 1)));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the files are those the PSS would write itself, over many frames, and verify under its key', async () => {
    const auditor = await connect(credentialFor(dc, 'auditor', 'erin'));
    const seen: number[] = [];
    const remote = await auditor.exportPeriod({ period, pssId: 'pss-lab' }, (got) => seen.push(got));
    const local = buildExport(dc.store, { period: parsePeriod(period, 'month'), rules: loadDiscountConfig(DEFAULT_RULES_FILE), dataDir: dc.dir, pssId: 'pss-lab' });
    expect(remote.files.map((f) => f.name)).to.deep.equal(local.files.map((f) => f.name));
    // every data file byte for byte (the manifest differs only in its generation time)
    for (let i = 0; i < local.files.length; i++) {
      if (local.files[i].name === MANIFEST_FILE || local.files[i].name === SIGNATURE_FILE) continue;
      expect(remote.files[i].bytes.equals(local.files[i].bytes), local.files[i].name).to.equal(true);
    }
    const statistics = remote.files.find((f) => f.name === 'statistics.csv')!;
    expect(statistics.bytes.length, 'the test must span several frames').to.be.greaterThan(3 * MAX_PAYLOAD_BYTES);
    expect(seen.length).to.be.greaterThan(5);
    expect(seen[seen.length - 1]).to.equal(remote.files.reduce((n, f) => n + f.bytes.length, 0));
    expect(remote.summary).to.include({ period, blocks: 3, records: 120, publicKey: loadOrCreateSigningKey(dc.dir).publicKeyHex });
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    for (const f of remote.files) fs.writeFileSync(path.join(out, f.name), f.bytes);
    expect(verifyExport(out, loadOrCreateSigningKey(dc.dir).publicKeyHex)).to.include({ valid: true });
  });

  it('a device connection and a revoked credential are refused; a page needs its export first', async () => {
    const plain = await connect();
    expect(await outcome(plain.exportPeriod({ period }))).to.equal('NOT_AUTHORISED');
    const cred = credentialFor(dc, 'auditor', 'frank');
    revoke(dc.store, cred.serial);
    const revoked = await connect(cred);
    expect(await outcome(revoked.exportPeriod({ period }))).to.equal('NOT_AUTHORISED');
    const auditor = await connect(credentialFor(dc, 'auditor', 'gina'));
    const early = await (auditor as any).request(0x4f, { period, file: 0, offset: 0 }).catch((e: PssClientError) => e);
    expect(early.code).to.equal('BAD_ARGUMENT');
    expect(early.message).to.match(/ask for it without file first/);
    expect(await outcome(auditor.exportPeriod({ period: '2026-13' }))).to.equal('BAD_ARGUMENT');
  });

  it('pss export --pss writes and verifies the files, pinned to a key; a wrong pin fails with exit 1', async () => {
    const file = credentialFile(dc, dir, 'auditor');
    const key = loadOrCreateSigningKey(dc.dir).publicKeyHex;
    const out = path.join(dir, 'auditor-export');
    const r = await run(process.execPath, [PSS, 'export', '--pss', address, '--credentials', file, '--period', period, '--out', out, '--public-key', key, '--json'], { encoding: 'utf8' });
    const answer = JSON.parse(r.stdout);
    expect(answer).to.include({ valid: true, pinned: true, publicKey: key, blocks: 3, records: 120, period });
    expect(verifyExport(out, key).valid).to.equal(true);
    expect(fs.readdirSync(out).sort()).to.deep.equal(answer.files.map((f: { name: string }) => f.name).sort());

    const wrong = 'ab'.repeat(32);
    const bad: any = await run(process.execPath, [PSS, 'export', '--pss', address, '--credentials', file, '--period', period, '--out', path.join(dir, 'x'), '--public-key', wrong], { encoding: 'utf8' }).catch((e) => e);
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.match(/verifies\s+NO: /);

    const rules: any = await run(process.execPath, [PSS, 'export', '--pss', address, '--credentials', file, '--period', period, '--out', out, '--rules', DEFAULT_RULES_FILE], { encoding: 'utf8' }).catch((e) => e);
    expect(rules.code).to.equal(1);
    expect(rules.stderr).to.match(/the PSS's own discount rules apply/);
    const none: any = await run(process.execPath, [PSS, 'export', '--pss', address, '--period', period, '--out', out], { encoding: 'utf8', env: { ...process.env, PSS_CREDENTIALS: '', PSS_CREDENTIALS_PEM: '' } }).catch((e) => e);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.match(/NOT_AUTHORISED: an export over --pss needs an auditor credential/);
  });
});
