// Capacity, corruption and the delete-after-confirmation path of the PSD core.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { CoreDevice, DeviceError, TestKms, readyDevice } from './helpers/harness.ts';
import { memoryBoard } from './helpers/memory-board.ts';
import { checkInvariants } from './helpers/invariants.ts';

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
    const board = memoryBoard({ pageBytes: 1024, pageCount: 4 });
    const d = new CoreDevice(board);
    const kms = new TestKms();
    await readyDevice(d, kms, 100_000);
    for (let i = 0; i < 5; i++) await d.call(Command.FRANK, { id: 50 + i, customer: 1, category: 2, weight: 20, postage: 70 });
    // flip one bit inside an early record (not the torn tail of a cut write)
    board.flashBytes[12 + 8 + 8 + 2] ^= 0x04;
    const rebooted = new CoreDevice(board);
    const s = await rebooted.call(Command.STATUS);
    expect(s.lock).to.include({ code: ErrorCode.STORAGE_CORRUPT });
    expect(s.lock.message).to.match(/corrupt/);
    try {
      await rebooted.call(Command.FRANK, { id: 99, customer: 1, category: 2, weight: 20, postage: 70 });
      expect.fail('franked while locked');
    } catch (e) {
      expect((e as DeviceError).code).to.equal(ErrorCode.STORAGE_CORRUPT);
    }
  });

  it('frees flash-tier records only through the release path, and keeps the books balanced', async () => {
    const board = memoryBoard({ pageBytes: 1024, pageCount: 4 });
    const d = new CoreDevice(board);
    const kms = new TestKms();
    await readyDevice(d, kms, 100_000);
    for (let i = 0; i < 6; i++) await d.call(Command.FRANK, { id: 70 + i, customer: 1 + (i % 2), category: 2, weight: 20, postage: 70 });
    await d.call(Command.STATS_FLUSH);
    await d.call(Command.FRANK, { id: 80, customer: 1, category: 2, weight: 20, postage: 70 });
    // what the data-center confirmation will call once it has authenticated the confirmation
    d.psd.ledger.releaseConfirmed();
    const s = await checkInvariants(d, 100_000, { pieces: 6, amount: 420 });
    expect(s.status.storage.records).to.equal(0);
    expect(s.status.storage.ramRecords).to.equal(1);
    const again = new CoreDevice(board);
    await checkInvariants(again, 100_000, { pieces: 6, amount: 420 });
  });
});
