// The postal operator's rules on the PSD (issue 12): the contact watchdog (warning, then
// lock-out, released by the next authenticated contact; power cycles and host clock changes
// cannot extend it), and the clock window around the data center's trusted time (no
// backdating, forward dating within a limit, a wrong clock recovered by a contact). On the TS
// core and on the built image in the virtual board (test/real-postal-rules.test.ts: the binary).
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { CoreDevice, ImageDevice, TestKms, readyDevice, expectCode, type Device } from '../testkit/harness.ts';
import { memoryBoard } from '../testkit/memory-board.ts';
import { PssEnd } from '../testkit/pss-end.ts';
import { checkInvariants, listRecords } from '../testkit/invariants.ts';
import { parseIndicium } from '../protocol/indicium.ts';
import { fromHex } from '../protocol/bytes.ts';
import { decodeAudit, AuditEvent } from '../protocol/audit.ts';
import { extractBlock } from '../host-bridge/extract.ts';
import fs from 'node:fs';
import { encodeRates, ANY_BAND, type RateTable } from '../protocol/rates.ts';
import { weightBand } from '../protocol/records.ts';
import { StoreOp } from '../firmware/core/modules.ts';

const HOUR = 3600;
const DAY = 86400;
const T0 = Date.UTC(2026, 10, 24, 9);

/** A device under test that can be power-cycled and whose time can be moved on. */
interface Rig {
  d: Device;
  advance(seconds: number): void;
  powerCycle(): void;
  close(): void;
}

function coreRig(): Rig {
  const board = memoryBoard({ pageBytes: 4096, pageCount: 8 });
  const rig: Rig = {
    d: new CoreDevice(board),
    advance: (s) => {
      board.clock.ms += s * 1000;
      // the memory board's timers run on the host's clock, not this one: the minute tick
      // that writes the running time down (firmware/core/psd.ts) runs here instead
      (rig.d as CoreDevice).psd.ledger.keepTime();
    },
    powerCycle: () => {
      rig.d = new CoreDevice(board);
    },
    close: () => {}
  };
  return rig;
}

function imageRig(board: string): Rig {
  const d = new ImageDevice({ board });
  return {
    d,
    advance: (s) => d.vb.advanceTime(s),
    powerCycle: () => d.powerCycle(),
    close: () => d.close()
  };
}

/** One secure session, as the PSS opens it: the data center's time, then what the test asks. */
async function session(d: Device, kms: TestKms, nowMs: number, inner: [number, object][] = []): Promise<any[]> {
  const pss = new PssEnd(kms);
  await pss.open(d);
  const out = [await pss.call(d, Command.CLOCK, { now: nowMs })];
  for (const [type, body] of inner) out.push(await pss.call(d, type, body));
  return out;
}

let nextId = 1;
const frank = (d: Device) => d.call(Command.FRANK, { id: nextId++, customer: 7, category: 1, weight: 20, postage: 85 });

const rigs: [string, () => Rig][] = [
  ['TS core', coreRig],
  ['pico image', () => imageRig('pico')]
];

for (const [name, make] of rigs) {
  describe(`postal rules: contact watchdog and trusted time (${name})`, function () {
    this.timeout(60000);
    let rig: Rig;
    let kms: TestKms;
    beforeEach(async () => {
      rig = make();
      kms = new TestKms();
      await readyDevice(rig.d, kms, 1_000_000, T0);
    });
    afterEach(() => rig.close());

    it('defaults to the IBI era: 90 days warning, 120 days lock-out; a week forward, a day back', async () => {
      const s = await rig.d.call(Command.STATUS);
      expect(s.contact).to.include({ state: 'ok' });
      expect(s.contact.trustedTime, 'no trusted time before a session').to.equal(undefined);
      // CONFIG without settings reads them, and writes nothing
      const used = s.storage.used;
      const c = await rig.d.call(Command.CONFIG, {});
      expect(c.config).to.include({ contactWarnS: 90 * DAY, contactLockS: 120 * DAY, clockBackS: DAY, clockForwardS: 7 * DAY });
      expect((await rig.d.call(Command.STATUS)).storage.used).to.equal(used);
    });

    it('warns, then locks franking at the threshold, across power cycles and host clock changes, until a contact', async () => {
      // the data center sets IMI's 72 hours (48 h warning) inside a session
      const [, cfg] = await session(rig.d, kms, T0, [[Command.CONFIG, { contactWarnS: 48 * HOUR, contactLockS: 72 * HOUR }]]);
      expect(cfg.config).to.include({ contactWarnS: 48 * HOUR, contactLockS: 72 * HOUR });
      // ... and the host cannot change them
      await expectCode(rig.d.call(Command.CONFIG, { contactLockS: 365 * DAY }), ErrorCode.AUTH);
      expect((await frank(rig.d)).contactLockInS).to.equal(undefined);

      rig.advance(50 * HOUR);
      const warned = await frank(rig.d);
      expect(warned.contactLockInS).to.be.within(21 * HOUR, 22 * HOUR + 1);
      expect((await rig.d.call(Command.STATUS)).contact.state).to.equal('warning');

      rig.advance(23 * HOUR);
      await expectCode(frank(rig.d), ErrorCode.CONTACT_OVERDUE);
      await expectCode(rig.d.call(Command.BATCH_START, { customer: 7, mode: 'dynamic' }), ErrorCode.CONTACT_OVERDUE);
      expect((await rig.d.call(Command.STATUS)).contact.state).to.equal('locked');

      // a power cycle does not give the time back, nor does the host's clock set back (as far
      // as the window and the last frank, 50 h, allow)
      rig.powerCycle();
      const own = T0 + 73 * HOUR * 1000;
      await rig.d.call(Command.CLOCK, { now: T0 + 50 * HOUR * 1000 });
      await expectCode(frank(rig.d), ErrorCode.CONTACT_OVERDUE);
      const s = await rig.d.call(Command.STATUS);
      expect(s.contact.state).to.equal('locked');
      expect(s.contact.ageS).to.be.at.least(73 * HOUR);

      // a contact releases it: a session (or a confirmation, or a funds reset)
      await session(rig.d, kms, own);
      expect((await rig.d.call(Command.STATUS)).contact).to.include({ state: 'ok' });
      const after = await frank(rig.d);
      expect(after.contactLockInS).to.equal(undefined);
      // the release is a coded event in the device's audit (protocol/audit.ts)
      const audit = await rig.d.call(Command.AUDIT, {});
      let raw = fromHex(audit.data);
      while (raw.length < audit.bytes) raw += fromHex((await rig.d.call(Command.AUDIT, { seq: audit.seq, from: raw.length })).data);
      const unlock = decodeAudit(raw).audit.events.filter((e) => e.code === AuditEvent.UNLOCK);
      expect(unlock.length).to.equal(1);
      expect(unlock[0].detail).to.be.at.least(73);
    });

    it('a funds reset is a contact too', async () => {
      await session(rig.d, kms, T0, [[Command.CONFIG, { contactWarnS: 2 * HOUR, contactLockS: 3 * HOUR }]]);
      rig.advance(4 * HOUR);
      await expectCode(frank(rig.d), ErrorCode.CONTACT_OVERDUE);
      await rig.d.call(Command.FUNDS, kms.funds(2, 1000));
      await frank(rig.d);
    });

    it('each power cycle moves the running time on by a period at least: cutting the power never stops the count', async () => {
      // (the clock is not set after a power cycle: the contact's age is the running time's)
      const before = (await rig.d.call(Command.STATUS)).contact.ageS;
      for (let i = 0; i < 3; i++) rig.powerCycle();
      const after = (await rig.d.call(Command.STATUS)).contact.ageS;
      expect(after - before).to.be.at.least(3 * HOUR);
    });

    it('holds the host clock to a window of the trusted time: no backdating, a week forward, a day back', async () => {
      await session(rig.d, kms, T0);
      await frank(rig.d);
      // before the last frank: refused (5 minutes of drift allowed)
      await expectCode(rig.d.call(Command.CLOCK, { now: T0 - 2 * HOUR * 1000 }), ErrorCode.CLOCK_REFUSED);
      await rig.d.call(Command.CLOCK, { now: T0 - 60_000 });
      // forward dating within the window, not beyond it
      await rig.d.call(Command.CLOCK, { now: T0 + 6 * DAY * 1000 });
      await expectCode(rig.d.call(Command.CLOCK, { now: T0 + 8 * DAY * 1000 }), ErrorCode.CLOCK_REFUSED);
      // the typo of the issue (2030) is refused outright once the device has a trusted time
      await expectCode(rig.d.call(Command.CLOCK, { now: Date.UTC(2030, 0, 1) }), ErrorCode.CLOCK_REFUSED);
      await frank(rig.d);
    });

    it('provisioned through the KMS, the device has a trusted time from the start: the clock window holds before any session', async () => {
      // a second device, provisioned as psd provision --kms does it: the KMS's time with the keys
      rig.close();
      rig = make();
      const k = new TestKms(4712);
      await expectCode(rig.d.call(Command.PROVISION, { ...k.provisionBody(), now: 'soon' }), ErrorCode.BAD_ARGUMENT);
      expect((await rig.d.call(Command.STATUS)).device, 'a bad time provisions nothing').to.equal(0);
      await rig.d.call(Command.PROVISION, { ...k.provisionBody(), now: T0 });
      const s = await rig.d.call(Command.STATUS);
      expect(s.contact).to.include({ state: 'ok', trustedTime: T0 / 1000 });
      expect(s.clock).to.be.within(T0 / 1000, T0 / 1000 + 2);
      // the typo is refused before any session, and after a power cycle
      await expectCode(rig.d.call(Command.CLOCK, { now: Date.UTC(2030, 0, 1) }), ErrorCode.CLOCK_REFUSED);
      rig.powerCycle();
      await expectCode(rig.d.call(Command.CLOCK, { now: Date.UTC(2030, 0, 1) }), ErrorCode.CLOCK_REFUSED);
      await expectCode(rig.d.call(Command.CLOCK, { now: T0 + 8 * DAY * 1000 }), ErrorCode.CLOCK_REFUSED);
      await rig.d.call(Command.CLOCK, { now: T0 + 6 * DAY * 1000 });
      await rig.d.call(Command.FUNDS, k.funds(1, 1000));
      await frank(rig.d);
    });

    it('a forward-dated block does not pin the next one: after the trusted time sets the clock back, the next block starts there, a power cycle between', async () => {
      await session(rig.d, kms, T0);
      await frank(rig.d);
      // forward dating: 6 days ahead, a block sealed then ends there
      const ahead = T0 / 1000 + 6 * DAY;
      await rig.d.call(Command.CLOCK, { now: ahead * 1000 });
      await frank(rig.d);
      const pss = new PssEnd(kms);
      await pss.open(rig.d);
      const x1 = await extractBlock((t, b) => rig.d.call(t, b));
      expect(x1.block.header.to).to.equal(ahead);
      await frank(rig.d);
      // the next contact: the data center's time sets the clock back; the block awaiting confirmation is confirmed as it is
      const back = T0 / 1000 + HOUR;
      await session(rig.d, kms, back * 1000);
      await rig.d.call(Command.CONFIRM, kms.confirm(x1.block.header.seq, x1.digest));
      rig.powerCycle();
      await rig.d.call(Command.CLOCK, { now: (back + 60) * 1000 });
      await frank(rig.d);
      const x2 = await extractBlock((t, b) => rig.d.call(t, b));
      // it starts at the trusted time and ends by the clock: not pinned 6 days ahead
      expect(x2.block.header).to.include({ from: back, to: back + 60 });
      expect(x2.block.header.pieces - x2.block.header.previousPieces).to.equal(2);
      await checkInvariants(rig.d, 1_000_000, { pieces: 2, amount: 170 });
    });

    it('a wrong clock the host set before any trusted time is recovered by the next contact, not by wiping the device', async () => {
      await frank(rig.d);
      // no session yet: the device has no trusted time, and the typo is taken...
      await rig.d.call(Command.CLOCK, { now: Date.UTC(2030, 0, 1) });
      // ... but franking at it is refused (the clock says years since the last contact) ...
      await expectCode(frank(rig.d), ErrorCode.CONTACT_OVERDUE);
      // ... and the period flush it caused dated the journal 2030: the right time is backdating now
      await expectCode(rig.d.call(Command.CLOCK, { now: T0 + 60_000 }), ErrorCode.CLOCK_REFUSED);
      rig.powerCycle();
      await expectCode(rig.d.call(Command.CLOCK, { now: T0 + 60_000 }), ErrorCode.CLOCK_REFUSED);
      // the data center's time, in a session, puts it right
      await session(rig.d, kms, T0 + 120_000);
      const s = await rig.d.call(Command.STATUS);
      expect(s.clock).to.be.within(T0 / 1000 + 119, T0 / 1000 + 125);
      expect(s.contact.trustedTime).to.equal(T0 / 1000 + 120);
      await frank(rig.d);
      await rig.d.call(Command.CLOCK, { now: T0 + 180_000 });
    });
  });
}

for (const [name, make] of rigs) {
  describe(`postal rules: zero-value pieces and test imprints (${name})`, function () {
    this.timeout(60000);
    let rig: Rig;
    let kms: TestKms;
    beforeEach(async () => {
      rig = make();
      kms = new TestKms();
      await readyDevice(rig.d, kms, 10_000, T0);
    });
    afterEach(() => rig.close());

    it('counts them apart, never moves funds, marks the test imprint, and keeps the counts across a power cycle', async () => {
      const d = () => rig.d;
      await frank(d());
      const zero = await d().call(Command.FRANK, { id: nextId++, customer: 7, category: 1, weight: 20, kind: 'zero' });
      expect(zero.amount).to.equal(0);
      expect(zero.registers).to.include({ ascending: 85, descending: 10_000 - 85, pieces: 2 });
      const z = parseIndicium(fromHex(zero.indicia[0]));
      expect(z).to.include({ postage: 0, piece: 2, test: false, ascending: 85 });
      const test = await d().call(Command.FRANK, { id: nextId++, customer: 7, category: 1, weight: 20, kind: 'test' });
      expect(test).to.include({ test: true, amount: 0 });
      expect(test.registers).to.include({ ascending: 85, pieces: 2 });
      const t = parseIndicium(fromHex(test.indicia[0]));
      expect(t).to.include({ version: 2, test: true, postage: 0, piece: 0 });
      // a zero-value piece has no postage; a kind the device does not know is refused
      await expectCode(d().call(Command.FRANK, { id: nextId++, customer: 7, category: 1, weight: 20, kind: 'zero', postage: 85 }), ErrorCode.BAD_ARGUMENT);
      await expectCode(d().call(Command.FRANK, { id: nextId++, customer: 7, category: 1, weight: 20, kind: 'free' }), ErrorCode.BAD_ARGUMENT);
      const check = async () => {
        const s = await d().call(Command.STATUS);
        expect(s.registers).to.include({ ascending: 85, pieces: 2 });
        expect(s.imprints).to.deep.equal({ zeroValue: 1, test: 1 });
        // the zero-value piece is a record of postage 0; the test imprint is no record
        const records = [...(await listRecords(d(), 'flash')), ...(await listRecords(d(), 'ram'))];
        expect(records.map((r: any) => [r.postage, r.pieces, r.amount]).sort()).to.deep.equal([[0, 1, 0], [85, 1, 85]]);
        await checkInvariants(d(), 10_000);
      };
      await check();
      await d().call(Command.STATS_FLUSH);
      rig.powerCycle();
      await check();
      // in a batch-mode batch neither is taken
      await d().call(Command.CLOCK, { now: T0 + 60_000 });
      await d().call(Command.BATCH_START, { customer: 7, mode: 'batch', category: 1, weight: 20, postage: 85 });
      await expectCode(d().call(Command.FRANK, { id: nextId++, count: 1, kind: 'test' }), ErrorCode.BAD_ARGUMENT);
    });
  });
}

for (const [name, make] of rigs) {
  describe(`postal rules: withdrawal from service (${name})`, function () {
    this.timeout(60000);
    let rig: Rig;
    afterEach(() => rig.close());

    it('only inside a session, only with every piece confirmed; then no key in flash, franking over, across power cycles', async () => {
      rig = make();
      const kms = new TestKms();
      await readyDevice(rig.d, kms, 10_000, T0);
      await frank(rig.d);
      await frank(rig.d);
      const flashNow = () => (rig.d instanceof ImageDevice ? fs.readFileSync(rig.d.flashFile) : Buffer.from((rig.d as CoreDevice).board.flashBytes));
      // a key in flash in any form the journal writes it: bytes, hex, or inside JSON
      // (Espruino's JSON.stringify writes every byte outside ASCII as \u00XX)
      const SHORT: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
      const escaped = (key: Buffer, hex: (n: number) => string) =>
        [...key].map((b) => (b === 0x22 ? '\\"' : b === 0x5c ? '\\\\' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : (SHORT[b] ?? '\\u00' + hex(b)))).join('');
      const keyIn = (flash: Buffer, key: Buffer) =>
        [
          key.toString('latin1'),
          key.toString('hex'),
          JSON.stringify(key.toString('latin1')).slice(1, -1),
          escaped(key, (b) => b.toString(16).padStart(2, '0')),
          escaped(key, (b) => b.toString(16).padStart(2, '0').toUpperCase())
        ].some((form) => flash.indexOf(Buffer.from(form, 'latin1')) >= 0);
      // never on the host's word
      await expectCode(rig.d.call(Command.WITHDRAW), ErrorCode.UNKNOWN_COMMAND);
      const pss = new PssEnd(kms);
      await pss.open(rig.d);
      // not while pieces are unconfirmed: the final statistics go to the data center first
      await expectCode(pss.call(rig.d, Command.WITHDRAW), ErrorCode.PENDING_CONFIRMATION);
      const x = await extractBlock((t, b) => pss.call(rig.d, t, b), undefined, 4);
      await pss.call(rig.d, Command.CONFIRM, kms.confirm(x.block.header.seq, x.digest));
      // (the search finds them while the device is in service)
      expect(keyIn(flashNow(), kms.deviceKey) && keyIn(flashNow(), kms.kmsKey), 'keys found in flash before').to.equal(true);
      const w = await pss.call(rig.d, Command.WITHDRAW);
      expect(w.withdrawn).to.equal(true);
      // the descending register the data center credits back
      expect(w.registers).to.include({ ascending: 170, descending: 10_000 - 170, pieces: 2 });
      const check = async () => {
        const s = await rig.d.call(Command.STATUS);
        expect(s.lock).to.deep.equal({ code: ErrorCode.WITHDRAWN, detail: 'keys erased' });
        expect(s.registers).to.include({ descending: 10_000 - 170 });
        await expectCode(frank(rig.d), ErrorCode.WITHDRAWN);
        await expectCode(rig.d.call(Command.FUNDS, kms.funds(2, 100)), ErrorCode.WITHDRAWN);
        for (const key of [kms.deviceKey, kms.kmsKey]) expect(keyIn(flashNow(), key), 'a key left in flash').to.equal(false);
      };
      await check();
      rig.powerCycle();
      await check();
    });
  });
}

for (const [name, make] of rigs) {
  describe(`postal rules: rate tables (${name})`, function () {
    this.timeout(60000);
    let rig: Rig;
    afterEach(() => rig.close());
    const hex = (t: RateTable) => Buffer.from(encodeRates(t), 'latin1').toString('hex');
    const band20 = weightBand(20);

    it('computes the postage from the table in force, refuses a declared postage that differs, switches on the effective date', async () => {
      rig = make();
      const kms = new TestKms();
      await readyDevice(rig.d, kms, 100_000, T0);
      const v1: RateTable = { version: 1, effective: T0 / 1000 - HOUR, entries: [{ category: 1, band: ANY_BAND, postage: 85 }, { category: 2, band: band20, postage: 150 }] };
      const v2: RateTable = { version: 2, effective: T0 / 1000 + DAY, entries: [{ category: 1, band: ANY_BAND, postage: 95 }] };
      // only the data center loads tables, inside a session; a bad one is refused
      await expectCode(rig.d.call(Command.RATES, { table: hex(v1) }), ErrorCode.UNKNOWN_COMMAND);
      const pss = new PssEnd(kms);
      await pss.open(rig.d);
      await expectCode(pss.call(rig.d, Command.RATES, { table: hex({ ...v1, entries: [{ category: 1, band: 0, postage: 0 }] }) }), ErrorCode.BAD_ARGUMENT);
      expect((await pss.call(rig.d, Command.RATES, { table: hex(v1) })).version).to.equal(1);
      expect((await pss.call(rig.d, Command.RATES, { table: hex(v2) })).version).to.equal(2);
      // the same table again changes nothing; an older one is refused
      await pss.call(rig.d, Command.RATES, { table: hex(v2) });
      await expectCode(pss.call(rig.d, Command.RATES, { table: hex({ ...v1, version: 1, entries: [] }) }), ErrorCode.REPLAY);
      expect((await rig.d.call(Command.STATUS)).rates).to.deep.equal({ inForce: 1, held: [[1, v1.effective], [2, v2.effective]] });

      const piece = (body: object) => rig.d.call(Command.FRANK, { id: nextId++, customer: 7, weight: 20, ...body });
      const priced = await piece({ category: 1 });
      expect(priced.amount).to.equal(85);
      // the indicium says which table priced the piece (inside its MAC)
      expect(parseIndicium(fromHex(priced.indicia[0])).rateVersion).to.equal(1);
      expect((await piece({ category: 1, postage: 85 })).amount).to.equal(85);
      await expectCode(piece({ category: 1, postage: 90 }), ErrorCode.RATE_MISMATCH);
      expect((await piece({ category: 2 })).amount).to.equal(150);
      // a category the table does not list is manual: the host declares its postage
      await expectCode(piece({ category: 5 }), ErrorCode.BAD_ARGUMENT);
      const declared = await piece({ category: 5, postage: 70 });
      expect(declared.amount).to.equal(70);
      expect(parseIndicium(fromHex(declared.indicia[0])).rateVersion, 'declared by the host').to.equal(0);
      // a batch takes its postage from the table too
      const started = await rig.d.call(Command.BATCH_START, { customer: 7, mode: 'batch', category: 1, weight: 20 });
      expect(started.batch.postage).to.equal(85);
      expect((await rig.d.call(Command.FRANK, { id: nextId++, count: 2 })).amount).to.equal(170);
      await rig.d.call(Command.BATCH_END);

      // the effective date of version 2: the price changes by itself, across a power cycle
      rig.advance(DAY);
      const repriced = await piece({ category: 1 });
      expect(repriced.amount).to.equal(95);
      expect(parseIndicium(fromHex(repriced.indicia[0])).rateVersion).to.equal(2);
      await expectCode(piece({ category: 1, postage: 85 }), ErrorCode.RATE_MISMATCH);
      rig.powerCycle();
      await rig.d.call(Command.CLOCK, { now: T0 + (DAY + 120) * 1000 });
      expect((await rig.d.call(Command.STATUS)).rates.inForce).to.equal(2);
      expect((await piece({ category: 1 })).amount).to.equal(95);
      // category 2 is not in version 2: manual now
      await expectCode(piece({ category: 2 }), ErrorCode.BAD_ARGUMENT);
      await checkInvariants(rig.d, 100_000);
      if (rig.d instanceof CoreDevice) {
        // a checkpoint rewrites the tables: after it (and the pages behind it gone) they are still there
        rig.d.psd.ledger.store(StoreOp.CHECKPOINT);
        rig.powerCycle();
        expect((await rig.d.call(Command.STATUS)).rates.held).to.deep.equal([[1, v1.effective], [2, v2.effective]]);
      }
    });

    it("the device's state answers before the piece's price: a clock not set (27), a withdrawn PSD (37), not a postage that differs (38)", async () => {
      rig = make();
      const kms = new TestKms();
      await readyDevice(rig.d, kms, 100_000, T0);
      const v1: RateTable = { version: 1, effective: T0 / 1000 - HOUR, entries: [{ category: 1, band: ANY_BAND, postage: 85 }] };
      const pss = new PssEnd(kms);
      await pss.open(rig.d);
      await pss.call(rig.d, Command.RATES, { table: hex(v1) });
      const piece = (body: object) => rig.d.call(Command.FRANK, { id: nextId++, customer: 7, weight: 20, ...body });
      await expectCode(piece({ category: 1, postage: 90 }), ErrorCode.RATE_MISMATCH);
      // no clock after a power cycle: the table in force is not known, so neither is the price
      rig.powerCycle();
      await expectCode(piece({ category: 1 }), ErrorCode.CLOCK_NOT_SET);
      await expectCode(piece({ category: 1, postage: 90 }), ErrorCode.CLOCK_NOT_SET);
      await rig.d.call(Command.CLOCK, { now: T0 + 120_000 });
      const withdrawing = new PssEnd(kms);
      await withdrawing.open(rig.d);
      expect((await withdrawing.call(rig.d, Command.WITHDRAW)).withdrawn).to.equal(true);
      // it franks no more, whatever the postage: fixing the postage would not help
      await expectCode(piece({ category: 1, postage: 90 }), ErrorCode.WITHDRAWN);
      await expectCode(piece({ category: 1 }), ErrorCode.WITHDRAWN);
      await expectCode(piece({ category: 5 }), ErrorCode.WITHDRAWN);
      // a malformed request is still refused as such
      await expectCode(piece({ category: 'one' }), ErrorCode.BAD_ARGUMENT);
    });
  });
}

