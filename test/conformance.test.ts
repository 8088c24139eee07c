// The PSD conformance suite: what a device must do, checked through its data port only, so the
// same suite runs on the virtual board (in `npm test`) and on a real board or Espruino's Linux
// build (`npm run test:hil -- --port <path> --board <id>`, see tools/hil.ts and the README).
//
// A real device is used as it comes from `psd flash`: unprovisioned (the suite provisions it
// with fresh lab keys and prints them), or already provisioned with lab keys given in
// PSD_DEVICE_KEY and PSD_KMS_KEY (hex). The suite moves funds and seals and confirms blocks,
// so never point it at a device in service.
import { parseIndicium, INDICIUM_BYTES, INDICIUM_BODY_BYTES } from '../protocol/indicium.ts';
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { PsdError } from '../host-bridge/errors.ts';
import { extractBlock, sha256Bytes } from '../host-bridge/extract.ts';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { fundsMessage } from '../protocol/auth.ts';
import { confirmMessage, blockDigest, sealMessage, SEAL_HMAC } from '../protocol/block.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { MIXED_BAND } from '../protocol/records.ts';
import { decodeRecord } from '../protocol/record-codec.ts';
import { encodeFrame } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { startTarget, targetKinds, targetTitle, sayRealSkipped, type Target } from '../testkit/target.ts';

const hmacHex = (key: Buffer, msg: string) => nodeCrypto.createHmac('sha256', key).update(Buffer.from(msg, 'latin1')).digest('hex');

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    return (e as PsdError).code;
  }
  return 0;
}

sayRealSkipped();
for (const kind of targetKinds()) describe(`conformance: a PSD through its data port (${targetTitle(kind)})`, function () {
  this.timeout(120000);
  let t: Target;
  let c: PsdClient;
  let deviceKey: Buffer;
  let kmsKey: Buffer;
  let device = 0;
  let released = { pieces: 0, amount: 0 };
  const id = () => nodeCrypto.randomInt(1, 2 ** 31);

  async function connect() {
    c = new PsdClient(await openLink(t.port), { timeoutMs: t.real ? 10000 : 3000, retries: 2 });
  }

  async function invariants() {
    const s = await c.request(Command.STATUS);
    const r = s.registers;
    expect(s.lock, JSON.stringify(s.lock)).to.equal(null);
    expect(r.controlTotal).to.equal(r.ascending + r.descending);
    let pieces = s.block.confirmedPieces;
    let amount = s.block.confirmedAscending;
    for (const tier of ['flash', 'ram'] as const) {
      for (let from = 0; ; ) {
        const page = await c.request(Command.STATS_LIST, { tier, from });
        for (const h of page.records) {
          const rec = decodeRecord(fromHex(h), 0);
          if (rec.weightBand !== MIXED_BAND) expect(rec.amount).to.equal(rec.pieces * rec.postage);
          pieces += rec.pieces;
          amount += rec.amount;
        }
        from += page.records.length;
        if (from >= page.total || !page.records.length) break;
      }
    }
    expect(pieces, 'records + confirmed = piece counter').to.equal(r.pieces);
    expect(amount, 'records + confirmed = ascending register').to.equal(r.ascending);
    return s;
  }

  before(async function () {
    t = await startTarget({ kind });
    await connect();
    const s = await c.request(Command.STATUS);
    if (s.device) {
      if (!process.env.PSD_DEVICE_KEY || !process.env.PSD_KMS_KEY) throw new Error(`device PSD-${s.device} is provisioned: give its lab keys in PSD_DEVICE_KEY and PSD_KMS_KEY, or flash it afresh`);
      deviceKey = Buffer.from(process.env.PSD_DEVICE_KEY, 'hex');
      kmsKey = Buffer.from(process.env.PSD_KMS_KEY, 'hex');
      device = s.device;
    } else {
      deviceKey = nodeCrypto.randomBytes(32);
      kmsKey = nodeCrypto.randomBytes(32);
      device = nodeCrypto.randomInt(900000, 999999);
      await c.request(Command.PROVISION, { device, deviceKey: deviceKey.toString('hex'), kmsKey: kmsKey.toString('hex') });
      if (t.real) console.log(`    provisioned PSD-${device} with lab keys PSD_DEVICE_KEY=${deviceKey.toString('hex')} PSD_KMS_KEY=${kmsKey.toString('hex')}`);
    }
    await c.request(Command.CLOCK, { now: Date.now() });
    // a block left awaiting confirmation (an earlier extraction on this device) is confirmed
    // first with the lab keys, so the suite starts from a device that holds no sealed block
    if ((await c.request(Command.STATUS)).block.awaitingConfirmation) {
      const x = await extractBlock((type, body) => c.request(type, body));
      await c.request(Command.CONFIRM, { seq: x.block.header.seq, mac: hmacHex(deviceKey, confirmMessage(device, x.block.header.seq, x.digest)) });
      console.log(`    confirmed block #${x.block.header.seq}, which was awaiting confirmation on PSD-${device}`);
    }
  });
  after(async () => {
    await c?.close();
    await t?.close();
  });

  describe('protocol', () => {
    it('answers status with identity, firmware and registers', async () => {
      const s = await c.request(Command.STATUS);
      expect(s.device).to.equal(device);
      expect(s.firmwareVersion).to.be.a('string');
      expect(s.buildHash).to.match(/^[0-9a-f]{12}$/);
    });
    it('echoes, refuses unknown commands and bad arguments with codes', async () => {
      expect((await c.request(Command.ECHO, { data: 'conformance' })).data).to.equal('conformance');
      expect(await code(c.request(0x7e, {}))).to.equal(ErrorCode.UNKNOWN_COMMAND);
      // a body of the wrong shape, on purpose: sent as an untyped command
      expect(await code(c.request(Command.ECHO as number, { data: 5 }))).to.equal(ErrorCode.BAD_ARGUMENT);
    });
    it('drops a corrupted frame and still answers the next one', async () => {
      const link = (c as any).link;
      const frame = encodeFrame(Command.ECHO, 0x4242, '{"data":"x"}', crc32);
      link.write(Buffer.from(frame.slice(0, -1) + String.fromCharCode(frame.charCodeAt(frame.length - 1) ^ 1), 'latin1'));
      await new Promise((r) => setTimeout(r, 200));
      expect((await c.request(Command.ECHO, { data: 'after' })).data).to.equal('after');
    });
  });

  describe('franking', () => {
    it('loads funds only from an authentic, fresh funds reset', async () => {
      const s = await c.request(Command.STATUS);
      const counter = s.fundsCounter + 1;
      expect(await code(c.request(Command.FUNDS, { counter, amount: 100000, mac: '00'.repeat(32) }))).to.equal(ErrorCode.AUTH);
      const mac = hmacHex(kmsKey, fundsMessage(device, counter, 100000));
      await c.request(Command.FUNDS, { counter, amount: 100000, mac });
      expect(await code(c.request(Command.FUNDS, { counter, amount: 100000, mac }))).to.equal(ErrorCode.REPLAY);
      await invariants();
    });
    it('franks in single, batch and dynamic mode with authenticated indicia', async () => {
      const before = (await c.request(Command.STATUS)).registers;
      const single = await c.request(Command.FRANK, { id: id(), customer: 11, category: 1, weight: 20, postage: 85 });
      expect(single.indicia).to.have.length(1);
      const ind = fromHex(single.indicia[0]);
      // layout 2: 34 bytes of body (the rate-table version last: 0, the postage declared), an 8-byte MAC
      expect(ind.length).to.equal(INDICIUM_BYTES);
      expect(parseIndicium(ind)).to.include({ version: 2, rateVersion: 0, postage: 85, customer: 11 });
      expect(toHex(ind.slice(INDICIUM_BODY_BYTES))).to.equal(hmacHex(deviceKey, ind.slice(0, INDICIUM_BODY_BYTES)).slice(0, 16));
      await c.request(Command.BATCH_START, { customer: 12, mode: 'batch', category: 2, weight: 40, postage: 95 });
      const batchId = id();
      const batch = await c.request(Command.FRANK, { id: batchId, count: 50 });
      expect(batch.count).to.equal(50);
      // a repeated request is answered again and charges nothing
      const again = await c.request(Command.FRANK, { id: batchId, count: 50 });
      expect(again.repeated).to.equal(true);
      await c.request(Command.BATCH_END);
      await c.request(Command.BATCH_START, { customer: 13, mode: 'dynamic' });
      for (const [category, weight, postage] of [[3, 15, 85], [4, 300, 250]]) await c.request(Command.FRANK, { id: id(), category, weight, postage });
      await c.request(Command.BATCH_END);
      const after = (await invariants()).registers;
      expect(after.pieces - before.pieces).to.equal(53);
      expect(after.ascending - before.ascending).to.equal(85 + 50 * 95 + 85 + 250);
    });
    it('refuses what the funds cannot cover, and changes nothing', async () => {
      const before = (await c.request(Command.STATUS)).registers;
      expect(await code(c.request(Command.FRANK, { id: id(), customer: 11, category: 1, weight: 20, postage: before.descending + 1 }))).to.equal(ErrorCode.NO_FUNDS);
      expect((await c.request(Command.STATUS)).registers).to.deep.equal(before);
    });
  });

  describe('statistics, extraction and confirmation', () => {
    it('flushes RAM records to flash', async () => {
      await c.request(Command.STATS_FLUSH);
      expect((await c.request(Command.STATUS)).storage.ramRecords).to.equal(0);
    });
    it('seals a block whose records sum to the register movement, and repeats it until confirmed', async () => {
      const x = await extractBlock((type, body) => c.request(type, body));
      const h = x.block.header;
      expect(h.device).to.equal(device);
      expect(x.block.records.reduce((a, r) => a + r.pieces, 0)).to.equal(h.pieces - h.previousPieces);
      expect(x.block.records.reduce((a, r) => a + r.amount, 0)).to.equal(h.ascending - h.previousAscending);
      expect(blockDigest(sha256Bytes, x.block.head, x.block.recordBytes)).to.equal(x.digest);
      if (h.algorithm === SEAL_HMAC) expect(toHex(x.block.seal)).to.equal(hmacHex(deviceKey, sealMessage(x.digest)));
      const again = await extractBlock((type, body) => c.request(type, body));
      expect(again.bytes).to.equal(x.bytes);
      // a forged confirmation changes nothing; the authentic one frees the records
      expect(await code(c.request(Command.CONFIRM, { seq: h.seq, mac: '00'.repeat(32) }))).to.equal(ErrorCode.AUTH);
      const mac = hmacHex(deviceKey, confirmMessage(device, h.seq, x.digest));
      expect((await c.request(Command.CONFIRM, { seq: h.seq, mac })).repeated).to.equal(false);
      expect((await c.request(Command.CONFIRM, { seq: h.seq, mac })).repeated).to.equal(true);
      const s = await invariants();
      expect(s.block.lastConfirmed).to.equal(h.seq);
      expect(s.storage.records).to.equal(0);
      released = { pieces: s.block.confirmedPieces, amount: s.block.confirmedAscending };
      expect(released.pieces).to.equal(h.pieces);
    });
  });

  describe('recovery', () => {
    it('comes back after a reset the suite triggers, with the same registers and records', async () => {
      await c.request(Command.FRANK, { id: id(), customer: 14, category: 5, weight: 20, postage: 85 });
      const before = await invariants();
      await c.request(Command.REBOOT);
      await c.close();
      if (t.vb || t.rb) {
        // the virtual board reboots on its own clock; the runner restarts the interpreter
        await new Promise((r) => setTimeout(r, 300));
      } else await new Promise((r) => setTimeout(r, 5000));
      await connect();
      let s: any = null;
      for (let i = 0; i < 20 && !s; i++) {
        s = await c.request(Command.STATUS).catch(() => null);
        if (!s) await new Promise((r) => setTimeout(r, 500));
      }
      expect(s, 'the device answers after the reset').to.not.equal(null);
      expect(s.resetCause).to.contain('reboot command');
      expect(s.registers).to.deep.equal(before.registers);
      await c.request(Command.CLOCK, { now: Date.now() });
      await invariants();
    });
  });
});
