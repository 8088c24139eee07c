// Sealed statistics end to end on the built images in the virtual board: the data center
// (KMS + PSS over TCP) provisions the PSD and loads funds, the PSD franks, seals, the host
// stores the block on disk, crashes, comes back, uploads; the PSS authenticates, stores and
// confirms, and only then does the PSD free the records. Every design invariant is checked
// at each step, through a lost confirmation, a PSS restart, a host that edits the block and
// a secure session on an Ed25519 board.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { RECORD_BYTES } from '../protocol/records.ts';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { PssClient } from '../kit/pss-client.ts';
import { runSession } from '../host-bridge/session-relay.ts';
import { PsdError } from '../host-bridge/errors.ts';
import { BlockStore } from '../host-bridge/store.ts';
import { extractBlock } from '../host-bridge/extract.ts';
import { ImageDevice, DeviceError } from '../testkit/harness.ts';
import { checkInvariants } from '../testkit/invariants.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { operatorClient } from '../testkit/pss-operator.ts';

/** The PSD as PsdClient.request would answer (device refusals as PsdError). */
function psdOf(d: ImageDevice) {
  return {
    request: async (type: number, body: object = {}) => {
      try {
        return await d.call(type, body);
      } catch (e) {
        if (e instanceof DeviceError) throw new PsdError(e.code, undefined);
        throw e;
      }
    }
  };
}

async function refusal(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail('expected a refusal');
}

describe('sealed statistics end to end: PSD image, host store, PSS over TCP', function () {
  this.timeout(60000);
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  let pss: PssClient;

  async function startPss() {
    dc = await openDataCenter(path.join(dir, 'pss'));
    service = await startService(dc, { port: 0, idleMs: 10000 });
    pss = await operatorClient(dc, service.port);
  }
  async function stopPss() {
    await pss.close();
    await service.close();
    dc.close();
  }
  const blockCount = () => dc.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM blocks')!.n;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-e2e-dc-'));
    await startPss();
  });
  afterEach(async () => {
    await stopPss().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function provisioned(board: string) {
    const d = new ImageDevice({ board });
    const status = await d.call(Command.STATUS);
    const reg = await pss.register(status.deviceId.replace(/^unprovisioned-/, ''), board);
    const p = await d.call(Command.PROVISION, { device: reg.device, deviceKey: reg.deviceKey, kmsKey: reg.kmsKey });
    if (p.publicKey) await pss.certify(reg.device, p.publicKey);
    await d.call(Command.CLOCK, { now: Date.UTC(2026, 10, 24, 8) });
    payingAccount(dc, reg.device);
    const f = await pss.funds(reg.device, 200_000);
    await d.call(Command.FUNDS, { counter: f.counter, amount: f.amount, mac: f.mac });
    return { d, device: reg.device };
  }

  async function frankDay(d: ImageDevice, id0: number) {
    await d.call(Command.BATCH_START, { customer: 3001, mode: 'batch', category: 1, weight: 20, postage: 85 });
    await d.call(Command.FRANK, { id: id0, count: 120 });
    await d.call(Command.BATCH_END);
    await d.call(Command.BATCH_START, { customer: 3002, mode: 'dynamic' });
    for (let i = 0; i < 5; i++) await d.call(Command.FRANK, { id: id0 + 1 + i, category: i, weight: 30 + 100 * i, postage: 90 + 10 * i });
    await d.call(Command.BATCH_END);
  }

  it('host crash between extraction and upload, a lost confirmation, a PSS restart: stored once, freed once, nothing lost', async () => {
    const { d, device } = await provisioned('pico');
    await frankDay(d, 100);
    const x = await extractBlock((t, b) => d.call(t, b));
    await new BlockStore(path.join(dir, 'store')).put(x.bytes, { port: 'vboard' });
    // the host crashes here: a new process finds the block on disk
    const store = new BlockStore(path.join(dir, 'store'));
    const [pending] = await store.pending();
    expect(pending.bytes).to.equal(x.bytes);
    const first = await pss.upload(pending.bytes);
    expect([first.seq, first.stored]).to.deep.equal([1, true]);
    // the confirmation's way back is lost: the PSD still holds the records
    expect((await d.call(Command.STATUS)).block.awaitingConfirmation).to.equal(1);
    // the upload is repeated: stored once, confirmed again with the same confirmation
    const again = await pss.upload(pending.bytes);
    expect([again.stored, again.confirmation]).to.deep.equal([false, first.confirmation]);
    expect(blockCount()).to.equal(1);
    await d.call(Command.CONFIRM, { seq: 1, mac: again.confirmation });
    const s = await checkInvariants(d, 200_000, { pieces: 125, amount: x.block.header.ascending });
    expect(s.status.storage.records).to.equal(0);
    // the PSS restarts; the next day's block continues the chain (previous registers, times)
    await stopPss();
    await startPss();
    await d.call(Command.CLOCK, { now: Date.UTC(2026, 10, 25, 8) });
    await frankDay(d, 200);
    const y = await extractBlock((t, b) => d.call(t, b));
    expect(y.block.header.previousPieces).to.equal(125);
    const second = await pss.upload(y.bytes);
    expect([second.seq, second.stored]).to.deep.equal([2, true]);
    await d.call(Command.CONFIRM, { seq: 2, mac: second.confirmation });
    await checkInvariants(d, 200_000, { pieces: 250, amount: y.block.header.ascending });
    // the PSS's records sum to what the PSD franked, per customer
    const rows = dc.store.all<{ c: number; p: number }>('SELECT customer AS c, SUM(pieces) AS p FROM records WHERE device = ? GROUP BY customer ORDER BY customer', [device]).map((r) => [r.c, r.p]);
    expect(rows).to.deep.equal([
      [3001, 240],
      [3002, 10]
    ]);
    d.close();
  });

  it('a host that edits, re-attributes or replays a block is caught; the PSD keeps its records until the real one is confirmed', async () => {
    const { d } = await provisioned('pico');
    await frankDay(d, 300);
    const x = await extractBlock((t, b) => d.call(t, b));
    const head = x.block.head.length;
    // one record's pieces changed, and one record moved to another customer
    const edited = x.bytes.slice(0, head + 12) + String.fromCharCode(x.bytes.charCodeAt(head + 12) ^ 1) + x.bytes.slice(head + 13);
    const swapped = x.bytes.slice(0, head + RECORD_BYTES + 3) + String.fromCharCode(x.bytes.charCodeAt(head + RECORD_BYTES + 3) ^ 2) + x.bytes.slice(head + RECORD_BYTES + 4);
    for (const bad of [edited, swapped]) {
      const e = await refusal(pss.upload(bad));
      expect(e.message).to.match(/seal|digest|customer|plausib/i);
    }
    expect(blockCount()).to.equal(0);
    // a confirmation made up by the host is refused by the PSD
    expect((await refusal(d.call(Command.CONFIRM, { seq: 1, mac: 'ab'.repeat(32) }))).code).to.equal(ErrorCode.AUTH);
    expect((await d.call(Command.STATUS)).block.awaitingConfirmation).to.equal(1);
    const ok = await pss.upload(x.bytes);
    await d.call(Command.CONFIRM, { seq: 1, mac: ok.confirmation });
    // the same sequence number with other contents: a replay, refused
    const forged = x.bytes.slice(0, -1) + String.fromCharCode(x.bytes.charCodeAt(x.bytes.length - 1) ^ 1);
    await refusal(pss.upload(forged));
    expect(blockCount()).to.equal(1);
    await checkInvariants(d, 200_000, { pieces: 125, amount: x.block.header.ascending });
    d.close();
  });

  it('esp32 (Ed25519): a secure session reads, stores and confirms the block and loads funds; a revoked device is refused', async () => {
    const { d, device } = await provisioned('esp32');
    await frankDay(d, 400);
    const report = await runSession(pss, psdOf(d), { funds: 50_000 });
    expect(report.error, JSON.stringify(report.error)).to.equal(undefined);
    expect(report.block).to.include({ seq: 1, stored: true });
    expect(report.confirmed).to.equal(true);
    expect(report.funds).to.include({ amount: 50_000, loaded: true });
    const s = await checkInvariants(d, 250_000, { pieces: 125, amount: (await d.call(Command.STATUS)).registers.ascending });
    expect(s.status.block.lastConfirmed).to.equal(1);
    // the KMS revokes the device: its next block is refused and nothing is stored
    dc.kms.revoke(device);
    await d.call(Command.FRANK, { id: 500, customer: 3003, category: 2, weight: 20, postage: 85 });
    const y = await extractBlock((t, b) => d.call(t, b));
    const e = await refusal(pss.upload(y.bytes));
    expect(e.message).to.match(/revoked/i);
    expect(blockCount()).to.equal(1);
    d.close();
  });

  it('rekeys in a session: later blocks, confirmations and funds resets use the new keys, the old ones no longer authenticate', async () => {
    const { d, device } = await provisioned('pico');
    await frankDay(d, 600);
    const oldKey = dc.kms.deviceKey(device, 0);
    const report = await runSession(pss, psdOf(d), { rekey: true, funds: 10_000 });
    expect(report.error, JSON.stringify(report.error)).to.equal(undefined);
    expect([report.confirmed, report.keyVersion, report.funds?.loaded]).to.deep.equal([true, 1, true]);
    expect(dc.kms.device(device)!.key_version).to.equal(1);
    expect(dc.kms.deviceKey(device)).to.not.equal(oldKey);
    // the next block is sealed under the new key and accepted by a plain upload
    await d.call(Command.FRANK, { id: 700, customer: 3001, category: 1, weight: 20, postage: 85 });
    const y = await extractBlock((t, b) => d.call(t, b));
    const up = await pss.upload(y.bytes);
    expect(up.stored).to.equal(true);
    await d.call(Command.CONFIRM, { seq: up.seq, mac: up.confirmation });
    // a confirmation or a funds reset made with the old keys is refused
    const nodeCrypto = await import('node:crypto');
    await d.call(Command.FRANK, { id: 701, customer: 3001, category: 1, weight: 20, postage: 85 });
    const z = await extractBlock((t, b) => d.call(t, b));
    const { confirmMessage } = await import('../protocol/block.ts');
    const stale = nodeCrypto.createHmac('sha256', Buffer.from(oldKey, 'latin1')).update(Buffer.from(confirmMessage(device, z.block.header.seq, z.digest), 'latin1')).digest('hex');
    expect((await refusal(d.call(Command.CONFIRM, { seq: z.block.header.seq, mac: stale }))).code).to.equal(ErrorCode.AUTH);
    // a rekey outside a session is not even a command
    expect((await refusal(d.call(Command.REKEY, { version: 2, deviceKey: '00'.repeat(32), kmsKey: '00'.repeat(32) }))).code).to.equal(ErrorCode.UNKNOWN_COMMAND);
    await checkInvariants(d, 210_000, { pieces: 126, amount: y.block.header.ascending });
    d.close();
  });

  it('withdraws a device in a session: final block confirmed, keys erased on the PSD, its unused funds credited back to its account', async () => {
    const { d, device } = await provisioned('pico');
    await frankDay(d, 800);
    const account = dc.kms.device(device)!.account!;
    const before = dc.kms.account(account)!.balance;
    const report = await runSession(pss, psdOf(d), { withdraw: true });
    expect(report.error, JSON.stringify(report.error)).to.equal(undefined);
    expect(report.confirmed).to.equal(true);
    const s = await d.call(Command.STATUS);
    expect(s.lock.code).to.equal(ErrorCode.WITHDRAWN);
    expect(report.withdrawn).to.deep.equal({ ascending: s.registers.ascending, descending: s.registers.descending, pieces: s.registers.pieces, account, credited: s.registers.descending });
    expect(s.registers.descending).to.equal(200_000 - 120 * 85 - (90 + 100 + 110 + 120 + 130));
    expect(dc.kms.account(account)!.balance).to.equal(before + s.registers.descending);
    expect(dc.kms.device(device)!.status).to.equal('revoked');
    expect((await refusal(d.call(Command.FRANK, { id: 900, customer: 3001, category: 1, weight: 20, postage: 85 }))).code).to.equal(ErrorCode.WITHDRAWN);
    d.close();
  });

  it('withdraws in one session when pieces were franked after a block extracted earlier: both blocks stored, every piece settled', async () => {
    const { d, device } = await provisioned('pico');
    await frankDay(d, 820);
    const extracted = await d.call(Command.STATS_EXTRACT);
    await d.call(Command.FRANK, { id: 830, customer: 3001, category: 1, weight: 20, postage: 85 });
    const account = dc.kms.device(device)!.account!;
    const before = dc.kms.account(account)!.balance;
    const report = await runSession(pss, psdOf(d), { withdraw: true });
    expect(report.error, JSON.stringify(report.error)).to.equal(undefined);
    expect(report.earlierBlocks).to.deep.equal([{ seq: extracted.seq, stored: true, records: extracted.recordCount }]);
    expect(report.block).to.deep.equal({ seq: extracted.seq + 1, stored: true, records: 1 });
    const s = await d.call(Command.STATUS);
    expect(s.lock.code).to.equal(ErrorCode.WITHDRAWN);
    expect(s.block.confirmedPieces).to.equal(s.registers.pieces);
    expect(report.withdrawn!.credited).to.equal(s.registers.descending);
    expect(dc.kms.account(account)!.balance).to.equal(before + s.registers.descending);
    d.close();
  });

  it("withdrawn at the data center without the PSD: nothing credited until the PSD's final figures; its next session withdraws it and credits what it really has left", async () => {
    const { d, device } = await provisioned('pico');
    await frankDay(d, 810);
    const account = dc.kms.device(device)!.account!;
    const first = await runSession(pss, psdOf(d));
    expect(first.error, JSON.stringify(first.error)).to.equal(undefined);
    const before = dc.kms.account(account)!.balance;
    const w = dc.kms.withdraw(device);
    expect(w).to.include({ credited: 0, pending: true });
    expect(dc.kms.account(account)!.balance).to.equal(before);
    // the PSD franks on meanwhile (it does not know yet): postage the last block's register still counted
    await d.call(Command.FRANK, { id: 990, customer: 3001, category: 1, weight: 20, postage: 85 });
    // funds are refused for it, and a session for anything but its withdrawal
    expect(await runSession(pss, psdOf(d), { funds: 1000 }).then((r) => r.error?.code, (e) => e.code)).to.equal('REVOKED');
    const report = await runSession(pss, psdOf(d));
    expect(report.error, JSON.stringify(report.error)).to.equal(undefined);
    const s = await d.call(Command.STATUS);
    expect(s.lock.code).to.equal(ErrorCode.WITHDRAWN);
    expect(report.withdrawn).to.deep.equal({ ascending: s.registers.ascending, descending: s.registers.descending, pieces: s.registers.pieces, account, credited: s.registers.descending });
    expect(w.lastDescending! - s.registers.descending, 'the piece franked after the last block is not refunded').to.equal(85);
    expect(dc.kms.account(account)!.balance).to.equal(before + s.registers.descending);
    expect(dc.kms.device(device)!.status).to.equal('revoked');
    d.close();
  });

  it('brings the PSD the rate tables in every session; the PSD prices pieces by the one in force', async () => {
    const { addRateTable } = await import('../server/rates.ts');
    const { ANY_BAND } = await import('../protocol/rates.ts');
    const { d } = await provisioned('pico');
    await frankDay(d, 1000);
    const now = Math.floor(Date.now() / 1000);
    addRateTable(dc.store, { version: 1, effective: now - 86400, entries: [{ category: 1, band: ANY_BAND, postage: 85 }] });
    addRateTable(dc.store, { version: 2, effective: now + 30 * 86400, entries: [{ category: 1, band: ANY_BAND, postage: 95 }] });
    const report = await runSession(pss, psdOf(d));
    expect(report.error, JSON.stringify(report.error)).to.equal(undefined);
    expect(report.rates).to.deep.equal([1, 2]);
    const s = await d.call(Command.STATUS);
    expect(s.rates).to.deep.equal({ inForce: 1, held: [[1, now - 86400], [2, now + 30 * 86400]] });
    const a = await d.call(Command.FRANK, { id: 1100, customer: 3001, category: 1, weight: 20 });
    expect(a.amount).to.equal(85);
    expect((await refusal(d.call(Command.FRANK, { id: 1101, customer: 3001, category: 1, weight: 20, postage: 95 }))).code).to.equal(ErrorCode.RATE_MISMATCH);
    // the next session brings them again: the PSD holds them already, nothing changes
    expect((await runSession(pss, psdOf(d))).rates).to.deep.equal([1, 2]);
    expect((await d.call(Command.STATUS)).rates.held).to.have.length(2);
    d.close();
  });
});

