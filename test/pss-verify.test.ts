// PSS verification of sealed statistics blocks (server/verify.ts through server/pss.ts):
// good HMAC and Ed25519 blocks are stored and confirmed; every attack is rejected with a
// clear code, recorded as a rejection, and changes nothing else in any table.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import nacl from 'tweetnacl';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { SampleDevice, sealBlock, sampleRecords, type SampleKey } from '../server/sample-blocks.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { verifyBlock, type VerifyContext } from '../server/verify.ts';
import { confirmMessage, decodeBlock, blockHeadBytes } from '../protocol/block.ts';
import { u32 } from '../protocol/bytes.ts';
import { RECORD_BYTES, MIXED_BAND, type CumulativeRecord } from '../protocol/records.ts';
import { MASTER_KEY_FILE } from '../server/keyfiles.ts';
import { sha256, hmacSha256, ed25519Verify } from '../server/hashes.ts';
import { RFC4231_CASE2, RFC8032_TESTS } from '../testkit/crypto-rfc-vectors.ts';
import { hexOf, insertionOrder } from '../testkit/pss-backend.ts';

/** Every table's content except rejections, plus the rejections' count. */
function snapshot(dc: DataCenter) {
  const s = dc.store;
  return {
    devices: s.all('SELECT * FROM devices ORDER BY device'),
    blocks: s.all(`SELECT device, seq, digest, ${hexOf('raw')} AS raw FROM blocks ORDER BY device, seq`),
    records: s.all('SELECT * FROM records ORDER BY device, seq, n'),
    funds: s.all('SELECT * FROM funds_resets'),
    meta: s.all('SELECT * FROM meta'),
    rejections: s.all<{ n: number }>('SELECT COUNT(*) AS n FROM rejections')[0].n
  };
}

/** Uploads `raw`, expects the rejection `code`, one new rejections row and nothing else changed. */
function expectRejected(dc: DataCenter, raw: string, code: string) {
  const before = snapshot(dc);
  let err: unknown;
  try {
    dc.pss.upload(raw);
  } catch (e) {
    err = e;
  }
  expect(err, 'upload should be rejected').to.be.instanceOf(PssError);
  expect((err as PssError).code).to.equal(code);
  expect((err as PssError).message).to.be.a('string').and.not.equal('');
  const after = snapshot(dc);
  expect(after.rejections).to.equal(before.rejections + 1);
  expect({ ...after, rejections: 0 }).to.deep.equal({ ...before, rejections: 0 });
  const row = dc.store.get<{ code: string; reason: string }>(`SELECT code, reason FROM rejections ORDER BY ${insertionOrder()} DESC LIMIT 1`)!;
  expect(row.code).to.equal(code);
  expect(row.reason).to.equal((err as PssError).message);
  return err as PssError;
}

/** The confirmation as the PSD computes it, with node:crypto (not the PSS's @noble code). */
function nodeConfirmation(deviceKey: string, device: number, seq: number, raw: string): string {
  const b = decodeBlock(raw);
  let d = nodeCrypto.createHash('sha256').update(Buffer.from('PSD-BLOCK' + b.head, 'latin1')).digest();
  for (let at = 0; at < b.recordBytes.length; at += 16 * RECORD_BYTES)
    d = nodeCrypto.createHash('sha256').update(Buffer.concat([d, Buffer.from(b.recordBytes.substr(at, 16 * RECORD_BYTES), 'latin1')])).digest();
  return nodeCrypto.createHmac('sha256', Buffer.from(deviceKey, 'latin1')).update(Buffer.from(confirmMessage(device, seq, d.toString('latin1')), 'latin1')).digest('hex');
}

/** Flips one bit of byte `at`. */
function flip(raw: string, at: number): string {
  return raw.substr(0, at) + String.fromCharCode(raw.charCodeAt(at) ^ 1) + raw.substr(at + 1);
}

describe('PSS seal primitives (published vectors)', function () {
  const str = (hex: string) => Buffer.from(hex, 'hex').toString('latin1');
  const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
  it('SHA-256: FIPS 180-4 "abc"', function () {
    expect(hex(sha256('abc'))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('HMAC-SHA256: RFC 4231 test case 2', function () {
    expect(hex(hmacSha256(str(RFC4231_CASE2.key), str(RFC4231_CASE2.data)))).to.equal(RFC4231_CASE2.mac);
  });
  it('Ed25519 verify: RFC 8032 tests 1-3, and a flipped bit fails', function () {
    for (const t of RFC8032_TESTS) {
      expect(ed25519Verify(str(t.public), str(t.message), str(t.signature)), t.name).to.equal(true);
      const bad = Buffer.from(t.signature, 'hex');
      bad[5] ^= 1;
      expect(ed25519Verify(str(t.public), str(t.message), bad.toString('latin1')), t.name).to.equal(false);
    }
  });
});

describe('PSS block verification', function () {
  let dir: string;
  let dc: DataCenter;
  let hmacDevice: number;
  let hmacKey: string;
  let edDevice: number;
  let edKeys: nacl.SignKeyPair;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-verify-'));
    dc = await openDataCenter(dir);
    const r = dc.kms.registerDevice('PICO-0001', 'pico');
    hmacDevice = r.device;
    hmacKey = r.deviceKey;
    edKeys = nacl.sign.keyPair();
    edDevice = dc.kms.registerDevice('ESP32-0001', 'esp32').device;
    dc.kms.certify(edDevice, Buffer.from(edKeys.publicKey).toString('latin1'));
  });

  afterEach(function () {
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const hmacSample = () => new SampleDevice(hmacDevice, { algorithm: 1, deviceKey: hmacKey });

  it('derives the device key as HMAC-SHA256(master, "PSD-DEVICE-KEY" || u32 device)', function () {
    const master = fs.readFileSync(path.join(dir, MASTER_KEY_FILE));
    const expected = nodeCrypto.createHmac('sha256', master).update(Buffer.from('PSD-DEVICE-KEY' + u32(hmacDevice), 'latin1')).digest().toString('latin1');
    expect(hmacKey).to.equal(expected);
  });

  it('accepts a good HMAC block: stores it and its records, returns the confirmation the PSD expects', function () {
    const records = sampleRecords(40);
    const raw = hmacSample().nextBlock(records);
    const r = dc.pss.upload(raw);
    expect(r).to.include({ device: hmacDevice, seq: 1, stored: true, recordCount: 40 });
    expect(r.confirmation).to.equal(nodeConfirmation(hmacKey, hmacDevice, 1, raw));
    const rows = dc.store.all<CumulativeRecord & { weight_band: number }>(`SELECT customer, category, weight_band, postage, pieces, amount, weight FROM records WHERE device = ? ORDER BY seq, n`, [hmacDevice]);
    expect(rows.map((x) => ({ customer: x.customer, category: x.category, weightBand: x.weight_band, postage: x.postage, pieces: x.pieces, amount: x.amount, weight: x.weight }))).to.deep.equal(records);
    const block = dc.store.get<{ pieces: number; ascending: number; via: string; raw: Uint8Array }>('SELECT pieces, ascending, via, raw FROM blocks WHERE device = ?', [hmacDevice])!;
    expect(block.pieces).to.equal(records.reduce((s, x) => s + x.pieces, 0));
    expect(block.ascending).to.equal(records.reduce((s, x) => s + x.amount, 0));
    expect(block.via).to.equal('plain');
    expect(Buffer.from(block.raw).toString('latin1')).to.equal(raw);
  });

  it('accepts a chain of blocks, each chained to the previous one', function () {
    const dev = hmacSample();
    for (let i = 1; i <= 5; i++) expect(dc.pss.upload(dev.nextBlock(sampleRecords(10, [7, 8], i))).seq).to.equal(i);
    expect(dc.pss.lastSeq(hmacDevice)).to.equal(5);
  });

  it('accepts an empty block (no records: registers unchanged)', function () {
    const dev = hmacSample();
    dc.pss.upload(dev.nextBlock(sampleRecords(3)));
    expect(dc.pss.upload(dev.nextBlock([])).stored).to.equal(true);
  });

  it('accepts an Ed25519 block under the certified device key', function () {
    const dev = new SampleDevice(edDevice, { algorithm: 2, secretKey: edKeys.secretKey });
    const raw = dev.nextBlock(sampleRecords(17));
    // the seal is a plain Ed25519 signature: node:crypto checks it too
    const b = decodeBlock(raw);
    expect(b.seal.length).to.equal(64);
    const r = dc.pss.upload(raw);
    expect(r).to.include({ device: edDevice, seq: 1, stored: true });
    // the confirmation is always an HMAC under the derived device key
    expect(r.confirmation).to.equal(nodeConfirmation(dc.kms.deviceKey(edDevice), edDevice, 1, raw));
  });

  it('rejects a forged HMAC seal (another key) and a missing seal', function () {
    const raw = new SampleDevice(hmacDevice, { algorithm: 1, deviceKey: nodeCrypto.randomBytes(32).toString('latin1') }).nextBlock(sampleRecords(5));
    expectRejected(dc, raw, 'BAD_SEAL');
    const good = hmacSample().nextBlock(sampleRecords(5));
    expectRejected(dc, good.substr(0, good.length - 32), 'BAD_BLOCK');
    expectRejected(dc, good.substr(0, good.length - 32) + '\0'.repeat(32), 'BAD_SEAL');
    expectRejected(dc, flip(good, good.length - 1), 'BAD_SEAL');
  });

  it('rejects an Ed25519 block signed by another key, or with its signature altered', function () {
    const other = nacl.sign.keyPair();
    expectRejected(dc, new SampleDevice(edDevice, { algorithm: 2, secretKey: other.secretKey }).nextBlock(sampleRecords(5)), 'BAD_SEAL');
    const good = new SampleDevice(edDevice, { algorithm: 2, secretKey: edKeys.secretKey }).nextBlock(sampleRecords(5));
    expectRejected(dc, flip(good, good.length - 40), 'BAD_SEAL');
  });

  it('rejects a block sealed with the other algorithm than the device was registered with', function () {
    expectRejected(dc, new SampleDevice(edDevice, { algorithm: 1, deviceKey: dc.kms.deviceKey(edDevice) }).nextBlock(sampleRecords(3)), 'WRONG_ALGORITHM');
  });

  it('rejects an altered record (pieces, amount, weight, category) and altered registers', function () {
    const raw = hmacSample().nextBlock(sampleRecords(20));
    const recordsAt = blockHeadBytes(decodeBlock(raw).header.customers.length);
    for (const field of [4, 8, 15, 19, 23]) expectRejected(dc, flip(raw, recordsAt + 5 * RECORD_BYTES + field), 'BAD_SEAL');
    for (const at of [12, 20, 29, 35, 39, 55]) expectRejected(dc, flip(raw, at), 'BAD_SEAL');
    expect(dc.pss.upload(raw).stored).to.equal(true);
  });

  it('rejects a customer swapped for another, in a record or in the customer list', function () {
    const records = sampleRecords(12, [1001, 1002, 1003]);
    const raw = hmacSample().nextBlock(records);
    const b = decodeBlock(raw);
    const recordsAt = blockHeadBytes(b.header.customers.length);
    // record 0's customer, 1001..1003 -> another customer number
    const swapped = raw.substr(0, recordsAt) + u32(records[0].customer === 1001 ? 1002 : 1001) + raw.substr(recordsAt + 4);
    expectRejected(dc, swapped, 'BAD_SEAL');
    // the customer list edited (1003 -> 1004)
    const listAt = 58 + 4 * b.header.customers.indexOf(1003);
    expectRejected(dc, raw.substr(0, listAt) + u32(1004) + raw.substr(listAt + 4), 'BAD_SEAL');
    // even sealed (a PSD bug or a stolen key), a list that is not the records' customers is implausible
    const d = hmacSample();
    const h = (customers: number[]) => sealBlock({ device: hmacDevice, seq: 1, from: d.time, to: d.time + 60, ascending: records.reduce((s, r) => s + r.amount, 0), descending: d.fundsTotal - records.reduce((s, r) => s + r.amount, 0), pieces: records.reduce((s, r) => s + r.pieces, 0), previousAscending: 0, previousPieces: 0, fundsTotal: d.fundsTotal, customers }, records, { algorithm: 1, deviceKey: hmacKey });
    expectRejected(dc, h([1001, 1002, 1004]), 'IMPLAUSIBLE');
    expectRejected(dc, h([1001, 1002]), 'IMPLAUSIBLE');
    expectRejected(dc, h([1003, 1002, 1001]), 'IMPLAUSIBLE');
    expect(dc.pss.upload(h([1001, 1002, 1003])).stored).to.equal(true);
  });

  it('stores a repeated upload once and confirms it again, identically', function () {
    const dev = hmacSample();
    const first = dev.nextBlock(sampleRecords(8));
    const a = dc.pss.upload(first);
    const fileBefore = dc.store.kind === 'sqlite' ? fs.statSync(dc.store.file, { bigint: true }) : null;
    const before = snapshot(dc);
    const b = dc.pss.upload(first);
    expect(b.stored).to.equal(false);
    expect(b.confirmation).to.equal(a.confirmation);
    expect(b.digest).to.equal(a.digest);
    expect(snapshot(dc)).to.deep.equal(before);
    if (fileBefore) expect(fs.statSync(dc.store.file, { bigint: true }).mtimeNs).to.equal(fileBefore.mtimeNs); // nothing written
    // also after the next block was stored (the PSD's confirmation of block 1 was lost twice)
    dc.pss.upload(dev.nextBlock(sampleRecords(8, [1], 2)));
    expect(dc.pss.upload(first)).to.deep.equal({ ...a, stored: false });
    expect(dc.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM records WHERE seq = 1')!.n).to.equal(8);
  });

  it('rejects a replayed block number with other contents, even validly sealed', function () {
    const dev = hmacSample();
    dc.pss.upload(dev.nextBlock(sampleRecords(8)));
    const other = hmacSample().nextBlock(sampleRecords(9, [5], 3)); // seq 1 again, other records
    expect(expectRejected(dc, other, 'REPLAY').message).to.match(/block 1 .*already stored/);
  });

  it('rejects a sequence gap, and block number 0', function () {
    const dev = hmacSample();
    dc.pss.upload(dev.nextBlock(sampleRecords(4)));
    dev.nextBlock(sampleRecords(4, [1], 2)); // block 2 never arrives
    expect(expectRejected(dc, dev.nextBlock(sampleRecords(4, [1], 3)), 'GAP').message).to.match(/block 2\.\.2 .*missing|blocks 2\.\.2 are missing/);
    const fresh = new SampleDevice(edDevice, { algorithm: 2, secretKey: edKeys.secretKey });
    fresh.seq = 1; // its first block would be 2
    expectRejected(dc, fresh.nextBlock(sampleRecords(2)), 'GAP');
    fresh.seq = -1; // block 0
    expectRejected(dc, fresh.nextBlock(sampleRecords(2)), 'IMPLAUSIBLE');
  });

  describe('rejects implausible (validly sealed) blocks', function () {
    const key = (): SampleKey => ({ algorithm: 1, deviceKey: hmacKey });
    let dev: SampleDevice;
    let records: CumulativeRecord[];
    let pieces: number;
    let amount: number;
    beforeEach(function () {
      dev = hmacSample();
      dc.pss.upload(dev.nextBlock(sampleRecords(6)));
      records = sampleRecords(6, [3001], 9);
      pieces = records.reduce((s, r) => s + r.pieces, 0);
      amount = records.reduce((s, r) => s + r.amount, 0);
    });
    function block2(change: Partial<Parameters<typeof sealBlock>[0]>, recs = records) {
      return sealBlock(
        { device: hmacDevice, seq: 2, from: dev.time, to: dev.time + 3600, ascending: dev.ascending + amount, descending: dev.descending - amount, pieces: dev.pieces + pieces, previousAscending: dev.ascending, previousPieces: dev.pieces, fundsTotal: dev.fundsTotal, ...change },
        recs,
        key()
      );
    }
    it('the good one first: block 2 as built is accepted', function () {
      expect(dc.pss.upload(block2({})).seq).to.equal(2);
    });
    it('pieces of the records != piece counter movement', function () {
      expect(expectRejected(dc, block2({ pieces: dev.pieces + pieces + 1 }), 'IMPLAUSIBLE').message).to.match(/pieces/);
    });
    it('amounts of the records != AR movement', function () {
      expect(expectRejected(dc, block2({ ascending: dev.ascending + amount - 5, descending: dev.descending - amount + 5 }), 'IMPLAUSIBLE').message).to.match(/postage|AR/);
    });
    it('AR + DR != funds loaded', function () {
      expect(expectRejected(dc, block2({ descending: dev.descending - amount + 1 }), 'IMPLAUSIBLE').message).to.match(/funds/);
    });
    it('previous registers that are not the stored block\'s', function () {
      expectRejected(dc, block2({ previousAscending: dev.ascending - 100, ascending: dev.ascending - 100 + amount, descending: dev.descending + 100 - amount }), 'IMPLAUSIBLE');
      expectRejected(dc, block2({ previousPieces: dev.pieces - 1, pieces: dev.pieces - 1 + pieces }), 'IMPLAUSIBLE');
    });
    it('from != the previous block\'s to, and to before from', function () {
      expect(expectRejected(dc, block2({ from: dev.time + 1 }), 'IMPLAUSIBLE').message).to.match(/from/);
      expect(expectRejected(dc, block2({ to: dev.time - 1 }), 'IMPLAUSIBLE').message).to.match(/before/);
    });
    it('a block that starts before the previous one ended: only at a trusted time the data center gave the device (a forward-dated clock set back)', function () {
      const back = dev.time - 5 * 86400;
      expect(expectRejected(dc, block2({ from: back, to: back + 60 }), 'IMPLAUSIBLE').message).to.match(/before the previous block's to .* no trusted time/);
      // another device's trusted time, or another time of this one, does not count
      dc.pss.noteTrustedTime(hmacDevice + 1, back);
      dc.pss.noteTrustedTime(hmacDevice, back + 1);
      expectRejected(dc, block2({ from: back, to: back + 60 }), 'IMPLAUSIBLE');
      dc.pss.noteTrustedTime(hmacDevice, back);
      expect(dc.pss.upload(block2({ from: back, to: back + 60 })).seq).to.equal(2);
      // a gap after it is still a gap
      expect(expectRejected(dc, sealBlock({ device: hmacDevice, seq: 3, from: back + 61, to: back + 120, ascending: dev.ascending + amount, descending: dev.descending - amount, pieces: dev.pieces + pieces, previousAscending: dev.ascending + amount, previousPieces: dev.pieces + pieces, fundsTotal: dev.fundsTotal }, [], key()), 'IMPLAUSIBLE').message).to.match(/gap in time/);
    });
    it('a record whose amount is not pieces x postage, or whose weight does not fit its band', function () {
      const bad = records.map((r, i) => (i === 2 ? { ...r, amount: r.amount + 1 } : r));
      expectRejected(dc, block2({ ascending: dev.ascending + amount + 1, descending: dev.descending - amount - 1 }, bad), 'IMPLAUSIBLE');
      const heavy = records.map((r, i) => (i === 1 ? { ...r, weightBand: 0, weight: r.pieces * 21 } : r));
      expectRejected(dc, block2({}, heavy), 'IMPLAUSIBLE');
      const category = records.map((r, i) => (i === 0 ? { ...r, category: 120 } : r));
      expectRejected(dc, block2({}, category), 'IMPLAUSIBLE');
    });
    it('summary records (bands and postages folded: band 255, postage 0) are taken on their sums only', function () {
      const folded = [...records.slice(0, 4), { customer: 3001, category: 77, weightBand: MIXED_BAND, postage: 0, pieces: 10, amount: 1234, weight: 4000 }];
      const p = folded.reduce((s, r) => s + r.pieces, 0);
      const a = folded.reduce((s, r) => s + r.amount, 0);
      const sums = { ascending: dev.ascending + a, descending: dev.descending - a, pieces: dev.pieces + p };
      const withPostage = folded.map((r) => (r.weightBand === MIXED_BAND ? { ...r, postage: 5 } : r));
      expect(expectRejected(dc, block2(sums, withPostage), 'IMPLAUSIBLE').message).to.match(/summary record/);
      const tooHeavy = folded.map((r) => (r.weightBand === MIXED_BAND ? { ...r, weight: 10 * 31501 } : r));
      expectRejected(dc, block2(sums, tooHeavy), 'IMPLAUSIBLE');
      expect(dc.pss.upload(block2(sums, folded)).stored).to.equal(true);
    });
    it('a first block whose previous registers are not zero', function () {
      const d = new SampleDevice(edDevice, { algorithm: 2, secretKey: edKeys.secretKey });
      d.ascending = 500;
      d.descending -= 500;
      d.pieces = 3;
      expectRejected(dc, d.nextBlock(sampleRecords(2)), 'IMPLAUSIBLE');
    });
  });

  it('rejects blocks of an unknown or revoked device', function () {
    expectRejected(dc, new SampleDevice(999999, { algorithm: 1, deviceKey: hmacKey }).nextBlock(sampleRecords(2)), 'UNKNOWN_DEVICE');
    const dev = hmacSample();
    dc.pss.upload(dev.nextBlock(sampleRecords(2)));
    dc.kms.revoke(hmacDevice);
    expectRejected(dc, dev.nextBlock(sampleRecords(2, [1], 2)), 'REVOKED');
  });

  it('rejects bytes that are not a block (empty, bad magic, truncated, trailing bytes, unknown algorithm)', function () {
    const raw = hmacSample().nextBlock(sampleRecords(3));
    expectRejected(dc, '', 'BAD_BLOCK');
    expectRejected(dc, 'XSB1' + raw.substr(4), 'BAD_BLOCK');
    expectRejected(dc, raw.substr(0, 70), 'BAD_BLOCK');
    expectRejected(dc, raw + '\0', 'BAD_BLOCK');
    expectRejected(dc, raw.substr(0, 4) + '\x07' + raw.substr(5), 'BAD_BLOCK');
    expect(dc.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM rejections WHERE device IS NULL')!.n).to.equal(5);
  });

  it('verifyBlock is pure: it reads only its context and changes nothing', function () {
    const raw = hmacSample().nextBlock(sampleRecords(3));
    const calls: string[] = [];
    const ctx: VerifyContext = {
      device: (d) => (calls.push('device'), d === hmacDevice ? { status: 'active', seal: 1, publicKey: null } : undefined),
      deviceKey: () => (calls.push('key'), hmacKey),
      lastBlock: () => (calls.push('last'), undefined),
      storedDigest: () => (calls.push('digest'), undefined)
    };
    const v = verifyBlock(raw, ctx);
    expect(v.ok && !v.repeat).to.equal(true);
    expect(calls).to.deep.equal(['device', 'key', 'last']);
    expect(verifyBlock(raw, { ...ctx, deviceKey: () => '\0'.repeat(32) })).to.include({ ok: false, code: 'BAD_SEAL' });
  });
});
