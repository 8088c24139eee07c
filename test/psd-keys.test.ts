// Keys on the PSD: Ed25519 boards make their own signing key at provisioning and sign
// blocks with it (the public key goes to the KMS, the secret nowhere); keys never appear in
// status; the tamper input erases the keys and locks franking for good.
import { expect } from 'chai';
import fs from 'node:fs';
import nacl from 'tweetnacl';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { fromHex } from '../protocol/bytes.ts';
import { sealMessage, SEAL_ED25519, SEAL_HMAC } from '../protocol/block.ts';
import { ImageDevice, TestKms, readyDevice, DeviceError } from '../testkit/harness.ts';
import { extractBlock } from '../host-bridge/extract.ts';

const u8 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('PSD keys on the built images', () => {
  it('esp32: provisioning returns a public key, blocks carry an Ed25519 signature that verifies under it', async () => {
    const d = new ImageDevice({ board: 'esp32' });
    const kms = new TestKms();
    const p = await d.call(Command.PROVISION, kms.provisionBody());
    expect(p.seal).to.equal('ed25519');
    expect(p.publicKey).to.match(/^[0-9a-f]{64}$/);
    await d.call(Command.CLOCK, { now: Date.UTC(2026, 10, 24, 9) });
    await d.call(Command.FUNDS, kms.funds(1, 10_000));
    await d.call(Command.FRANK, { id: 1, customer: 3, category: 2, weight: 20, postage: 85 });
    const x = await extractBlock((t, b) => d.call(t, b));
    expect(x.block.header.algorithm).to.equal(SEAL_ED25519);
    expect(x.block.seal.length).to.equal(64);
    const pub = u8(fromHex(p.publicKey));
    expect(nacl.sign.detached.verify(u8(sealMessage(x.digest)), u8(x.block.seal), pub)).to.equal(true);
    // one byte of the digest changed: the signature no longer verifies
    const other = sealMessage(x.digest.slice(0, -1) + String.fromCharCode(x.digest.charCodeAt(31) ^ 1));
    expect(nacl.sign.detached.verify(u8(other), u8(x.block.seal), pub)).to.equal(false);
    // the status never shows a key
    const status = JSON.stringify(await d.call(Command.STATUS));
    for (const key of [kms.deviceKey.toString('hex'), kms.kmsKey.toString('hex')]) expect(status).to.not.contain(key);
    d.close();
  });

  it('pico: blocks are sealed with HMAC-SHA256 under the device key', async () => {
    const d = new ImageDevice({ board: 'pico' });
    const kms = new TestKms();
    const p = await d.call(Command.PROVISION, kms.provisionBody());
    expect([p.seal, p.publicKey]).to.deep.equal(['hmac', null]);
    d.close();
  });

  it('the tamper input erases the keys and locks franking, also after a power cycle', async () => {
    const d = new ImageDevice({ board: 'pico' });
    const kms = new TestKms();
    await readyDevice(d, kms, 10_000);
    await d.call(Command.FRANK, { id: 1, customer: 3, category: 2, weight: 20, postage: 85 });
    const board = (await import('../board-defs/index.ts')).getBoard('pico');
    d.vb.setPin(board.tamper!.pin, board.tamper!.activeLevel);
    const s = await d.call(Command.STATUS);
    expect(s.lock.code).to.equal(ErrorCode.TAMPER);
    expect(s.registers.pieces).to.equal(1);
    try {
      await d.call(Command.FRANK, { id: 2, customer: 3, category: 2, weight: 20, postage: 85 });
      expect.fail('franked after tamper');
    } catch (e) {
      expect((e as DeviceError).code).to.equal(ErrorCode.TAMPER);
    }
    // switch released and power cycled: still locked, keys gone from the live state
    d.vb.setPin(board.tamper!.pin, board.tamper!.activeLevel ? 0 : 1);
    d.powerCycle();
    expect((await d.call(Command.STATUS)).lock.code).to.equal(ErrorCode.TAMPER);
    // no copy of a key is left in flash: raw, JSON-escaped or hex
    const flash = fs.readFileSync(d.flashFile);
    for (const key of [kms.deviceKey, kms.kmsKey]) {
      const raw = key.toString('latin1');
      for (const form of [raw, JSON.stringify(raw).slice(1, -1), key.toString('hex')]) expect(flash.indexOf(Buffer.from(form, 'latin1')), 'key in flash').to.equal(-1);
    }
    expect((await d.call(Command.STATUS)).registers.pieces).to.equal(1);
    d.close();
  });
});

describe('power-on self-tests (TS core on a board with broken crypto)', () => {
  it('locks with code 31 when the board SHA-256 fails its known answer, and franks nothing', async () => {
    const { CoreDevice } = await import('../testkit/harness.ts');
    const { memoryBoard } = await import('../testkit/memory-board.ts');
    const board = memoryBoard();
    const good = board.sha256;
    board.sha256 = (s: string) => {
      const d = good(s);
      return String.fromCharCode(d.charCodeAt(0) ^ 1) + d.slice(1);
    };
    const d = new CoreDevice(board);
    const s = await d.call(Command.STATUS);
    expect(s.lock.code).to.equal(ErrorCode.SELF_TEST);
    expect(s.lock.detail).to.match(/hmac/i);
    try {
      await d.call(Command.PROVISION, new TestKms().provisionBody());
      expect.fail('provisioned a device whose crypto fails');
    } catch (e) {
      expect((e as DeviceError).code).to.equal(ErrorCode.SELF_TEST);
    }
  });
});
