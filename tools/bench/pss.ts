// PSS throughput: sealed blocks and their records verified, and verified + stored + made
// durable (server/pss.ts: one SQLite transaction, then the whole database file written with
// fsync), per second. Verification with the libraries the PSS uses (@noble/hashes HMAC and
// SHA-256, tweetnacl Ed25519) beside node:crypto (OpenSSL), and uploads over TCP.
// `npm run bench -- pss`, or `node --import tsx tools/bench/pss.ts` on its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import nacl from 'tweetnacl';
import { verifyBlock, noblePrimitives, type SealPrimitives, type VerifyContext } from '../../server/verify.ts';
import { openDataCenter } from '../../server/datacenter.ts';
import { startService } from '../../server/service.ts';
import { SampleDevice, sampleRecords } from '../../server/sample-blocks.ts';
import { PssClient } from '../../host-bridge/pss-client.ts';
import { table, fmt, type Bench } from './common.ts';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
const nodeKeys = new Map<string, nodeCrypto.KeyObject>();

/** The same primitives over node:crypto; Ed25519 public keys are imported once (cached). */
export const nodePrimitives: SealPrimitives = {
  sha256: (s) => nodeCrypto.createHash('sha256').update(latin1(s)).digest().toString('latin1'),
  hmacSha256: (k, m) => nodeCrypto.createHmac('sha256', latin1(k)).update(latin1(m)).digest().toString('latin1'),
  ed25519Verify(publicKey, message, signature) {
    let key = nodeKeys.get(publicKey);
    if (!key) nodeKeys.set(publicKey, (key = nodeCrypto.createPublicKey({ key: Buffer.concat([spkiPrefix, latin1(publicKey)]), format: 'der', type: 'spki' })));
    return nodeCrypto.verify(null, latin1(message), key, latin1(signature));
  }
};

interface Fixture {
  blocks: string[];
  ctx: VerifyContext;
}

/** n first blocks (seq 1) of distinct devices, each of `records` records. */
function fixture(n: number, records: number, seal: 'hmac' | 'ed25519'): Fixture {
  const deviceKey = nodeCrypto.randomBytes(32).toString('latin1');
  const pair = nacl.sign.keyPair();
  const publicKey = Buffer.from(pair.publicKey).toString('latin1');
  const recs = sampleRecords(records);
  const blocks = Array.from({ length: n }, (_, i) => new SampleDevice(1 + i, seal === 'hmac' ? { algorithm: 1, deviceKey } : { algorithm: 2, secretKey: pair.secretKey }).nextBlock(recs));
  const facts = { status: 'active', seal: seal === 'hmac' ? 1 : 2, publicKey: seal === 'hmac' ? null : publicKey };
  return { blocks, ctx: { device: () => facts, deviceKey: () => deviceKey, lastBlock: () => undefined, storedDigest: () => undefined } };
}

function timeVerify(f: Fixture, prims: SealPrimitives): number {
  for (const b of f.blocks.slice(0, 20)) verifyBlock(b, f.ctx, prims); // warm up
  const t0 = performance.now();
  for (const b of f.blocks) {
    const v = verifyBlock(b, f.ctx, prims);
    if (!v.ok) throw new Error('bench block rejected: ' + v.code);
  }
  return (performance.now() - t0) / 1000;
}

async function timeStore(blocks: number, records: number): Promise<{ seconds: number; dbBytes: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-'));
  const dc = await openDataCenter(dir);
  try {
    const r = dc.kms.registerDevice('BENCH', 'pico');
    const dev = new SampleDevice(r.device, { algorithm: 1, deviceKey: r.deviceKey }, 1e13);
    const raws = Array.from({ length: blocks }, (_, i) => dev.nextBlock(sampleRecords(records, [1, 2, 3], i + 1)));
    const t0 = performance.now();
    for (const raw of raws) dc.pss.upload(raw);
    return { seconds: (performance.now() - t0) / 1000, dbBytes: dc.store.fileBytes() };
  } finally {
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function timeTcp(blocks: number, records: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-'));
  const dc = await openDataCenter(dir);
  const service = await startService(dc, { port: 0 });
  const client = await PssClient.connect(`127.0.0.1:${service.port}`);
  try {
    const r = dc.kms.registerDevice('BENCH-TCP', 'pico');
    const dev = new SampleDevice(r.device, { algorithm: 1, deviceKey: r.deviceKey }, 1e13);
    const raws = Array.from({ length: blocks }, (_, i) => dev.nextBlock(sampleRecords(records, [1, 2, 3], i + 1)));
    const t0 = performance.now();
    for (const raw of raws) await client.upload(raw);
    return (performance.now() - t0) / 1000;
  } finally {
    await client.close();
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const pss: Bench = {
  id: 'pss',
  title: 'PSS: sealed blocks verified, and verified + stored durably, per second',
  async run() {
    const rows: (string | number)[][] = [];
    const verifyCases: [string, 'hmac' | 'ed25519', number, number][] = [
      ['hmac', 'hmac', 16, 2000],
      ['hmac', 'hmac', 256, 400],
      ['ed25519', 'ed25519', 16, 1000],
      ['ed25519', 'ed25519', 256, 300]
    ];
    for (const [name, seal, records, n] of verifyCases) {
      const f = fixture(n, records, seal);
      for (const [lib, prims] of [
        [seal === 'hmac' ? '@noble/hashes' : 'tweetnacl + @noble/hashes', noblePrimitives],
        ['node:crypto', nodePrimitives]
      ] as [string, SealPrimitives][]) {
        const s = timeVerify(f, prims);
        rows.push([`verify ${name}`, lib, records, n, fmt(n / s), fmt((n * records) / s), fmt((s * 1e6) / n)]);
      }
    }
    for (const [records, n] of [
      [16, 100],
      [256, 100]
    ]) {
      const r = await timeStore(n, records);
      rows.push(['verify + store + fsync', '@noble + SQLite', records, n, fmt(n / r.seconds), fmt((n * records) / r.seconds), fmt((r.seconds * 1e6) / n)]);
      rows.push(['  (database file at the end)', `${fmt(r.dbBytes / 1024)} KB`, '', '', '', '', '']);
    }
    const tcpN = 50;
    const tcp = await timeTcp(tcpN, 256);
    rows.push(['upload over TCP (PssClient)', 'loopback, 14 frames each', 256, tcpN, fmt(tcpN / tcp), fmt((tcpN * 256) / tcp), fmt((tcp * 1e6) / tcpN)]);
    return [
      table(['what', 'library', 'records/block', 'blocks', 'blocks/s', 'records/s', 'µs/block'], rows),
      '',
      'Verify: decode, digest chain (SHA-256 per 16 records), seal, plausibility; no database.',
      'Store: one transaction (block + records), then the whole SQLite file exported and written',
      'with fsync + rename + directory fsync after every upload, so its cost grows with the file.',
      'The reference workload is one upload a day per PSD.'
    ].join('\n');
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  pss.run().then(
    (t) => console.log(t),
    (e) => {
      console.error('bench failed: ' + (e?.stack ?? e));
      process.exit(1);
    }
  );
}
