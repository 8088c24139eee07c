// The secure session (claim 4): the PSS drives a PSD through the host, which only relays.
// Against a PSD stand-in written here from the spec (protocol/session.ts, protocol/block.ts,
// node:crypto AES where the PSS uses @noble), and against the firmware core on an in-memory
// board (testkit/harness.ts). Tampering hosts are refused; nothing is stored twice.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { PssClient } from '../kit/pss-client.ts';
import { runSession } from '../host-bridge/session-relay.ts';
import { PsdError } from '../host-bridge/errors.ts';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { asciiJson, toHex, fromHex, readU16 } from '../protocol/bytes.ts';
import { MAX_PAYLOAD_BYTES } from '../protocol/frame.ts';
import { decodeBlock, blockHeadBytes, confirmMessage } from '../protocol/block.ts';
import { fundsMessage } from '../protocol/auth.ts';
import { RECORD_BYTES, type CumulativeRecord } from '../protocol/records.ts';
import { sessionKeys, sealSessionMessage, openSessionMessage, TO_DEVICE, TO_SERVER, type SessionKeys } from '../protocol/session.ts';
import type { AeadPrims } from '../protocol/aead.ts';
import { CoreDevice, DeviceError } from '../testkit/harness.ts';
import { memoryBoard } from '../testkit/memory-board.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { operatorClient } from '../testkit/pss-operator.ts';

const sha256 = (s: string) => nodeCrypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
const hmac = (k: string, m: string) => nodeCrypto.createHmac('sha256', Buffer.from(k, 'latin1')).update(Buffer.from(m, 'latin1')).digest().toString('latin1');
function aes(encrypt: boolean) {
  return (key: string, iv: string, data: string) => {
    const c = encrypt ? nodeCrypto.createCipheriv('aes-128-cbc', Buffer.from(key, 'latin1'), Buffer.from(iv, 'latin1')) : nodeCrypto.createDecipheriv('aes-128-cbc', Buffer.from(key, 'latin1'), Buffer.from(iv, 'latin1'));
    c.setAutoPadding(false);
    return Buffer.concat([c.update(Buffer.from(data, 'latin1')), c.final()]).toString('latin1');
  };
}
/** The stand-in's AEAD primitives: node:crypto (the PSS uses @noble/ciphers and @noble/hashes). */
const nodePrims: AeadPrims = { sha256, aesCbcEncrypt: aes(true), aesCbcDecrypt: aes(false) };

/**
 * A PSD as the spec and firmware/core describe its session side: it holds registers, the
 * records not yet sealed, the sealed block awaiting confirmation, and its keys. It answers
 * like PsdClient.request (throws PsdError with the device's code).
 */
class FakePsd {
  sample: SampleDevice;
  unsealed: CumulativeRecord[] = [];
  sealed: { seq: number; raw: string; digest: string } | null = null;
  /** every block it sealed, in order */
  blocks: string[] = [];
  confirmed: number[] = [];
  fundsCounter = 0;
  clockSet = true;
  config: Record<string, unknown> = { flushPeriodS: 86400, flushEveryPieces: 255, lowStoragePct: 20, lockUntilConfirmed: false };
  private session: { keys: SessionKeys; received: number; sent: number } | null = null;
  largestPayload = 0;
  log: number[] = [];
  /** Most head bytes the extract answer carries (the firmware: none, the head is read in
   * pages). Inside a session an answer must stay under ~463 bytes of JSON to fit a frame once
   * sealed and in hex. The PSS takes the head from either. */
  headInExtract = 0;
  headPage = 128;

  constructor(
    readonly device: number,
    readonly deviceKey: string,
    readonly kmsKey: string
  ) {
    this.sample = new SampleDevice(device, { algorithm: 1, deviceKey });
  }

  async request(type: number, payload: any = {}): Promise<any> {
    this.largestPayload = Math.max(this.largestPayload, asciiJson(payload).length);
    expect(asciiJson(payload).length, 'request fits a frame').to.be.at.most(MAX_PAYLOAD_BYTES);
    const answer = this.handle(type, payload);
    expect(asciiJson(answer).length, 'answer fits a frame').to.be.at.most(MAX_PAYLOAD_BYTES);
    this.largestPayload = Math.max(this.largestPayload, asciiJson(answer).length);
    return answer;
  }

  private handle(type: number, req: any): any {
    if (type === Command.SESSION_OPEN) {
      const nonce = nodeCrypto.randomBytes(16).toString('latin1');
      this.session = { keys: sessionKeys(sha256, this.deviceKey, this.device, fromHex(req.nonce), nonce, '')!, received: 0, sent: 0 };
      return { device: this.device, nonce: toHex(nonce) };
    }
    if (type === Command.SESSION) {
      const s = this.session;
      if (!s) throw new PsdError(ErrorCode.NO_SESSION, 'open one first');
      const opened = openSessionMessage(nodePrims, s.keys, TO_DEVICE, s.received + 1, fromHex(req.m));
      if (!opened) throw new PsdError(ErrorCode.AUTH, 'session message does not authenticate');
      s.received = opened.counter;
      const inner = JSON.parse(opened.plaintext);
      this.log.push(inner.type);
      let answer: any;
      try {
        answer = { ok: this.inner(inner.type, inner.payload) };
      } catch (e) {
        answer = { error: { code: (e as PsdError).code ?? ErrorCode.INTERNAL, message: (e as Error).message } };
      }
      s.sent++;
      return { m: toHex(sealSessionMessage(nodePrims, s.keys, TO_SERVER, s.sent, nodeCrypto.randomBytes(16).toString('latin1'), asciiJson(answer))) };
    }
    if (type === Command.STATUS) return { device: this.device, deviceId: 'PSD-' + this.device };
    throw new PsdError(ErrorCode.UNKNOWN_COMMAND);
  }

  private inner(type: number, req: any): any {
    switch (type) {
      case Command.STATS_EXTRACT: {
        if (!this.clockSet) throw new PsdError(ErrorCode.CLOCK_NOT_SET);
        let fresh = false;
        if (!this.sealed) {
          const raw = this.sample.nextBlock(this.unsealed);
          const b = decodeBlock(raw);
          let d = sha256('PSD-BLOCK' + b.head);
          for (let at = 0; at < b.recordBytes.length; at += 16 * RECORD_BYTES) d = sha256(d + b.recordBytes.substr(at, 16 * RECORD_BYTES));
          this.sealed = { seq: b.header.seq, raw, digest: d };
          this.blocks.push(raw);
          this.unsealed = [];
          fresh = true;
        }
        const b = decodeBlock(this.sealed.raw);
        return { seq: this.sealed.seq, headBytes: b.head.length, ...(b.head.length <= this.headInExtract ? { head: toHex(b.head) } : {}), recordCount: readU16(b.head, 6), digest: toHex(this.sealed.digest), seal: toHex(b.seal), state: 'sent', fresh };
      }
      case Command.BLOCK_READ: {
        if (!this.sealed || this.sealed.seq !== req.seq) throw new PsdError(ErrorCode.NO_BLOCK);
        const b = decodeBlock(this.sealed.raw);
        if (req.headFrom !== undefined) return { seq: req.seq, headFrom: req.headFrom, headBytes: b.head.length, head: toHex(b.head.substr(req.headFrom, this.headPage)) };
        const records: string[] = [];
        for (let i = req.from; i < b.records.length && records.length < Math.min(req.count ?? 16, 16); i++) records.push(toHex(b.recordBytes.substr(i * RECORD_BYTES, RECORD_BYTES)));
        return { seq: req.seq, from: req.from, total: b.records.length, records };
      }
      case Command.CONFIRM: {
        const s = this.sealed;
        const last = this.confirmed[this.confirmed.length - 1];
        if (!(s && s.seq === req.seq) && req.seq !== last) throw new PsdError(ErrorCode.NO_BLOCK);
        if (!s || s.seq !== req.seq) return { seq: req.seq, repeated: true };
        if (hmac(this.deviceKey, confirmMessage(this.device, s.seq, s.digest)) !== fromHex(req.mac)) throw new PsdError(ErrorCode.AUTH, 'confirmation not from the data center');
        this.confirmed.push(s.seq);
        this.sealed = null;
        return { seq: req.seq, repeated: false };
      }
      case Command.FUNDS: {
        if (hmac(this.kmsKey, fundsMessage(this.device, req.counter, req.amount)) !== fromHex(req.mac)) throw new PsdError(ErrorCode.AUTH, 'funds reset not from the KMS');
        if (req.counter !== this.fundsCounter + 1) throw new PsdError(ErrorCode.REPLAY, 'funds counter');
        this.fundsCounter = req.counter;
        this.sample.descending += req.amount;
        this.sample.fundsTotal += req.amount;
        return { fundsCounter: this.fundsCounter };
      }
      case Command.CONFIG:
        Object.assign(this.config, req);
        return { config: this.config };
      case Command.CLOCK:
        expect(Math.abs(req.now - Date.now())).to.be.below(5000);
        this.clockSet = true;
        return { clock: Math.floor(req.now / 1000) };
    }
    throw new PsdError(ErrorCode.UNKNOWN_COMMAND, 'not allowed in a session');
  }
}

/** A host that alters what it relays; n counts the requests of each type (1 = the first). */
function tamperingRelay(psd: FakePsd, alter: { request?: (type: number, p: any, n: number) => any; answer?: (type: number, a: any, n: number) => any }) {
  const counts: Record<number, number> = {};
  return {
    async request(type: number, payload: any) {
      const n = (counts[type] = (counts[type] ?? 0) + 1);
      const p = alter.request ? alter.request(type, payload, n) : payload;
      const a = await psd.request(type, p);
      return alter.answer ? alter.answer(type, a, n) : a;
    }
  };
}

function flipHex(hex: string, at: number): string {
  const b = Buffer.from(hex, 'hex');
  b[at] ^= 1;
  return b.toString('hex');
}

describe('PSS secure session', function () {
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  let pss: PssClient;
  let psd: FakePsd;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-session-'));
    dc = await openDataCenter(dir);
    service = await startService(dc, { port: 0 });
    pss = await operatorClient(dc, service.port);
    const reg = await pss.register('SESSION-1', 'pico');
    payingAccount(dc, reg.device);
    psd = new FakePsd(reg.device, fromHex(reg.deviceKey), fromHex(reg.kmsKey));
  });

  afterEach(async function () {
    await pss.close();
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const table = (t: string) => dc.store.all(`SELECT * FROM ${t}`);

  it('reads, verifies, stores and confirms the PSD\'s block; loads funds and sets parameters, in one session', async function () {
    psd.unsealed = sampleRecords(40, Array.from({ length: 30 }, (_, i) => 5000 + i)); // a head of 178 bytes: read in pages
    const relayed: number[] = [];
    const t0 = Math.floor(Date.now() / 1000);
    const report = await runSession(pss, psd, { funds: 250000, config: { flushEveryPieces: 100 }, onRelay: (r) => relayed.push(r.type) });
    // the data center's time, set first in every session (the PSD's trusted time)
    expect(report.clock).to.be.within(t0, t0 + 30);
    expect(psd.log[0]).to.equal(Command.CLOCK);
    delete report.clock;
    expect(report).to.deep.equal({
      device: psd.device,
      block: { seq: 1, stored: true, records: 40 },
      confirmed: true,
      funds: { counter: 1, amount: 250000, loaded: true },
      config: { flushPeriodS: 86400, flushEveryPieces: 100, lowStoragePct: 20, lockUntilConfirmed: false }
    });
    expect(psd.confirmed).to.deep.equal([1]);
    expect(psd.fundsCounter).to.equal(1);
    expect(relayed[0]).to.equal(Command.SESSION_OPEN);
    expect(relayed.slice(1).every((t) => t === Command.SESSION)).to.equal(true); // nothing else in clear
    const headBytes = dc.store.get<{ n: number }>('SELECT length(raw) - 40 * 24 - 32 AS n FROM blocks')!.n;
    expect(headBytes).to.be.above(128);
    expect(psd.log.filter((t) => t === Command.BLOCK_READ).length).to.equal(2 + Math.ceil(40 / 6)); // 2 head pages + record pages
    const block = dc.store.get<{ via: string; raw: Uint8Array }>('SELECT via, raw FROM blocks')!;
    expect(block.via).to.equal('session');
    expect(Buffer.from(block.raw).toString('latin1')).to.equal(psd.blocks[0]); // reassembled byte for byte
    expect(dc.store.all('SELECT counter, amount, via, loaded FROM funds_resets')).to.deep.equal([{ counter: 1, amount: 250000, via: 'session', loaded: 1 }]);
    expect(psd.largestPayload).to.be.at.most(MAX_PAYLOAD_BYTES);
    // the next session: the next block, its head carried in the extract answer this time
    psd.unsealed = sampleRecords(3, [1], 2);
    psd.headInExtract = 80;
    const reads = psd.log.filter((t) => t === Command.BLOCK_READ).length;
    expect((await runSession(pss, psd)).block).to.deep.equal({ seq: 2, stored: true, records: 3 });
    expect(psd.log.filter((t) => t === Command.BLOCK_READ).length).to.equal(reads + 1); // records only
  });

  it('a lost confirmation: the next session gets the same block, a repeat, confirmed again', async function () {
    psd.unsealed = sampleRecords(10);
    // the line dies just as the CONFIRM goes out: the host gives up, the PSD keeps its block
    const dying = tamperingRelay(psd, {
      request: (type, p) => {
        // the block is stored: the next message is the CONFIRM
        if (type === Command.SESSION && dc.pss.counts().blocks === 1) throw new PsdError(ErrorCode.LINE_LOST, 'unplugged');
        return p;
      }
    });
    let err: any;
    await runSession(pss, dying).catch((e) => (err = e));
    expect(err.code).to.equal(ErrorCode.LINE_LOST);
    expect(psd.sealed?.seq).to.equal(1);
    expect(dc.pss.counts()).to.include({ blocks: 1, records: 10 });
    const report = await runSession(pss, psd);
    expect(report.block).to.deep.equal({ seq: 1, stored: false, records: 10 });
    expect(report.confirmed).to.equal(true);
    expect(psd.sealed).to.equal(null);
    expect(dc.pss.counts()).to.include({ blocks: 1, records: 10 });
  });

  it('a PSD that lost its clock gets it from the PSS before it extracts', async function () {
    psd.clockSet = false;
    psd.unsealed = sampleRecords(2);
    const report = await runSession(pss, psd);
    expect(report.block?.stored).to.equal(true);
    expect(psd.log.slice(0, 2)).to.deep.equal([Command.CLOCK, Command.STATS_EXTRACT]);
  });

  describe('a tampering host changes nothing', function () {
    let before: unknown[];
    beforeEach(function () {
      psd.unsealed = sampleRecords(8);
      before = ['blocks', 'records', 'funds_resets'].map(table);
    });
    const unchanged = () => expect(['blocks', 'records', 'funds_resets'].map(table)).to.deep.equal(before);

    it('an altered PSS message: the PSD refuses it', async function () {
      const r = await runSession(pss, tamperingRelay(psd, { request: (t, p, n) => (t === Command.SESSION && n === 2 ? { m: flipHex(p.m, 30) } : p) }), { funds: 100 });
      expect(r.error?.code).to.equal('PSD_' + ErrorCode.AUTH);
      expect(r.confirmed).to.equal(false);
      expect(r.funds).to.equal(null);
      expect(psd.confirmed).to.deep.equal([]);
      unchanged();
    });

    it('an altered, replayed or swapped PSD answer: the PSS refuses it', async function () {
      let first: any;
      const relays = [
        tamperingRelay(psd, { answer: (t, a, n) => (t === Command.SESSION && n === 2 ? { m: flipHex(a.m, 40) } : a) }),
        tamperingRelay(psd, { answer: (t, a, n) => (t === Command.SESSION && n === 1 ? (first = a) : t === Command.SESSION && n === 2 ? first : a) }),
        // a nonce changed either way: the keys differ, the PSD refuses the PSS's first message
        tamperingRelay(psd, { answer: (t, a) => (t === Command.SESSION_OPEN ? { ...a, nonce: flipHex(a.nonce, 0) } : a) }),
        tamperingRelay(psd, { request: (t, p) => (t === Command.SESSION_OPEN ? { ...p, nonce: flipHex(p.nonce, 3) } : p) })
      ];
      const codes = ['SESSION', 'SESSION', 'PSD_' + ErrorCode.AUTH, 'PSD_' + ErrorCode.AUTH];
      for (const [i, relay] of relays.entries()) {
        const r = await runSession(pss, relay);
        expect(r.error?.code).to.equal(codes[i]);
        expect(r.block).to.equal(null);
        expect(r.confirmed).to.equal(false);
      }
      unchanged();
    });

    it('a PSD claiming to be another device', async function () {
      const r = await runSession(pss, tamperingRelay(psd, { answer: (t, a) => (t === Command.SESSION_OPEN ? { ...a, device: a.device + 1 } : a) }));
      expect(r.error?.code).to.equal('SESSION');
      unchanged();
    });

    it('a block sealed under another key is rejected: no confirmation, no funds', async function () {
      psd.sample = new SampleDevice(psd.device, { algorithm: 1, deviceKey: nodeCrypto.randomBytes(32).toString('latin1') });
      const r = await runSession(pss, psd, { funds: 500 });
      expect(r.error?.code).to.equal('BAD_SEAL');
      expect(r.confirmed).to.equal(false);
      expect(r.funds).to.equal(null);
      expect(psd.fundsCounter).to.equal(0);
      expect(dc.store.get<{ code: string }>('SELECT code FROM rejections')!.code).to.equal('BAD_SEAL');
      unchanged();
    });
  });

  it('relays a PSD answer as large as a frame holds', async function () {
    const first = await pss.sessionBegin(psd.device);
    if (first.done) throw new Error('the session ended at once');
    expect(first.relay.type).to.equal(Command.SESSION_OPEN);
    await pss.sessionNext({ answer: await psd.request(Command.SESSION_OPEN, first.relay.payload) });
    const m = 'ab'.repeat((MAX_PAYLOAD_BYTES - 8) / 2); // {"m":"..."}: a full 1,012-byte payload
    expect(asciiJson({ m }).length).to.equal(MAX_PAYLOAD_BYTES);
    const step = await pss.sessionNext({ answer: { m } });
    expect(step.done && step.report.error?.code).to.equal('SESSION'); // judged (not authentic), not OVERSIZE
  });

  it('refuses a session for an unknown or revoked device before relaying anything', async function () {
    let err: any;
    await pss.sessionBegin(77).catch((e) => (err = e));
    expect(err.code).to.equal('UNKNOWN_DEVICE');
    dc.kms.revoke(psd.device);
    err = undefined;
    await runSession(pss, psd).catch((e) => (err = e));
    expect(err.code).to.equal('REVOKED');
    expect(psd.log).to.deep.equal([]);
  });

  describe('against the firmware core (in-memory board)', function () {
    /** The core as PsdClient.request would present it: answers, or PsdError with the device's code. */
    function coreClient(d: CoreDevice) {
      return async (type: number, body: object = {}) => {
        try {
          return await d.call(type, body);
        } catch (e) {
          if (e instanceof DeviceError) throw new PsdError(e.code, e.message);
          throw e;
        }
      };
    }

    for (const seal of ['hmac', 'ed25519'] as const) {
      it(`${seal}: franks, then one session stores and confirms the block and loads funds; the PSD frees its records`, async function () {
        const reg = await pss.register('CORE-' + seal, seal === 'hmac' ? 'pico' : 'esp32');
        expect(reg.seal).to.equal(seal);
        const d = new CoreDevice(memoryBoard({ ed25519: seal === 'ed25519' }));
        const call = coreClient(d);
        const prov = await call(Command.PROVISION, { device: reg.device, deviceKey: reg.deviceKey, kmsKey: reg.kmsKey });
        expect(prov.seal).to.equal(seal);
        if (seal === 'ed25519') await pss.certify(reg.device, prov.publicKey); // the key the PSD made
        await call(Command.CLOCK, { now: Date.UTC(2026, 10, 24, 9) });
        payingAccount(dc, reg.device);
        const f = await pss.funds(reg.device, 1_000_000);
        await call(Command.FUNDS, { counter: f.counter, amount: f.amount, mac: f.mac });
        await call(Command.BATCH_START, { customer: 1001, mode: 'batch', category: 1, weight: 18, postage: 85 });
        await call(Command.FRANK, { id: 1, count: 120 });
        await call(Command.BATCH_END);
        await call(Command.FRANK, { id: 2, customer: 1003, category: 7, weight: 1200, postage: 490 });
        await call(Command.STATS_FLUSH);
        const report = await runSession(pss, { request: call }, { funds: 5000 });
        expect(report.error).to.equal(undefined);
        expect(report.block).to.deep.equal({ seq: 1, stored: true, records: 2 });
        expect(report.confirmed).to.equal(true);
        expect(report.funds).to.deep.equal({ counter: 2, amount: 5000, loaded: true });
        const block = dc.store.get<{ raw: Uint8Array }>('SELECT raw FROM blocks WHERE device = ?', [reg.device])!;
        expect(decodeBlock(Buffer.from(block.raw).toString('latin1')).header.algorithm).to.equal(seal === 'hmac' ? 1 : 2);
        const rows = dc.store.all('SELECT customer, category, pieces, amount, weight FROM records WHERE device = ? ORDER BY customer', [reg.device]);
        expect(rows).to.deep.equal([
          { customer: 1001, category: 1, pieces: 120, amount: 120 * 85, weight: 120 * 18 },
          { customer: 1003, category: 7, pieces: 1, amount: 490, weight: 1200 }
        ]);
        const status = await call(Command.STATUS);
        expect(status.storage.records).to.equal(0);
        expect(status.registers.controlTotal).to.equal(1_005_000);
        expect(status.fundsCounter).to.equal(2);
        // franking on: the next session's block chains to this one
        await call(Command.FRANK, { id: 3, customer: 1002, category: 2, weight: 30, postage: 100 });
        expect((await runSession(pss, { request: call })).block).to.deep.equal({ seq: 2, stored: true, records: 1 });
      });
    }

    it('a clock the host set forward: the blocks after the next session start at its trusted time and are dated by it, none pinned ahead, none lost', async function () {
      const reg = await pss.register('CORE-FORWARD', 'pico');
      const d = new CoreDevice(memoryBoard());
      const call = coreClient(d);
      await call(Command.PROVISION, { device: reg.device, deviceKey: reg.deviceKey, kmsKey: reg.kmsKey });
      // forward dating: the host set the clock 6 days ahead (a week is allowed)
      const ahead = Date.now() + 6 * 86400_000;
      await call(Command.CLOCK, { now: ahead });
      payingAccount(dc, reg.device);
      const f = await pss.funds(reg.device, 100_000);
      await call(Command.FUNDS, { counter: f.counter, amount: f.amount, mac: f.mac });
      const piece = (id: number) => call(Command.FRANK, { id, customer: 1001, category: 1, weight: 18, postage: 85 });
      await piece(1);
      // a block sealed then ends 6 days ahead, and awaits its upload
      await call(Command.STATS_EXTRACT);
      await piece(2);
      const blocks = () => dc.store.all<{ seq: number; from_time: number; to_time: number; pieces: number }>('SELECT seq, from_time, to_time, pieces FROM blocks WHERE device = ? ORDER BY seq', [reg.device]);
      const first = await runSession(pss, { request: call });
      expect(first.error).to.equal(undefined);
      expect(first.block).to.deep.equal({ seq: 1, stored: true, records: 1 });
      expect(blocks()[0].to_time).to.be.at.least(Math.floor(ahead / 1000));
      // the session's trusted time set the clock back
      expect((await call(Command.STATUS)).clock).to.be.within(first.clock!, first.clock! + 2);
      await piece(3);
      const second = await runSession(pss, { request: call });
      expect(second.error).to.equal(undefined);
      expect(second.block).to.deep.equal({ seq: 2, stored: true, records: 1 });
      await piece(4);
      const third = await runSession(pss, { request: call });
      expect(third.error, 'the block after it chains on as ever').to.equal(undefined);
      const b = blocks();
      expect(b.map((x) => x.seq)).to.deep.equal([1, 2, 3]);
      // block 2 starts at the first session's trusted time and ends at the second's, not 6 days ahead
      expect(b[1].from_time).to.equal(first.clock);
      expect(b[1].to_time).to.be.within(second.clock!, second.clock! + 2);
      expect(b[2].from_time).to.equal(b[1].to_time);
      expect(b[2].to_time).to.be.below(Math.floor(Date.now() / 1000) + 3);
      // every piece is in a stored block
      expect(b[2].pieces).to.equal(4);
      const rows = dc.store.all<{ pieces: number }>('SELECT SUM(pieces) AS pieces FROM records WHERE device = ?', [reg.device]);
      expect(rows[0].pieces).to.equal(4);
      expect((await call(Command.STATUS)).storage.records).to.equal(0);
    });

    it('a PSD whose Ed25519 key the KMS never certified: its block is refused, nothing confirmed', async function () {
      const reg = await pss.register('CORE-NOCERT', 'esp32');
      const d = new CoreDevice(memoryBoard({ ed25519: true }));
      const call = coreClient(d);
      await call(Command.PROVISION, { device: reg.device, deviceKey: reg.deviceKey, kmsKey: reg.kmsKey });
      await call(Command.CLOCK, { now: Date.UTC(2026, 10, 24, 9) });
      const report = await runSession(pss, { request: call });
      expect(report.error?.code).to.equal('NO_CERTIFICATE');
      expect(report.confirmed).to.equal(false);
    });
  });
});
