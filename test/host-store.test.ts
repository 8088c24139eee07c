// The host store of sealed statistics blocks: round trip of an HMAC-sealed block, durable and
// idempotent writes, conflicts kept aside, every kind of damaged file reported and never
// handed out for upload, crash leftovers, random files (the `psd store` commands: host-store-commands.test.ts).
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { encodeBlock, encodeBlockHead, blockDigest, sealMessage, SEAL_ED25519 } from '../protocol/block.ts';
import { encodeRecord } from '../protocol/record-codec.ts';
import { toHex } from '../protocol/bytes.ts';
import { BlockStore, BlockConflictError, StoreError, blockFileName, contentChecksum, verifySignature, STALE_TEMP_MS } from '../host-bridge/store.ts';
import { sha256, deviceKey, records, header, hmacBlock, freshStore, readJson, writeJson, storeWithThree, removeStores } from '../testkit/host-store-fixtures.ts';

after(removeStores);

describe('host block store', () => {
  it('round trip: an HMAC-sealed block comes back byte for byte, its seal checks with an independent HMAC', async () => {
    const store = await freshStore();
    const { bytes, digest } = hmacBlock(7, 1);
    const at = new Date('2026-05-28T10:00:00.000Z');
    const r = await store.put(bytes, { port: 'tcp://127.0.0.1:4000', extractedAt: at });
    expect(r).to.deep.equal({ outcome: 'stored', file: 'PSD-7-0000000001.json', device: 7, seq: 1, digest: toHex(digest) });

    const got = (await store.get(7, 1))!;
    expect(got.bytes).to.equal(bytes);
    expect(got.block.header.device).to.equal(7);
    expect(got.block.header.seq).to.equal(1);
    expect(got.block.records).to.deep.equal(records(1));
    expect(got.content.status).to.equal('stored');
    // the seal the PSD would make, checked with node's HMAC, not the firmware's
    const seal = nodeCrypto.createHmac('sha256', Buffer.from(deviceKey, 'latin1')).update(Buffer.from(sealMessage(digest), 'latin1')).digest();
    expect(Buffer.from(got.block.seal, 'latin1').equals(seal)).to.equal(true);

    expect(await store.list()).to.deep.equal([
      { file: r.file, kind: 'block', device: 7, seq: 1, digest: toHex(digest), status: 'stored', extractedAt: at.toISOString(), recordCount: 3 }
    ]);
    expect((await store.pending()).map((p) => p.bytes)).to.deep.equal([bytes]);
    expect(await store.get(7, 2)).to.equal(undefined);
  });

  it('durability: the file holds the block, digest and metadata; no temp file stays; 0700 directory, 0600 file', async () => {
    const store = await freshStore();
    const { bytes, digest } = hmacBlock(42, 12);
    await store.put(bytes, { port: '/dev/ttyUSB1', extractedAt: new Date('2026-05-28T10:00:00.000Z') });
    expect(await fs.readdir(store.dir)).to.deep.equal(['PSD-42-0000000012.json']);
    const j = await readJson(store, 'PSD-42-0000000012.json');
    expect(j).to.include({ format: 'psd-block/1', device: 42, seq: 12, digest: toHex(digest), block: toHex(bytes), port: '/dev/ttyUSB1', status: 'stored', extractedAt: '2026-05-28T10:00:00.000Z' });
    expect(j.checksum).to.match(/^[0-9a-f]{64}$/);
    if (process.platform !== 'win32') {
      expect((await fs.stat(store.dir)).mode & 0o777).to.equal(0o700);
      expect((await fs.stat(path.join(store.dir, 'PSD-42-0000000012.json'))).mode & 0o777).to.equal(0o600);
    }
  });

  it('reading a store that does not exist lists nothing and creates nothing', async () => {
    const store = await freshStore();
    expect(await store.list()).to.deep.equal([]);
    expect(await store.pending()).to.deep.equal([]);
    expect(await store.get(7, 1)).to.equal(undefined);
    expect(await fs.stat(store.dir).catch((e) => e.code)).to.equal('ENOENT');
  });

  it('names sort by seq: 10-digit sequence numbers', () => {
    expect(blockFileName(7, 2)).to.equal('PSD-7-0000000002.json');
    expect(blockFileName(7, 4294967295)).to.equal('PSD-7-4294967295.json');
    expect([blockFileName(1, 10), blockFileName(1, 9)].sort()).to.deep.equal([blockFileName(1, 9), blockFileName(1, 10)]);
  });

  it('refuses a malformed block and writes nothing', async () => {
    const store = await freshStore();
    const { bytes } = hmacBlock(7, 1);
    for (const bad of [bytes.slice(0, -1), 'XXXX' + bytes.slice(4), '']) {
      let err: any;
      await store.put(bad, { port: 'p' }).catch((e) => (err = e));
      expect(err).to.be.instanceOf(StoreError);
      expect(err.message).to.match(/refusing to store a malformed block: /);
    }
    expect(await fs.readdir(store.dir)).to.deep.equal([]);
  });

  it('putting the same block again is a no-op ("exists"), the file is not rewritten', async () => {
    const store = await freshStore();
    const { bytes } = hmacBlock(7, 1);
    await store.put(bytes, { port: 'a' });
    const before = await fs.readFile(path.join(store.dir, 'PSD-7-0000000001.json'), 'utf8');
    const r = await store.put(bytes, { port: 'b', extractedAt: new Date(0) });
    expect(r.outcome).to.equal('exists');
    expect(await fs.readFile(path.join(store.dir, 'PSD-7-0000000001.json'), 'utf8')).to.equal(before);
    expect(await fs.readdir(store.dir)).to.have.length(1);
  });

  it('a different block with the same device and seq: the first stays, the second is kept aside and reported', async () => {
    const store = await freshStore();
    const first = hmacBlock(7, 1);
    const second = hmacBlock(7, 1, 1);
    await store.put(first.bytes, { port: 'a' });
    let err: any;
    await store.put(second.bytes, { port: 'a' }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(BlockConflictError);
    const aside = `PSD-7-0000000001.conflict-${toHex(second.digest).slice(0, 8)}.json`;
    expect(err.conflictFile).to.equal(aside);
    expect(err.message).to.match(/block conflict: device 7 seq 1 .* kept PSD-7-0000000001\.json/);
    expect((await store.get(7, 1))!.bytes).to.equal(first.bytes);
    expect((await readJson(store, aside)).block).to.equal(toHex(second.bytes));

    const list = await store.list();
    expect(list.map((e) => [e.file, e.kind, !!e.problem])).to.deep.equal([
      ['PSD-7-0000000001.conflict-' + toHex(second.digest).slice(0, 8) + '.json', 'conflict', true],
      ['PSD-7-0000000001.json', 'block', false]
    ]);
    expect(list[0].problem).to.match(/^conflict: a different block claims device 7 seq 1; kept aside, never uploaded$/);
    expect((await store.pending()).map((p) => p.bytes)).to.deep.equal([first.bytes]);

    // putting the conflicting block again conflicts again and adds no file
    await store.put(second.bytes, { port: 'a' }).then(
      () => expect.fail('second conflict accepted'),
      (e) => expect(e).to.be.instanceOf(BlockConflictError)
    );
    expect(await fs.readdir(store.dir)).to.have.length(2);
  });

  it('the same digest with a different seal is refused, the stored block is kept', async () => {
    const store = await freshStore();
    const { bytes } = hmacBlock(7, 1);
    await store.put(bytes, { port: 'a' });
    const forged = bytes.slice(0, -1) + String.fromCharCode(bytes.charCodeAt(bytes.length - 1) ^ 1);
    await store.put(forged, { port: 'a' }).then(
      () => expect.fail('accepted'),
      (e) => expect(e.message).to.match(/same digest as PSD-7-0000000001\.json but a different seal/)
    );
    expect((await store.get(7, 1))!.bytes).to.equal(bytes);
  });

  describe('damaged files are reported and never good', () => {
    const NAME = 'PSD-7-0000000002.json';
    const cases: { what: string; damage: (s: BlockStore) => Promise<void>; problem: RegExp; file?: string }[] = [
      {
        what: 'one hex digit of the block changed',
        damage: async (s) => {
          const j = await readJson(s, NAME);
          const at = j.block.length - 200; // inside the records
          j.block = j.block.slice(0, at) + (j.block[at] === '0' ? '1' : '0') + j.block.slice(at + 1);
          await writeJson(s, NAME, j);
        },
        problem: /checksum mismatch: the file was changed after it was written; digest does not match the block/
      },
      {
        what: 'one hex digit of the block changed and the checksum recomputed',
        damage: async (s) => {
          const j = await readJson(s, NAME);
          const at = j.block.length - 200;
          j.block = j.block.slice(0, at) + (j.block[at] === '0' ? '1' : '0') + j.block.slice(at + 1);
          const { checksum, ...rest } = j;
          j.checksum = contentChecksum(rest);
          await writeJson(s, NAME, j);
        },
        problem: /^digest does not match the block$/
      },
      {
        what: 'the status edited (stored -> confirmed, a way to hide a block from upload)',
        damage: async (s) => {
          const j = await readJson(s, NAME);
          j.status = 'confirmed';
          j.confirmedAt = new Date().toISOString();
          await writeJson(s, NAME, j);
        },
        problem: /^checksum mismatch/
      },
      {
        what: 'the checksum field edited',
        damage: async (s) => {
          const j = await readJson(s, NAME);
          j.checksum = (j.checksum[0] === 'a' ? 'b' : 'a') + j.checksum.slice(1);
          await writeJson(s, NAME, j);
        },
        problem: /^checksum mismatch: the file was changed after it was written$/
      },
      {
        what: 'the JSON truncated',
        damage: async (s) => {
          const text = await fs.readFile(path.join(s.dir, NAME), 'utf8');
          await fs.writeFile(path.join(s.dir, NAME), text.slice(0, Math.floor(text.length / 2)));
        },
        problem: /^not valid JSON \(truncated, or not a block file\): /
      },
      {
        what: 'the file renamed to another seq',
        damage: async (s) => fs.rename(path.join(s.dir, NAME), path.join(s.dir, 'PSD-7-0000000009.json')),
        problem: /^file name says device 7 seq 9, the content is device 7 seq 2$/,
        file: 'PSD-7-0000000009.json'
      },
      {
        what: 'the file renamed to another device',
        damage: async (s) => fs.rename(path.join(s.dir, NAME), path.join(s.dir, 'PSD-8-0000000002.json')),
        problem: /^file name says device 8 seq 2, the content is device 7 seq 2$/,
        file: 'PSD-8-0000000002.json'
      },
      {
        what: 'a garbage file with a block name',
        damage: async (s) => fs.writeFile(path.join(s.dir, NAME), nodeCrypto.randomBytes(300)),
        problem: /^not valid JSON/
      },
      {
        what: 'a garbage file with another name',
        damage: async (s) => {
          await fs.rm(path.join(s.dir, NAME));
          await fs.writeFile(path.join(s.dir, 'notes.txt'), 'hello');
        },
        problem: /^not a block file \(unexpected name in the block store\)$/,
        file: 'notes.txt'
      },
      {
        what: 'a field added',
        damage: async (s) => {
          const j = await readJson(s, NAME);
          j.note = 'uploaded by hand';
          await writeJson(s, NAME, j);
        },
        problem: /^unexpected field note$/
      }
    ];
    for (const c of cases) {
      it(c.what, async () => {
        const store = await storeWithThree();
        await c.damage(store);
        const list = await store.list();
        const bad = list.filter((e) => e.problem);
        expect(bad.map((e) => e.file)).to.deep.equal([c.file ?? NAME]);
        expect(bad[0].problem).to.match(c.problem);
        expect(list.filter((e) => !e.problem).map((e) => e.seq)).to.deep.equal([1, 3]);
        expect((await store.pending()).map((p) => p.content.seq)).to.deep.equal([1, 3]);
        if (!c.file) {
          let err: any;
          await store.get(7, 2).catch((e) => (err = e));
          expect(err, 'get of a damaged file').to.be.instanceOf(StoreError);
          expect(err.message).to.match(/^PSD-7-0000000002\.json is damaged: /);
          await store.markUploaded(7, 2).then(
            () => expect.fail('marked a damaged file'),
            (e) => expect(e.message).to.match(/is damaged/)
          );
        }
      });
    }

    it('reading the block again from the PSD repairs the store and keeps the damaged copy aside', async () => {
      const store = await storeWithThree();
      await fs.writeFile(path.join(store.dir, NAME), '{"format": "psd-blo');
      const r = await store.put(hmacBlock(7, 2).bytes, { port: 'a' });
      expect(r.outcome).to.equal('replaced-damaged');
      expect(r.damagedCopy).to.match(/^PSD-7-0000000002\.damaged-\d{8}T\d{6}Z\.json$/);
      expect(await fs.readFile(path.join(store.dir, r.damagedCopy!), 'utf8')).to.equal('{"format": "psd-blo');
      expect((await store.pending()).map((p) => p.content.seq)).to.deep.equal([1, 2, 3]);
      const copy = (await store.list()).find((e) => e.kind === 'damaged-copy')!;
      expect(copy.problem).to.match(/^damaged copy set aside when the block was read again from the PSD; not valid JSON/);
    });
  });

  it('status: stored -> uploaded -> confirmed, never backwards; confirmed blocks stay until pruned', async () => {
    const store = await storeWithThree();
    const up = await store.markUploaded(7, 1);
    expect(up.content.status).to.equal('uploaded');
    expect(up.content.uploadedAt).to.match(/^\d{4}-\d\d-\d\dT/);
    expect((await store.pending()).map((p) => [p.content.seq, p.content.status])).to.deep.equal([
      [1, 'uploaded'],
      [2, 'stored'],
      [3, 'stored']
    ]);
    await store.markConfirmed(7, 1, toHex(hmacBlock(7, 1).digest));
    await store.markConfirmed(7, 2); // confirmed in the session that uploaded it
    await store.markUploaded(7, 2); // late: must not undo the confirmation
    const list = await store.list();
    expect(list.map((e) => [e.seq, e.status, !!e.confirmedAt, e.problem])).to.deep.equal([
      [1, 'confirmed', true, undefined],
      [2, 'confirmed', true, undefined],
      [3, 'stored', false, undefined]
    ]);
    expect((await store.pending()).map((p) => p.content.seq)).to.deep.equal([3]);
    await store.markConfirmed(7, 3, '00'.repeat(32)).then(
      () => expect.fail('confirmed with the wrong digest'),
      (e) => expect(e.message).to.match(/the confirmation is for digest 0{64}, the stored block has [0-9a-f]{64}/)
    );
    await store.markUploaded(7, 4).then(
      () => expect.fail('marked a missing block'),
      (e) => expect(e.message).to.match(/no block for device 7 seq 4/)
    );
    expect(await store.prune(1)).to.deep.equal([]);
    expect(await store.prune(1, Date.now() + 2 * 86400000)).to.deep.equal(['PSD-7-0000000001.json', 'PSD-7-0000000002.json']);
    expect(await fs.readdir(store.dir)).to.deep.equal(['PSD-7-0000000003.json']);
  });

  it('a crash between the temp write and the rename leaves the store consistent; stale temp files are cleaned', async () => {
    const store = await storeWithThree();
    const { bytes } = hmacBlock(7, 4);
    // what a crash leaves: a temp file, half written, never renamed
    const temp = path.join(store.dir, '.tmp-PSD-7-0000000004.json-999-abc');
    await fs.writeFile(temp, '{"format":"psd-block/1","device":7,"seq":4,"block":"' + toHex(bytes).slice(0, 100));
    expect((await store.list()).map((e) => e.file)).to.deep.equal(['PSD-7-0000000001.json', 'PSD-7-0000000002.json', 'PSD-7-0000000003.json']);
    expect(await fs.readdir(store.dir)).to.include('.tmp-PSD-7-0000000004.json-999-abc'); // may be a write in progress
    expect((await store.put(bytes, { port: 'a' })).outcome).to.equal('stored');
    expect((await store.pending()).map((p) => p.content.seq)).to.deep.equal([1, 2, 3, 4]);
    const old = (Date.now() - STALE_TEMP_MS - 60000) / 1000;
    await fs.utimes(temp, old, old);
    await store.list();
    expect((await fs.readdir(store.dir)).sort()).to.deep.equal(['PSD-7-0000000001.json', 'PSD-7-0000000002.json', 'PSD-7-0000000003.json', 'PSD-7-0000000004.json']);
  });

  it('list orders by device, then seq (numerically)', async () => {
    const store = await freshStore();
    for (const [d, s] of [
      [20, 2],
      [3, 11],
      [20, 1],
      [3, 2]
    ])
      await store.put(hmacBlock(d, s).bytes, { port: 'a' });
    expect((await store.list()).map((e) => [e.device, e.seq])).to.deep.equal([
      [3, 2],
      [3, 11],
      [20, 1],
      [20, 2]
    ]);
  });

  describe('random files never crash list() and are never good (fast-check)', () => {
    it('random bytes under a block name', async () => {
      const store = await freshStore();
      await fs.mkdir(store.dir);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (b) => {
          await fs.writeFile(path.join(store.dir, 'PSD-9-0000000001.json'), b);
          const list = await store.list();
          expect(list).to.have.length(1);
          expect(list[0].problem).to.be.a('string');
          expect(await store.pending()).to.deep.equal([]);
        }),
        { numRuns: 200 }
      );
    });

    it('random JSON under a block name', async () => {
      const store = await freshStore();
      await fs.mkdir(store.dir);
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (v) => {
          await fs.writeFile(path.join(store.dir, 'PSD-9-0000000001.json'), JSON.stringify(v) ?? '');
          const list = await store.list();
          expect(list[0].problem).to.be.a('string');
          expect(await store.pending()).to.deep.equal([]);
        }),
        { numRuns: 200 }
      );
    });

    it('one visible character of a good file changed', async () => {
      const store = await freshStore();
      await store.put(hmacBlock(9, 1).bytes, { port: '/dev/ttyACM0' });
      const file = path.join(store.dir, 'PSD-9-0000000001.json');
      const text = await fs.readFile(file, 'utf8');
      const visible = [...text].map((ch, i) => (/\s/.test(ch) ? -1 : i)).filter((i) => i >= 0);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...visible), fc.integer({ min: 33, max: 126 }), async (at, code) => {
          fc.pre(text.charCodeAt(at) !== code);
          await fs.writeFile(file, text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1));
          const list = await store.list();
          expect(list[0].problem, `char ${at} -> ${String.fromCharCode(code)}`).to.be.a('string');
          expect(await store.pending()).to.deep.equal([]);
        }),
        { numRuns: 300 }
      );
    });
  });

  it('Ed25519 seals verify on the host with the device public key (signed by node:crypto, checked with tweetnacl)', () => {
    const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync('ed25519');
    const publicHex = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
    const recs = records(1);
    const h = header(7, 1, recs, SEAL_ED25519);
    const digest = blockDigest(sha256, encodeBlockHead(h), recs.map(encodeRecord).join(''));
    const signature = nodeCrypto.sign(null, Buffer.from(sealMessage(digest), 'latin1'), privateKey).toString('latin1');
    const bytes = encodeBlock(h, recs, signature);
    expect(verifySignature(bytes, publicHex)).to.equal(true);
    const other = Buffer.from(nodeCrypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
    expect(verifySignature(bytes, other)).to.equal(false);
    // a record changed after sealing
    const at = bytes.length - 64 - 5;
    expect(verifySignature(bytes.slice(0, at) + String.fromCharCode(bytes.charCodeAt(at) ^ 1) + bytes.slice(at + 1), publicHex)).to.equal(false);
    expect(() => verifySignature(hmacBlock(7, 1).bytes, publicHex)).to.throw(/sealed with HMAC-SHA256: only the PSD and the PSS hold its key/);
  });
});
