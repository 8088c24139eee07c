// The PSD side of the secure session, on the TS core and on built images in the virtual
// board: the PSS (played here with protocol/session.ts and Node's crypto) reads the sealed
// block, confirms it and loads funds inside one session; the host only relays, and anything
// it forges, replays, reflects or reorders is refused and changes nothing.
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { decodeBlock, blockDigest, confirmMessage } from '../protocol/block.ts';
import { CoreDevice, ImageDevice, TestKms, readyDevice, type Device } from '../testkit/harness.ts';
import { expectCode } from '../testkit/harness.ts';
import { memoryBoard } from '../testkit/memory-board.ts';
import { checkInvariants } from '../testkit/invariants.ts';
import { PssEnd } from '../testkit/pss-end.ts';
import { extractBlock, sha256Bytes } from '../host-bridge/extract.ts';

const targets: [string, () => Device][] = [
  ['TS core', () => new CoreDevice(memoryBoard({ pageBytes: 4096, pageCount: 4 }))],
  ['pico image', () => new ImageDevice({ board: 'pico' })],
  ['esp32 image', () => new ImageDevice({ board: 'esp32' })]
];

for (const [name, make] of targets) {
  describe(`secure session, PSD side (${name})`, () => {
    it('reads, confirms and loads funds inside one session; the host sees only ciphertext', async () => {
      const d = make();
      const kms = new TestKms();
      await readyDevice(d, kms, 50_000);
      await d.call(Command.BATCH_START, { customer: 7, mode: 'batch', category: 4, weight: 20, postage: 85 });
      await d.call(Command.FRANK, { id: 1, count: 40 });
      await d.call(Command.BATCH_END);
      for (let i = 0; i < 9; i++) await d.call(Command.FRANK, { id: 10 + i, customer: 100 + i, category: i, weight: 30, postage: 90 });
      const pss = new PssEnd(kms);
      await pss.open(d);
      // the PSS reads the block through the session, in pages small enough for it
      const x = await extractBlock((t, b) => pss.call(d, t, b), undefined, 4);
      const block = decodeBlock(x.bytes);
      expect(block.header.pieces).to.equal(49);
      expect(block.header.customers).to.deep.equal([7, 100, 101, 102, 103, 104, 105, 106, 107, 108]);
      expect(blockDigest(sha256Bytes, block.head, block.recordBytes)).to.equal(x.digest);
      const seal = nodeCrypto.createHmac('sha256', kms.deviceKey).update(Buffer.from('PSD-SEAL' + x.digest, 'latin1')).digest().toString('latin1');
      // HMAC boards: the seal is the HMAC under the device key (Ed25519 boards: test/psd-keys.test.ts)
      if (block.header.algorithm === 1) expect(block.seal).to.equal(seal);
      else expect(block.seal.length).to.equal(64);
      const c = await pss.call(d, Command.CONFIRM, kms.confirm(1, x.digest));
      expect(c.repeated).to.equal(false);
      const f = await pss.call(d, Command.FUNDS, kms.funds(2, 10_000));
      expect(f.fundsCounter).to.equal(2);
      const s = await checkInvariants(d, 60_000, { pieces: 49, amount: 40 * 85 + 9 * 90 });
      expect(s.status.block.lastConfirmed).to.equal(1);
      (d as { close?: () => void }).close?.();
    });

    it('refuses forged, replayed, reflected and out-of-session messages, and commands a session may not carry', async () => {
      const d = make();
      const kms = new TestKms();
      await readyDevice(d, kms, 50_000);
      await expectCode(d.call(Command.SESSION, { m: '00'.repeat(40) }), ErrorCode.NO_SESSION);
      const pss = new PssEnd(kms);
      await pss.open(d);
      const m = pss.seal(Command.STATS_EXTRACT, {});
      const first = await d.call(Command.SESSION, { m });
      pss.openAnswer(first.m);
      // the host replays the same message: refused
      await expectCode(d.call(Command.SESSION, { m }), ErrorCode.AUTH);
      // reflects the device's own answer back to it: refused
      await expectCode(d.call(Command.SESSION, { m: first.m }), ErrorCode.AUTH);
      // flips one bit: refused
      const bad = pss.seal(Command.STATUS, {});
      const flipped = bad.slice(0, 40) + (bad[40] === '0' ? '1' : '0') + bad.slice(41);
      await expectCode(d.call(Command.SESSION, { m: flipped }), ErrorCode.AUTH);
      // a session made with another key: refused
      const stranger = new PssEnd(new TestKms(kms.device));
      await stranger.open(d);
      await expectCode(d.call(Command.SESSION, { m: stranger.seal(Command.STATUS, {}) }), ErrorCode.AUTH);
      // provisioning and reboots never ride in a session
      const honest = new PssEnd(kms);
      await honest.open(d);
      await expectCode(honest.call(d, Command.PROVISION, kms.provisionBody()), ErrorCode.UNKNOWN_COMMAND);
      await expectCode(honest.call(d, Command.REBOOT, {}), ErrorCode.UNKNOWN_COMMAND);
      // a forged confirmation inside an authentic session is still refused
      await expectCode(honest.call(d, Command.STATUS, {}), ErrorCode.UNKNOWN_COMMAND);
      await d.call(Command.FRANK, { id: 5, customer: 1, category: 1, weight: 20, postage: 85 });
      const sealed = await honest.call(d, Command.STATS_EXTRACT, {});
      await expectCode(honest.call(d, Command.CONFIRM, { seq: sealed.seq, mac: '11'.repeat(32) }), ErrorCode.AUTH);
      expect((await d.call(Command.STATUS)).block.awaitingConfirmation).to.equal(sealed.seq);
      await checkInvariants(d, 50_000);
      (d as { close?: () => void }).close?.();
    });
  });
}

// (the Original: the MDBT42Q on Espruino's standard firmware, the other board without AES,
// cannot hold the image in its Storage, and its lab firmware has AES)
describe('secure session on a board without AES (original image)', () => {
  it('says so clearly: such boards upload plain sealed blocks', async () => {
    const d = new ImageDevice({ board: 'original' });
    const kms = new TestKms();
    await readyDevice(d, kms, 1000);
    await expectCode(d.call(Command.SESSION_OPEN, { nonce: '00'.repeat(16) }), ErrorCode.NO_SESSION);
    d.close();
  });
});
