// The KMS (server/kms.ts) and the data directory: key files, device numbers, certificates,
// funds resets, revocation, the admin CLI beside a running PSS, and restarts.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import nacl from 'tweetnacl';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { verifyCertificate, FIRST_DEVICE } from '../server/kms.ts';
import { MASTER_KEY_FILE, CA_SEED_FILE } from '../server/keyfiles.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { fundsMessage } from '../protocol/auth.ts';
import { u32 } from '../protocol/bytes.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { refuseInserts, allowInserts } from '../testkit/pss-backend.ts';

const run = promisify(execFile);
const PSS = path.resolve('bin/pss.js');

function pssCli(dir: string, ...args: string[]) {
  return run(process.execPath, [PSS, ...args, '--data', dir], { encoding: 'utf8' });
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof PssError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('KMS and the PSS data directory', function () {
  let dir: string;
  let dc: DataCenter;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-kms-'));
    dc = await openDataCenter(dir);
  });

  afterEach(function () {
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the master key and CA seed on first start, 32 random bytes each, mode 0600', async function () {
    for (const f of [MASTER_KEY_FILE, CA_SEED_FILE]) {
      const st = fs.statSync(path.join(dir, f));
      expect(st.size).to.equal(32);
      expect(st.mode & 0o777).to.equal(0o600);
    }
    expect(fs.readFileSync(path.join(dir, MASTER_KEY_FILE))).to.not.deep.equal(fs.readFileSync(path.join(dir, CA_SEED_FILE)));
    if (dc.store.kind === 'sqlite') expect(fs.statSync(dc.store.file).mode & 0o077).to.equal(0);
    // a second start keeps them
    const ca = dc.kms.caPublicKey;
    dc.close();
    dc = await openDataCenter(dir);
    expect(dc.kms.caPublicKey).to.equal(ca);
  });

  it('refuses to start on a master key others can read', async function () {
    fs.chmodSync(path.join(dir, MASTER_KEY_FILE), 0o644);
    let err: unknown;
    await openDataCenter(dir).catch((e) => (err = e));
    expect((err as PssError).code).to.equal('STORAGE');
    expect((err as Error).message).to.match(/readable by others/);
  });

  it('numbers devices from 1001; the same serial gets its device and keys back', function () {
    const a = dc.kms.registerDevice('S-A', 'pico');
    const b = dc.kms.registerDevice('S-B', 'esp32');
    expect([a.device, b.device]).to.deep.equal([FIRST_DEVICE, FIRST_DEVICE + 1]);
    expect([a.seal, b.seal]).to.deep.equal([1, 2]);
    expect(dc.kms.registerDevice('S-A', 'pico')).to.deep.equal(a);
    expect(code(() => dc.kms.registerDevice('S-A', 'wifi'))).to.equal('BAD_ARGUMENT');
    expect(code(() => dc.kms.registerDevice('S-C', 'no-such-board'))).to.equal('BAD_ARGUMENT');
    expect(code(() => dc.kms.registerDevice('', 'pico'))).to.equal('BAD_ARGUMENT');
    // keys: derived from the master key, distinct per device and per purpose
    const master = fs.readFileSync(path.join(dir, MASTER_KEY_FILE));
    const h = (label: string, d: number) => nodeCrypto.createHmac('sha256', master).update(Buffer.from(label + u32(d), 'latin1')).digest().toString('latin1');
    expect(a.deviceKey).to.equal(h('PSD-DEVICE-KEY', a.device));
    expect(a.kmsKey).to.equal(h('PSD-KMS-KEY', a.device));
    expect(new Set([a.deviceKey, a.kmsKey, b.deviceKey, b.kmsKey]).size).to.equal(4);
    // a revoked serial registers again under a new number
    dc.kms.revoke(a.device);
    expect(dc.kms.registerDevice('S-A', 'pico').device).to.equal(FIRST_DEVICE + 2);
  });

  it('certifies an Ed25519 device key: Ed25519 by the CA over "PSD-CERT" || u32 device || key', function () {
    const d = dc.kms.registerDevice('E-1', 'esp32').device;
    const keys = nacl.sign.keyPair();
    const pub = Buffer.from(keys.publicKey).toString('latin1');
    const cert = dc.kms.certify(d, pub);
    expect(cert.length).to.equal(64);
    // checked with node:crypto, not the tweetnacl that signed it
    const caSpki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(dc.kms.caPublicKey, 'latin1')]);
    const caKey = nodeCrypto.createPublicKey({ key: caSpki, format: 'der', type: 'spki' });
    expect(nodeCrypto.verify(null, Buffer.from('PSD-CERT' + u32(d) + pub, 'latin1'), caKey, Buffer.from(cert, 'latin1'))).to.equal(true);
    expect(verifyCertificate(dc.kms.caPublicKey, d, pub, cert)).to.equal(true);
    expect(verifyCertificate(dc.kms.caPublicKey, d + 1, pub, cert)).to.equal(false);
    // the same key again: fine; another key: refused (a host must not swap its own key in)
    expect(dc.kms.certify(d, pub)).to.equal(cert);
    expect(code(() => dc.kms.certify(d, Buffer.from(nacl.sign.keyPair().publicKey).toString('latin1')))).to.equal('CERTIFIED');
    const hmacDevice = dc.kms.registerDevice('P-1', 'pico').device;
    expect(code(() => dc.kms.certify(hmacDevice, pub))).to.equal('NO_CERTIFICATE');
    expect(code(() => dc.kms.certify(99, pub))).to.equal('UNKNOWN_DEVICE');
  });

  it('authenticates funds resets with the next counter, persisted, under the device KMS key', async function () {
    const r = dc.kms.registerDevice('F-1', 'pico');
    payingAccount(dc, r.device);
    const a = dc.kms.fundsReset(r.device, 50000);
    const b = dc.kms.fundsReset(r.device, 125);
    expect([a.counter, b.counter]).to.deep.equal([1, 2]);
    const mac = nodeCrypto.createHmac('sha256', Buffer.from(r.kmsKey, 'latin1')).update(Buffer.from(fundsMessage(r.device, 2, 125), 'latin1')).digest().toString('latin1');
    expect(b.mac).to.equal(mac);
    expect(code(() => dc.kms.fundsReset(r.device, 0))).to.equal('BAD_ARGUMENT');
    expect(code(() => dc.kms.fundsReset(r.device, 1.5))).to.equal('BAD_ARGUMENT');
    dc.close();
    dc = await openDataCenter(dir);
    expect(dc.kms.fundsReset(r.device, 1).counter).to.equal(3);
    expect(dc.store.all('SELECT counter, amount FROM funds_resets ORDER BY counter')).to.deep.equal([
      { counter: 1, amount: 50000 },
      { counter: 2, amount: 125 },
      { counter: 3, amount: 1 }
    ]);
    dc.kms.revoke(r.device);
    expect(code(() => dc.kms.fundsReset(r.device, 1))).to.equal('REVOKED');
  });

  it('keeps devices, blocks and the last sequence across a restart, and goes on from there', async function () {
    const r = dc.kms.registerDevice('R-1', 'pico');
    const dev = new SampleDevice(r.device, { algorithm: 1, deviceKey: r.deviceKey });
    const b1 = dev.nextBlock(sampleRecords(30));
    dc.pss.upload(b1);
    dc.pss.upload(dev.nextBlock(sampleRecords(20, [9], 2)));
    const counts = dc.pss.counts();
    dc.close();
    dc = await openDataCenter(dir);
    expect(dc.pss.counts()).to.deep.equal(counts);
    expect(dc.pss.lastSeq(r.device)).to.equal(2);
    expect(dc.kms.registerDevice('R-1', 'pico')).to.deep.equal(r);
    expect(dc.pss.upload(b1).stored).to.equal(false); // still known as a repeat
    expect(dc.pss.upload(dev.nextBlock(sampleRecords(5, [9], 3))).seq).to.equal(3);
    expect(dc.kms.registerDevice('R-2', 'pico').device).to.equal(r.device + 1);
  });

  it('`pss register`, `pss devices` and `pss revoke` act on the database beside a running PSS, and never print a key', async function () {
    this.timeout(60000);
    const r = dc.kms.registerDevice('CLI-1', 'pico');
    const dev = new SampleDevice(r.device, { algorithm: 1, deviceKey: r.deviceKey });
    dc.pss.upload(dev.nextBlock(sampleRecords(4)));
    const reg = await pssCli(dir, 'register', '--serial', 'CLI-2', '--board', 'esp32');
    expect(reg.stdout.trim()).to.equal(String(r.device + 1));
    const list = await pssCli(dir, 'devices', '--json');
    const devices = JSON.parse(list.stdout);
    expect(devices.map((d: any) => [d.device, d.serial, d.board, d.seal, d.status, d.lastSeq])).to.deep.equal([
      [r.device, 'CLI-1', 'pico', 'hmac', 'active', 1],
      [r.device + 1, 'CLI-2', 'esp32', 'ed25519', 'active', 0]
    ]);
    const human = (await pssCli(dir, 'devices')).stdout;
    for (const out of [list.stdout, human, reg.stdout]) {
      for (const k of [r.deviceKey, r.kmsKey, dc.kms.deviceKey(r.device + 1)]) {
        expect(out).to.not.include(Buffer.from(k, 'latin1').toString('hex'));
        expect(out.toLowerCase()).to.not.include(Buffer.from(k, 'latin1').toString('hex').slice(0, 16));
      }
    }
    // the PSS process (this one) sees what the CLI wrote: a new device, then a revocation
    expect(dc.kms.device(r.device + 1)?.serial).to.equal('CLI-2');
    await pssCli(dir, 'revoke', String(r.device));
    expect(code(() => dc.pss.upload(dev.nextBlock(sampleRecords(4, [2], 2))))).to.equal('REVOKED');
    // and the CLI sees what this process wrote
    const after = JSON.parse((await pssCli(dir, 'devices', '--json')).stdout);
    expect(after[0].status).to.equal('revoked');
    const rej = dc.store.get<{ code: string }>('SELECT code FROM rejections')!;
    expect(rej.code).to.equal('REVOKED');
    // errors: code, message, non-zero exit
    let err: any;
    await pssCli(dir, 'revoke', '424242').catch((e) => (err = e));
    expect(err.code).to.equal(1);
    expect(err.stderr).to.match(/^pss: UNKNOWN_DEVICE: device 424242 is not registered/);
  });

  it('an upload is one transaction: a block whose records cannot be stored leaves no block, no record, nothing half done', async function () {
    const r = dc.kms.registerDevice('W-1', 'pico');
    const before = dc.pss.counts();
    // the database refuses one record of the block (as a full disk or a constraint would)
    refuseInserts(dc.store, 'refuse_777', 'records', 'NEW.customer = 777', 'refused by the test');
    const dev = new SampleDevice(r.device, { algorithm: 1, deviceKey: r.deviceKey });
    const raw = dev.nextBlock([...sampleRecords(3), { customer: 777, category: 1, weightBand: 0, postage: 85, pieces: 1, amount: 85, weight: 18 }]);
    expect(code(() => dc.pss.upload(raw))).to.equal('STORAGE');
    expect(dc.pss.counts()).to.deep.equal(before);
    expect(dc.pss.lastSeq(r.device)).to.equal(0);
    allowInserts(dc.store, 'refuse_777', 'records');
    expect(dc.pss.upload(raw).stored).to.equal(true);
  });

  it('group commit: uploads of one turn share a transaction, each still all or nothing; the promises settle after the commit', async function () {
    const a = dc.kms.registerDevice('G-A', 'pico');
    const b = dc.kms.registerDevice('G-B', 'pico');
    const devA = new SampleDevice(a.device, { algorithm: 1, deviceKey: a.deviceKey });
    const devB = new SampleDevice(b.device, { algorithm: 1, deviceKey: b.deviceKey });
    const a1 = devA.nextBlock(sampleRecords(3));
    const a2 = devA.nextBlock(sampleRecords(3, [5], 2));
    const forged = new SampleDevice(b.device, { algorithm: 1, deviceKey: 'z'.repeat(32) }).nextBlock(sampleRecords(2));
    refuseInserts(dc.store, 'refuse_777', 'records', 'NEW.customer = 777', 'refused by the test');
    const b1 = devB.nextBlock([{ customer: 777, category: 1, weightBand: 0, postage: 85, pieces: 1, amount: 85, weight: 18 }]);
    const settled = await Promise.allSettled([dc.pss.uploadGrouped(a1), dc.pss.uploadGrouped(forged), dc.pss.uploadGrouped(a2), dc.pss.uploadGrouped(b1)]);
    expect(settled.map((r) => (r.status === 'fulfilled' ? `seq ${r.value.seq}` : (r.reason as PssError).code))).to.deep.equal(['seq 1', 'BAD_SEAL', 'seq 2', 'STORAGE']);
    // a2 saw a1 in the same transaction; b1's block row went with its failed records
    expect(dc.pss.lastSeq(a.device)).to.equal(2);
    expect(dc.pss.lastSeq(b.device)).to.equal(0);
    expect(dc.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM records WHERE device = ?', [b.device])!.n).to.equal(0);
    expect(dc.store.all<{ code: string }>('SELECT code FROM rejections').map((r) => r.code)).to.deep.equal(['BAD_SEAL']);
  });

  it('runs SQLite in WAL mode with foreign keys enforced; the database file is 0600', function () {
    if (dc.store.kind === 'sqlite') {
      expect(dc.store.get<{ journal_mode: string }>('PRAGMA journal_mode')!.journal_mode).to.equal('wal');
      expect(dc.store.get<{ foreign_keys: number }>('PRAGMA foreign_keys')!.foreign_keys).to.equal(1);
    }
    // a record of a block that does not exist is refused by the database itself
    expect(code(() => dc.store.change(() => dc.store.run('INSERT INTO records(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) VALUES (1, 1, 0, 1, 1, 0, 85, 1, 85, 18)', [])))).to.equal('STORAGE');
    expect(dc.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM records')!.n).to.equal(0);
    if (dc.store.kind === 'sqlite') for (const f of [dc.store.file, dc.store.file + '-wal']) if (fs.existsSync(f)) expect(fs.statSync(f).mode & 0o777, f).to.equal(0o600);
  });

});
