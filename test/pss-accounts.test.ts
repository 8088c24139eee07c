// Funds are paid for: customer accounts with balances, deposits and a ledger of every funds
// reset; a reset beyond the balance is refused and changes nothing; the debit and the reset
// are one transaction; a withdrawal credits the unused descending register back; exports and
// `pss ledger` show the ledger. Over TCP, the refusals reach `psd`'s PSS client as BALANCE /
// NO_ACCOUNT.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService } from '../server/service.ts';
import { PssClient, PssClientError } from '../kit/pss-client.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { exportPeriod } from '../server/export.ts';
import { parsePeriod, loadDiscountConfig } from '../server/discounts.ts';
import { DEFAULT_RULES_FILE } from '../server/commands/report.ts';
import { operatorClient } from '../testkit/pss-operator.ts';
import { refuseInserts, allowInserts } from '../testkit/pss-backend.ts';

const run = promisify(execFile);
const PSS = path.resolve('bin/pss.js');

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof PssError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('customer accounts: balances, deposits, the funds ledger', function () {
  this.timeout(30000);
  let dir: string;
  let dc: DataCenter;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-accounts-'));
    dc = await openDataCenter(path.join(dir, 'pss'));
  });
  afterEach(() => {
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const state = () => ['accounts', 'ledger', 'funds_resets', 'devices'].map((t) => dc.store.all(`SELECT * FROM ${t}`));

  it('a funds reset needs an account with the balance for it; it debits the balance and is in the ledger', () => {
    const d = dc.kms.registerDevice('ACC-1', 'pico').device;
    const before = state();
    expect(code(() => dc.kms.fundsReset(d, 100))).to.equal('NO_ACCOUNT');
    expect(state()).to.deep.equal(before);
    const a = dc.kms.createAccount('Mail house A').account;
    expect(a).to.equal(1);
    dc.kms.assignAccount(d, a);
    expect(code(() => dc.kms.fundsReset(d, 1))).to.equal('BALANCE'); // balance 0
    dc.kms.deposit(a, 50_000, 'wire 2026-11-30');
    const s0 = state();
    expect(code(() => dc.kms.fundsReset(d, 50_001))).to.equal('BALANCE');
    expect(state(), 'a refused reset changes nothing').to.deep.equal(s0);
    const r = dc.kms.fundsReset(d, 30_000);
    expect(r.counter).to.equal(1);
    expect(dc.kms.account(a)!.balance).to.equal(20_000);
    expect(code(() => dc.kms.fundsReset(d, 20_001))).to.equal('BALANCE');
    expect(dc.kms.fundsReset(d, 20_000).counter).to.equal(2);
    expect(dc.kms.account(a)!.balance).to.equal(0);
    expect(dc.kms.ledger({ account: a }).map((e) => [e.kind, e.amount, e.balance, e.device, e.counter, e.reference])).to.deep.equal([
      ['deposit', 50_000, 50_000, null, null, 'wire 2026-11-30'],
      ['funds', -30_000, 20_000, d, 1, null],
      ['funds', -20_000, 0, d, 2, null]
    ]);
    // the ledger adds up: the balance is the sum of its entries
    expect(dc.kms.ledger().reduce((s, e) => s + e.amount, 0)).to.equal(dc.kms.account(a)!.balance);
    expect(code(() => dc.kms.deposit(99, 1))).to.equal('UNKNOWN_ACCOUNT');
    expect(code(() => dc.kms.deposit(a, 0))).to.equal('BAD_ARGUMENT');
    expect(code(() => dc.kms.assignAccount(d, 99))).to.equal('UNKNOWN_ACCOUNT');
  });

  it('the debit and the reset are one transaction: a failure after the debit leaves balance and counter as they were', () => {
    const d = dc.kms.registerDevice('ACC-TX', 'pico').device;
    const a = dc.kms.createAccount('A').account;
    dc.kms.assignAccount(d, a);
    dc.kms.deposit(a, 1000);
    refuseInserts(dc.store, 'refuse_ledger', 'ledger', "NEW.kind = 'funds'", 'disk full (test)');
    const before = state();
    expect(code(() => dc.kms.fundsReset(d, 500))).to.equal('STORAGE');
    expect(state()).to.deep.equal(before);
    allowInserts(dc.store, 'refuse_ledger', 'ledger');
    expect(dc.kms.fundsReset(d, 500).counter).to.equal(1);
  });

  it('the balance never goes negative, even written directly (CHECK), and foreign keys hold the ledger to accounts', () => {
    const a = dc.kms.createAccount('A').account;
    expect(code(() => dc.store.change(() => dc.store.run('UPDATE accounts SET balance = -1 WHERE account = ?', [a])))).to.equal('STORAGE');
    expect(code(() => dc.store.change(() => dc.store.run("INSERT INTO ledger(account, at, kind, amount, balance) VALUES (42, 0, 'deposit', 1, 1)", [])))).to.equal('STORAGE');
    expect(dc.kms.ledger()).to.deep.equal([]);
  });

  it("withdrawing a device without it credits nothing: its refund waits for the PSD's own final figures, not its last block's", () => {
    const reg = dc.kms.registerDevice('ACC-W', 'pico');
    const a = dc.kms.createAccount('A').account;
    dc.kms.assignAccount(reg.device, a);
    dc.kms.deposit(a, 100_000);
    dc.kms.fundsReset(reg.device, 100_000);
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey }, 100_000);
    const recs = [{ customer: 1, category: 1, weightBand: 0, postage: 85, pieces: 100, amount: 8500, weight: 1800 }];
    dc.pss.upload(dev.nextBlock(recs));
    const w = dc.kms.withdraw(reg.device);
    // the last block says 91,500 left, but the PSD may have franked since: nothing credited yet
    expect(w).to.deep.equal({ device: reg.device, account: a, credited: 0, pending: true, seq: 1, lastDescending: 100_000 - 8500 });
    expect(dc.kms.account(a)!.balance).to.equal(0);
    expect(dc.kms.device(reg.device)!.status).to.equal('withdrawing');
    expect(dc.kms.ledger().at(-1)).to.include({ kind: 'funds' });
    // no funds, no second withdrawal from the data center's side ...
    expect(code(() => dc.kms.fundsReset(reg.device, 10))).to.equal('REVOKED');
    expect(code(() => dc.kms.withdraw(reg.device))).to.equal('REVOKED');
    // ... but its statistics still come in: 200 more pieces franked since
    dc.pss.upload(dev.nextBlock([{ customer: 1, category: 1, weightBand: 0, postage: 85, pieces: 200, amount: 17_000, weight: 3600 }]));
    // the PSD's own final figures (its withdrawal answer in a session): credited, revoked
    const final = dc.kms.withdraw(reg.device, { descending: dev.descending });
    expect(final).to.include({ credited: 100_000 - 25_500, pending: false, seq: 2 });
    expect(dc.kms.account(a)!.balance).to.equal(100_000 - 25_500);
    expect(dc.kms.device(reg.device)!.status).to.equal('revoked');
    expect(dc.kms.ledger().at(-1)).to.include({ kind: 'withdrawal', amount: 74_500, device: reg.device });
    expect(code(() => dc.kms.withdraw(reg.device, { descending: 1 }))).to.equal('REVOKED');
  });

  it('an operator revoking a device whose withdrawal refund is pending must say it forfeits the refund', () => {
    const reg = dc.kms.registerDevice('ACC-WR', 'pico');
    const a = dc.kms.createAccount('B').account;
    dc.kms.assignAccount(reg.device, a);
    dc.kms.deposit(a, 5_000);
    dc.kms.fundsReset(reg.device, 5_000);
    const next = dc.kms.rekey(reg.device).version; // begun before the withdrawal: the PSD may still confirm it
    dc.kms.withdraw(reg.device);
    dc.kms.rekeyDone(reg.device, next);
    expect(dc.kms.device(reg.device)).to.include({ status: 'withdrawing', key_version: next });
    expect(code(() => dc.kms.revokeByOperator(reg.device))).to.equal('BAD_ARGUMENT');
    expect(dc.kms.device(reg.device)!.status).to.equal('withdrawing');
    expect(dc.kms.revokeByOperator(reg.device, true)).to.include({ status: 'revoked', refundForfeited: true });
    expect(dc.kms.account(a)!.balance).to.equal(0);
    // an active device needs no such word
    const other = dc.kms.registerDevice('ACC-WR2', 'pico');
    expect(dc.kms.revokeByOperator(other.device)).to.include({ status: 'revoked', refundForfeited: false });
  });

  it('over TCP: funds beyond the balance are refused as BALANCE, without an account as NO_ACCOUNT', async () => {
    const service = await startService(dc, { port: 0 });
    const c = await operatorClient(dc, service.port);
    try {
      const d = dc.kms.registerDevice('ACC-TCP', 'pico').device;
      const err = async (p: Promise<unknown>) => p.then(() => 'OK', (e) => (e as PssClientError).code);
      expect(await err(c.funds(d, 10))).to.equal('NO_ACCOUNT');
      const a = dc.kms.createAccount('TCP').account;
      dc.kms.assignAccount(d, a);
      dc.kms.deposit(a, 10);
      expect(await err(c.funds(d, 11))).to.equal('BALANCE');
      expect((await c.funds(d, 10)).counter).to.equal(1);
    } finally {
      await c.close();
      await service.close();
    }
  });

  it('pss account / deposit / ledger on the CLI; the export carries the funds ledger', async () => {
    const data = path.join(dir, 'pss');
    const pss = (...args: string[]) => run(process.execPath, [PSS, ...args, '--data', data], { encoding: 'utf8' });
    expect((await pss('account', 'create', '--name', 'Mail house B')).stdout.trim()).to.equal('1');
    const dev = (await pss('register', '--serial', 'CLI-ACC', '--board', 'pico', '--account', '1')).stdout.trim();
    expect((await pss('deposit', '--account', '1', '--amount', '70000', '--reference', 'INV-7')).stdout).to.match(/balance 700\.00/);
    dc.kms.fundsReset(Number(dev), 25_000);
    const list = JSON.parse((await pss('account', 'list', '--json')).stdout);
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ account: 1, name: 'Mail house B', balance: 45_000 });
    expect(list[0].devices).to.deep.equal([Number(dev)]);
    const ledger = (await pss('ledger')).stdout;
    expect(ledger).to.match(/deposit .*\+700\.00 .*700\.00/);
    expect(ledger).to.match(/funds .*-250\.00 .*450\.00 .*1001 .*1/);
    let refused: any;
    await pss('deposit', '--account', '9', '--amount', '1').catch((e) => (refused = e));
    expect(refused.stderr).to.match(/pss: UNKNOWN_ACCOUNT: account 9 does not exist/);
    const now = new Date();
    const period = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const out = path.join(dir, 'export');
    exportPeriod(dc.store, { period: parsePeriod(period, 'month'), rules: loadDiscountConfig(DEFAULT_RULES_FILE), outDir: out, dataDir: data });
    const csv = fs.readFileSync(path.join(out, 'funds-ledger.csv'), 'utf8').trim().split('\r\n');
    expect(csv[0]).to.equal('entry,account,account_name,at,kind,amount,balance_after,device,funds_counter,reference');
    expect(csv.slice(1).map((l) => l.split(',').slice(4, 7))).to.deep.equal([
      ['deposit', '70000', '70000'],
      ['funds', '-25000', '45000']
    ]);
  });
});
