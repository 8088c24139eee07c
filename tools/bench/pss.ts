// PSS throughput: sealed blocks and their records verified, and verified + stored + made
// durable (server/pss.ts: one SQLite transaction per upload, WAL, synchronous=FULL), per
// second. Verification with the libraries the PSS uses (@noble/hashes HMAC and SHA-256,
// tweetnacl Ed25519) beside node:crypto (OpenSSL); raw SQLite inserts of the same rows as the
// ceiling; ingest over TCP with several uploaders at once (issue 11); `pss report` over many
// records (PSS_BENCH_REPORT_RECORDS, default 10,000,000; 0 skips it).
// `npm run bench -- pss`, or `node --import tsx tools/bench/pss.ts` on its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import nacl from 'tweetnacl';
import { verifyBlock, noblePrimitives, nodeCryptoPrimitives, type SealPrimitives, type VerifyContext } from '../../server/verify.ts';
import { openDataCenter } from '../../server/datacenter.ts';
import { startService } from '../../server/service.ts';
import { SampleDevice, sampleRecords } from '../../server/sample-blocks.ts';
import { Store } from '../../server/db.ts';
import { stringToHex, toBytes } from '../../server/bytestrings.ts';
import { spawnSync } from 'node:child_process';
import { PssClient } from '../../kit/pss-client.ts';
import { table, fmt, type Bench } from './common.ts';

/** node:crypto primitives (the PSS's own since issue 11). */
export const nodePrimitives: SealPrimitives = nodeCryptoPrimitives;

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

/** The ceiling: the same rows (a block and its records) inserted with no verification, one transaction per block, as the PSS stores them. */
async function timeRawInsert(blocks: number, records: number, synchronous: 'FULL' | 'NORMAL' = 'FULL'): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-raw-'));
  const store = await Store.open(dir);
  try {
    store.run("INSERT INTO devices(device, serial, board, seal, registered_at) VALUES (1, 'RAW', 'pico', 1, 0)");
    store.run(`PRAGMA synchronous = ${synchronous}`);
    const recs = sampleRecords(records);
    const raw = toBytes('x'.repeat(60 + records * 24 + 32));
    const digest = stringToHex('d'.repeat(32));
    const t0 = performance.now();
    for (let seq = 1; seq <= blocks; seq++) {
      store.change(() => {
        store.run(
          'INSERT INTO blocks(device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, raw, via, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [1, seq, seq, seq + 1, 0, 0, 0, 0, 0, 0, digest, raw, 'plain', seq]
        );
        store.runMany(
          'INSERT INTO records(device, seq, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          recs.map((r) => [1, seq, r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight])
        );
      });
    }
    return (performance.now() - t0) / 1000;
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Blocks of `records` records from `uploaders` devices, each uploading its chain on its own connection at once. */
async function timeIngest(uploaders: number, perUploader: number, records: number, seal: 'hmac' | 'ed25519'): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-ingest-'));
  const dc = await openDataCenter(dir);
  const service = await startService(dc, { port: 0 });
  const clients: PssClient[] = [];
  try {
    const chains: string[][] = [];
    for (let u = 0; u < uploaders; u++) {
      const reg = dc.kms.registerDevice(`INGEST-${u}`, seal === 'hmac' ? 'pico' : 'esp32');
      let key: ConstructorParameters<typeof SampleDevice>[1];
      if (seal === 'hmac') key = { algorithm: 1, deviceKey: reg.deviceKey };
      else {
        const pair = nacl.sign.keyPair();
        dc.kms.certify(reg.device, Buffer.from(pair.publicKey).toString('latin1'));
        key = { algorithm: 2, secretKey: pair.secretKey };
      }
      const dev = new SampleDevice(reg.device, key, 1e13);
      const recs = sampleRecords(records, [1, 2, 3], u + 1);
      chains.push(Array.from({ length: perUploader }, () => dev.nextBlock(recs)));
      clients.push(await PssClient.connect(`127.0.0.1:${service.port}`));
    }
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c, u) => {
        for (const raw of chains[u]) await c.upload(raw);
      })
    );
    const seconds = (performance.now() - t0) / 1000;
    if (dc.pss.counts().blocks !== uploaders * perUploader) throw new Error('ingest bench: not every block was stored');
    return seconds;
  } finally {
    for (const c of clients) await c.close();
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `pss report --by customer,class` over n records (blocks of 1,000), in a child process: its time and peak memory. */
export async function timeReport(n: number): Promise<{ fillSeconds: number; reportMs: number; maxRssMB: number; dbMB: number; rows: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-report-'));
  try {
    const store = await Store.open(dir);
    const t0 = performance.now();
    const per = 1000;
    const recs = sampleRecords(per, Array.from({ length: 100 }, (_, i) => 5000 + i));
    store.run("INSERT INTO devices(device, serial, board, seal, registered_at) VALUES (1, 'REPORT', 'pico', 1, 0)");
    store.run('PRAGMA synchronous = OFF');
    for (let seq = 1; seq * per <= n; seq++) {
      store.change(() => {
        store.run(
          'INSERT INTO blocks(device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, raw, via, received_at) VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, 0, ?, ?, ?, ?)',
          [1, seq, 1_790_000_000 + seq * 600, 1_790_000_000 + seq * 600 + 600, 'd', Buffer.alloc(1), 'plain', 0]
        );
        store.runMany(
          'INSERT INTO records(device, seq, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          recs.map((r) => [1, seq, r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight])
        );
      });
    }
    const fillSeconds = (performance.now() - t0) / 1000;
    store.close();
    const dbMB = fs.statSync(path.join(dir, 'pss.sqlite')).size / 1048576;
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'pss-report-child.ts'), dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (child.status !== 0) throw new Error('report child failed: ' + child.stderr);
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    return { fillSeconds, reportMs: r.ms, maxRssMB: r.maxRssKB / 1024, dbMB, rows: r.rows };
  } finally {
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
      rows.push(['verify + store + fsync', 'node:crypto + SQLite', records, n, fmt(n / r.seconds), fmt((n * records) / r.seconds), fmt((r.seconds * 1e6) / n)]);
      rows.push(['  (database file at the end)', `${fmt(r.dbBytes / 1024)} KB`, '', '', '', '', '']);
    }
    const tcpN = 50;
    const tcp = await timeTcp(tcpN, 256);
    rows.push(['upload over TCP (PssClient)', 'loopback, 14 frames each', 256, tcpN, fmt(tcpN / tcp), fmt((tcpN * 256) / tcp), fmt((tcp * 1e6) / tcpN)]);
    // issue 11: ingest of 50-record blocks over TCP by several uploaders, beside raw SQLite inserts
    const RAW_N = 2000;
    const raw = await timeRawInsert(RAW_N, 50);
    rows.push(['raw SQLite insert (ceiling)', 'better-sqlite3, 1 tx/block', 50, RAW_N, fmt(RAW_N / raw), fmt((RAW_N * 50) / raw), fmt((raw * 1e6) / RAW_N)]);
    const rawNormal = await timeRawInsert(RAW_N, 50, 'NORMAL');
    rows.push(['  same, synchronous=NORMAL', 'no fsync per commit (not used)', 50, RAW_N, fmt(RAW_N / rawNormal), fmt((RAW_N * 50) / rawNormal), fmt((rawNormal * 1e6) / RAW_N)]);
    const UPLOADERS = Number(process.env.PSS_BENCH_UPLOADERS ?? 16);
    for (const [seal, per] of [
      ['hmac', 4000],
      ['ed25519', 2400]
    ] as const) {
      const s = await timeIngest(UPLOADERS, Math.ceil(per / UPLOADERS), 50, seal);
      const n = UPLOADERS * Math.ceil(per / UPLOADERS);
      rows.push([`ingest over TCP, ${seal}`, `${UPLOADERS} uploaders, verify + store`, 50, n, fmt(n / s), fmt((n * 50) / s), fmt((s * 1e6) / n)]);
      if (seal === 'hmac') rows.push(['  (share of raw SQLite insert)', `${fmt((100 * (n / s)) / (RAW_N / raw))} %`, '', '', '', '', '']);
    }
    const text = [
      table(['what', 'library', 'records/block', 'blocks', 'blocks/s', 'records/s', 'µs/block'], rows),
      '',
      'Verify: decode, digest chain (SHA-256 per 16 records), seal, plausibility; no database.',
      'Store: one SQLite transaction per upload (block + records), WAL, synchronous=FULL: on disk',
      'before the confirmation leaves. Ingest: each uploader its own device and connection; a',
      '50-record block is 3 frames; the service commits the uploads that arrive in one turn of',
      'the event loop together (one fsync, a savepoint each). Targets (issue 11): 10,000 HMAC',
      'blocks/s and half the raw insert speed, 5,000 Ed25519 blocks/s. PostgreSQL: no backend yet.'
    ];
    const reportRecords = Number(process.env.PSS_BENCH_REPORT_RECORDS ?? 10_000_000);
    if (reportRecords > 0) {
      const r = await timeReport(reportRecords);
      text.push(
        '',
        table(
          ['pss report --by customer,class', 'records', 'database', 'filled in', 'report time', 'peak RSS (child)', 'rows'],
          [['SQLite', fmt(reportRecords), `${fmt(r.dbMB)} MB`, `${fmt(r.fillSeconds, 1)} s`, `${fmt(r.reportMs)} ms`, `${fmt(r.maxRssMB)} MB`, r.rows]]
        )
      );
    }
    return text.join('\n');
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
