// Capacity, corruption and the delete-after-confirmation path of the PSD core.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ErrorCode, errorText } from '../protocol/errors.ts';
import { CoreDevice, DeviceError, TestKms, readyDevice } from '../testkit/harness.ts';
import { expectCode } from '../testkit/harness.ts';
import { memoryBoard } from '../testkit/memory-board.ts';
import { checkInvariants } from '../testkit/invariants.ts';
import { extractBlock } from '../host-bridge/extract.ts';
import { MIXED_BAND } from '../protocol/records.ts';


describe('PSD core: capacity, corruption, release after confirmation', () => {
  it('stops franking with a clear error before statistics could be lost, and says storage is low first', async () => {
    const board = memoryBoard({ pageBytes: 1024, pageCount: 4 });
    const d = new CoreDevice(board, 64);
    const kms = new TestKms();
    await readyDevice(d, kms, 10_000_000);
    let lowSeen = false;
    let refused: DeviceError | null = null;
    for (let i = 0; i < 500 && !refused; i++) {
      try {
        // every piece a new parameter set: the worst case for the record tables
        await d.call(Command.FRANK, { id: 10 + i, customer: 1 + (i % 5), category: i % 120, weight: 20, postage: 50 + i });
      } catch (e) {
        refused = e as DeviceError;
      }
      if ((await d.call(Command.STATUS)).storage.low) lowSeen = true;
    }
    expect(refused, 'franking never stopped').to.be.instanceOf(DeviceError);
    expect([ErrorCode.STORAGE_FULL, ErrorCode.CATEGORY_LIMIT]).to.include(refused!.code);
    expect(lowSeen, 'storage-low flag before the stop').to.equal(true);
    const before = await checkInvariants(d, 10_000_000);
    // nothing was lost: a reboot rebuilds the same registers and records
    const again = new CoreDevice(board, 64);
    const after = await checkInvariants(again, 10_000_000);
    expect(after.status.registers).to.deep.equal(before.status.registers);
    expect(after.records).to.have.deep.members(before.records);
  });

  it('locks with a code instead of guessing when the journal is corrupt', async () => {
    // (five pages: two checkpoints, each a page-filling state record and the event ring of the
    // audit after it, no longer fit in four 1 KB pages beside the funds reset)
    const board = memoryBoard({ pageBytes: 1024, pageCount: 5 });
    const d = new CoreDevice(board);
    const kms = new TestKms();
    await readyDevice(d, kms, 100_000);
    for (let i = 0; i < 5; i++) await d.call(Command.FRANK, { id: 50 + i, customer: 1, category: 2, weight: 20, postage: 70 });
    // flip one bit inside an early record (not the torn tail of a cut write)
    board.flashBytes[12 + 8 + 8 + 2] ^= 0x04;
    const rebooted = new CoreDevice(board);
    const s = await rebooted.call(Command.STATUS);
    expect(s.lock).to.include({ code: ErrorCode.STORAGE_CORRUPT });
    expect(errorText(s.lock.code, s.lock.detail)).to.match(/corrupt/);
    try {
      await rebooted.call(Command.FRANK, { id: 99, customer: 1, category: 2, weight: 20, postage: 70 });
      expect.fail('franked while locked');
    } catch (e) {
      expect((e as DeviceError).code).to.equal(ErrorCode.STORAGE_CORRUPT);
    }
  });

  it('frees sealed records only on an authentic confirmation of that block, and keeps the books balanced', async () => {
    const board = memoryBoard({ pageBytes: 2048, pageCount: 4 });
    const d = new CoreDevice(board);
    const kms = new TestKms();
    const call = (t: number, b: object) => d.call(t, b);
    await readyDevice(d, kms, 100_000);
    for (let i = 0; i < 6; i++) await d.call(Command.FRANK, { id: 70 + i, customer: 1 + (i % 2), category: 2, weight: 20, postage: 70 });
    const x = await extractBlock(call);
    expect(x.block.header.seq).to.equal(1);
    expect(x.block.header.customers).to.deep.equal([1, 2]);
    expect(x.block.records.reduce((a, r) => a + r.pieces, 0)).to.equal(6);
    // pieces after the seal open new records even for the same parameter set
    await d.call(Command.FRANK, { id: 80, customer: 1, category: 2, weight: 20, postage: 70 });
    await d.call(Command.STATS_FLUSH);
    expect((await d.call(Command.STATUS)).storage.records).to.equal(3);
    // extraction repeated before confirmation: the same block, byte for byte
    const again = await extractBlock(call);
    expect(again.fresh).to.equal(false);
    expect(again.bytes).to.equal(x.bytes);
    // a forged confirmation, and one for another block, change nothing
    const forged = { seq: 1, mac: '00'.repeat(32) };
    await expectCode(d.call(Command.CONFIRM, forged), ErrorCode.AUTH);
    await expectCode(d.call(Command.CONFIRM, kms.confirm(2, x.digest)), ErrorCode.NO_BLOCK);
    expect((await d.call(Command.STATUS)).storage.records).to.equal(3);
    const ok = await d.call(Command.CONFIRM, kms.confirm(1, x.digest));
    expect(ok.repeated).to.equal(false);
    const s = await checkInvariants(d, 100_000, { pieces: 6, amount: 420 });
    expect(s.status.storage.records).to.equal(1);
    expect(s.status.block).to.deep.equal({ lastSealed: 1, awaitingConfirmation: 0, lastConfirmed: 1, confirmedPieces: 6, confirmedAscending: 420 });
    // the confirmation's answer was lost: the repeat is answered, nothing freed twice
    expect((await d.call(Command.CONFIRM, kms.confirm(1, x.digest))).repeated).to.equal(true);
    const rebooted = new CoreDevice(board);
    await checkInvariants(rebooted, 100_000, { pieces: 6, amount: 420 });
    // the next block starts where the first ended
    await rebooted.call(Command.CLOCK, { now: Date.UTC(2026, 10, 25, 9) });
    const second = await extractBlock((t, b) => rebooted.call(t, b));
    const h = second.block.header;
    expect([h.seq, h.previousPieces, h.previousAscending, h.pieces, h.from]).to.deep.equal([2, 6, 420, 7, x.block.header.to]);
  });

  it('refuses franking while a block awaits confirmation when the policy says so', async () => {
    // (4 pages of 1 KB no longer hold the reserve of two checkpoints of the larger state)
    const board = memoryBoard({ pageBytes: 1024, pageCount: 6 });
    const d = new CoreDevice(board);
    const kms = new TestKms();
    await readyDevice(d, kms, 100_000);
    await d.call(Command.CONFIG, { lockUntilConfirmed: true });
    await d.call(Command.FRANK, { id: 1, customer: 1, category: 2, weight: 20, postage: 70 });
    const x = await extractBlock((t, b) => d.call(t, b));
    await expectCode(d.call(Command.FRANK, { id: 2, customer: 1, category: 2, weight: 20, postage: 70 }), ErrorCode.PENDING_CONFIRMATION);
    await d.call(Command.CONFIRM, kms.confirm(1, x.digest));
    await d.call(Command.FRANK, { id: 3, customer: 1, category: 2, weight: 20, postage: 70 });
    await checkInvariants(d, 100_000, { pieces: 1, amount: 70 });
  });

});

describe('PSD core: folding records when the table fills', () => {
  const dynamicDay = async (d: CoreDevice, first: number, n: number) => {
    // one customer, few categories, many weights and postages: many records per (customer, category)
    for (let i = 0; i < n; i++) await d.call(Command.FRANK, { id: first + i, customer: 9, category: i % 3, weight: 10 + ((i * 37) % 2000), postage: 50 + (i % 40) });
  };

  it('folds a customer-category into a summary record instead of refusing, with every total exact', async () => {
    const board = memoryBoard({ pageBytes: 2048, pageCount: 4 });
    const d = new CoreDevice(board, 24);
    const kms = new TestKms();
    await readyDevice(d, kms, 10_000_000);
    await dynamicDay(d, 1, 200);
    await d.call(Command.STATS_FLUSH);
    const s = await checkInvariants(d, 10_000_000);
    expect(s.status.registers.pieces).to.equal(200);
    expect(s.status.storage.summaryRecords).to.be.greaterThan(0);
    const summaries = s.records.filter((r) => r.weightBand === MIXED_BAND);
    for (const r of summaries) expect(r.postage).to.equal(0);
    // the same after a reboot (the folds are replayed) and through a sealed block
    const again = new CoreDevice(board, 24);
    const after = await checkInvariants(again, 10_000_000);
    expect(after.records).to.deep.equal(s.records);
    await again.call(Command.CLOCK, { now: Date.UTC(2026, 10, 25, 9) });
    const x = await extractBlock((t, b) => again.call(t, b));
    expect(x.block.records.reduce((a, r) => a + r.amount, 0)).to.equal(x.block.header.ascending);
  });

  it('never folds zero-value pieces: they stay in records of postage 0, and every summary holds a minor unit per piece', async () => {
    const board = memoryBoard({ pageBytes: 2048, pageCount: 4 });
    const d = new CoreDevice(board, 24);
    await readyDevice(d, new TestKms(), 10_000_000);
    // zero-value pieces of the same customer and categories, among the paid ones that fold
    for (let i = 0; i < 3; i++) await d.call(Command.FRANK, { id: 9000 + i, customer: 9, category: i, weight: 10 + 300 * i, kind: 'zero' });
    await dynamicDay(d, 1, 200);
    for (let i = 0; i < 3; i++) await d.call(Command.FRANK, { id: 9100 + i, customer: 9, category: i, weight: 10 + 300 * i, kind: 'zero' });
    await d.call(Command.STATS_FLUSH);
    const s = await checkInvariants(d, 10_000_000);
    expect(s.status.storage.summaryRecords).to.be.greaterThan(0);
    const zero = s.records.filter((r) => r.postage === 0 && r.weightBand !== MIXED_BAND);
    expect(zero.map((r) => [r.category, r.pieces, r.amount]).sort()).to.deep.equal([[0, 2, 0], [1, 2, 0], [2, 2, 0]]);
    for (const r of s.records.filter((r) => r.weightBand === MIXED_BAND)) expect(r.amount, 'summary: a minor unit per piece at least').to.be.at.least(r.pieces);
    expect(s.status.imprints.zeroValue).to.equal(6);
  });

  it('refuses with CATEGORY_LIMIT instead when folding is switched off', async () => {
    const d = new CoreDevice(memoryBoard({ pageBytes: 2048, pageCount: 4 }), 24);
    await readyDevice(d, new TestKms(), 10_000_000);
    await d.call(Command.CONFIG, { foldWhenFull: false });
    await expectCode(dynamicDay(d, 1, 200), ErrorCode.CATEGORY_LIMIT);
    await checkInvariants(d, 10_000_000);
  });
});

describe('PSD core: the checkpoint state bound', () => {
  it('the JSON state with every field at its largest fits STATE_BYTES (the flash reserve relies on it)', async () => {
    const { STATE_BYTES } = await import('../firmware/core/ledger.ts');
    const { snapshot } = await import('../firmware/ondemand/store.ts');
    const d = new CoreDevice(memoryBoard({ pageBytes: 4096, pageCount: 8 }));
    const kms = new TestKms(4294967295);
    await readyDevice(d, kms, 281474976710655);
    await d.call(Command.CONFIG, { flushPeriodS: 2592000, flushEveryPieces: 65535, lowStoragePct: 90, lockUntilConfirmed: true });
    await d.call(Command.BATCH_START, { customer: 4294967295, mode: 'batch', category: 119, weight: 31500, postage: 4294967295 });
    await d.call(Command.FRANK, { id: 4294967295, count: 1 });
    const l: any = d.psd.ledger;
    const u32 = 4294967295;
    const u48 = 281474976710655;
    Object.assign(l, { ascending: u48, descending: u48, pieces: u32, fundsTotal: u48, fundsCounter: u32, txnCounter: u32, keyVersion: u32, tampered: true });
    Object.assign(l, { blockSeq: u32, blockFrom: u32, confirmedSeq: u32, confirmedDigest: '\xff'.repeat(32), releasedPieces: u32, releasedAmount: u48, lastFlushAt: u32, lastTime: u32 });
    Object.assign(l, { zeroPieces: u32, testPieces: u32 });
    Object.assign(l, { elapsedAt: u32, contactElapsed: u32, contactClock: u32, trustedTime: u32, trustedElapsed: u32 });
    Object.assign(l.config, { contactWarnS: 31536000, contactLockS: 31536000, clockBackS: 2592000, clockForwardS: 2592000 });
    Object.assign(l.batch, { txn: u32, pieces: u32, startedAt: u32 });
    Object.assign(l.last, { descending: u48, ascending: u48, firstPiece: u32, time: u32 });
    const state = JSON.stringify(snapshot(l));
    expect(state.length, state).to.be.at.most(STATE_BYTES);
    expect(state.length, 'the bound is not far off either').to.be.greaterThan(STATE_BYTES - 100);
  });
});

describe('PSD core: the STATUS answer bound', () => {
  it('STATUS with every field at its largest fits one frame (1,012 payload bytes)', async () => {
    const { MAX_PAYLOAD_BYTES } = await import('../protocol/frame.ts');
    const board = memoryBoard({ pageBytes: 4096, pageCount: 8 });
    // a board that reports its memory, in five digits
    board.memory = () => ({ used: 99999, total: 99999 });
    const d = new CoreDevice(board);
    const kms = new TestKms(4294967295);
    await readyDevice(d, kms, 281474976710655);
    await d.call(Command.CONFIG, { flushPeriodS: 2592000, flushEveryPieces: 65535, lowStoragePct: 90, lockUntilConfirmed: true });
    await d.call(Command.BATCH_START, { customer: 4294967295, mode: 'dynamic' });
    const l: any = d.psd.ledger;
    const u32 = 4294967295;
    const u48 = 281474976710655;
    Object.assign(l, { zeroPieces: u32, testPieces: u32 });
    Object.assign(l, { ascending: u48, descending: u48, pieces: u32, fundsCounter: u32, blockSeq: u32, confirmedSeq: u32, releasedPieces: u32, releasedAmount: u48 });
    Object.assign(l, { elapsedAt: u32, contactElapsed: 0, contactClock: 1, trustedTime: u32 });
    Object.assign(l.batch, { txn: u32, pieces: u32, startedAt: u32, customer: u32 });
    l.sealed = { seq: u32, head: '', digest: '', seal: '' };
    l.lock = { code: 29, detail: 'x'.repeat(500) };
    d.psd.memoryPeak = 99999;
    const front: any = d.psd.front.counters;
    for (const k of Object.keys(front)) front[k] = u32;
    const a = await d.request(Command.STATUS);
    expect(a.ok, a.raw).to.equal(true);
    expect(a.raw.length, a.raw).to.be.at.most(MAX_PAYLOAD_BYTES);
    // what matters to an operator is all there; the diagnostics give way, and say so
    expect(a.body.registers.ascending).to.equal(u48);
    expect(a.body).to.include.keys('storage', 'batch', 'block', 'lock', 'contact');
    expect(a.body.omitted).to.include('link');
    // in an ordinary state nothing is left out
    const fresh = new CoreDevice(memoryBoard({ pageBytes: 4096, pageCount: 8 }));
    await readyDevice(fresh, new TestKms());
    const f = await fresh.call(Command.STATUS);
    expect(f.omitted).to.equal(undefined);
    expect(f).to.include.keys('link', 'config');
  });
});

