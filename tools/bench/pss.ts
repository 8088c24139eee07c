// PSS throughput: sealed blocks and their records verified, and verified + stored + made
// durable (server/pss.ts, server/ingest-writer.ts: a transaction per group of uploads in the
// ingest writer's thread, WAL synced or COMMIT returned before a confirmation leaves), per
// second. Verification with the libraries the
// PSS uses beside the alternatives; raw inserts of the same rows as the ceiling; ingest over
// TCP with several uploaders at once (issue 11), the uploaders in a process of their own
// (pss-uploaders.ts), on SQLite and on PostgreSQL (a throwaway server, tools/pg-server.ts,
// with fsync on). `npm run bench -- pss`; `npm run bench -- pss-report`: `pss report` over
// 10 million records (PSS_BENCH_REPORT_RECORDS) on both backends.
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
import { openStore, type PssStore } from '../../server/db.ts';
import { findPostgres, startPostgres, type PgServer } from '../pg-server.ts';
import { stringToHex, toBytes } from '../../server/bytestrings.ts';
import { spawnSync, spawn } from 'node:child_process';
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

const INSERT_BLOCK =
  'INSERT INTO blocks(device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, raw, via, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_RECORDS = 'INSERT INTO records(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * The ceiling: the same rows (a block and its records) inserted with no verification and no
 * network, as the PSS stores them: one durable transaction per block (group 1), or `group`
 * blocks per transaction and one sync (what the service's group commit does).
 */
export async function timeRawInsert(blocks: number, records: number, group: number, db?: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-raw-'));
  const store = await openStore(dir, db ?? 'sqlite');
  try {
    store.run("INSERT INTO devices(device, serial, board, seal, registered_at) VALUES (1, 'RAW', 'pico', 1, 0)");
    const recs = sampleRecords(records);
    const raw = toBytes('x'.repeat(60 + records * 24 + 32));
    const digest = stringToHex('d'.repeat(32));
    const insert = (seq: number) => {
      store.run(INSERT_BLOCK, [1, seq, seq, seq + 1, 0, 0, 0, 0, 0, 0, digest, raw, 'plain', seq]);
      store.runMany(INSERT_RECORDS, recs.map((r, n) => [1, seq, n, r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight]));
    };
    const t0 = performance.now();
    for (let seq = 1; seq <= blocks; seq += group) {
      if (group === 1) store.change(() => insert(seq));
      else await Promise.all(Array.from({ length: Math.min(group, blocks - seq + 1) }, (_, i) => store.changeGrouped(() => insert(seq + i))));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU seconds of an ingest run (all threads): the service's process (from the uploaders' start
 * to their end: it is idle while they load) and the uploaders' while uploading. */
export interface IngestCpu {
  service: number;
  uploaders: number;
}

/**
 * Blocks of `records` records from `uploaders` devices, each uploading its chain on its own
 * connection at once, from a process of their own (pss-uploaders.ts).
 */
export async function timeIngest(uploaders: number, perUploader: number, records: number, seal: 'hmac' | 'ed25519', db?: string, cpu?: IngestCpu): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-ingest-'));
  const dc = await openDataCenter(dir, undefined, undefined, db ?? 'sqlite');
  const service = await startService(dc, { port: 0 });
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
      chains.push(Array.from({ length: perUploader }, () => stringToHex(dev.nextBlock(recs))));
    }
    const file = path.join(dir, 'chains.json');
    fs.writeFileSync(file, JSON.stringify(chains));
    const cpu0 = process.cpuUsage();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'pss-uploaders.ts'), `127.0.0.1:${service.port}`, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error('ingest uploaders failed: ' + err);
    const used = process.cpuUsage(cpu0);
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number; stored: number; cpuSeconds: number };
    if (cpu) {
      cpu.service = (used.user + used.system) / 1e6;
      cpu.uploaders = r.cpuSeconds;
    }
    if (r.stored !== uploaders * perUploader || dc.pss.counts().blocks !== uploaders * perUploader) throw new Error('ingest bench: not every block was stored');
    return r.seconds;
  } finally {
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `pss report --by customer,class` over n records (blocks of 1,000; 100 customers, 10
 * classes) in a child process: its time and peak memory. The rows are made by the database
 * itself (a recursive CTE in SQLite, generate_series in PostgreSQL), 1,000 blocks a statement.
 */
export async function timeReport(n: number, db?: string): Promise<{ fillSeconds: number; reportMs: number; maxRssMB: number; dbMB: number; rows: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-bench-report-'));
  try {
    const store = await openStore(dir, db ?? 'sqlite');
    const pg = store.kind === 'postgres';
    const t0 = performance.now();
    const per = 1000;
    const blocks = Math.floor(n / per);
    store.run("INSERT INTO devices(device, serial, board, seal, registered_at) VALUES (1, 'REPORT', 'pico', 1, 0)");
    const record = (i: string, b: string) =>
      `1, ${b}, ${i}, 5000 + ${i} % 100, (${i} / 100) % 10, ${i} % 6, 50 + (${i} % 40) * 5, 1 + ${i} % 300, (1 + ${i} % 300) * (50 + (${i} % 40) * 5), (1 + ${i} % 300) * 20`;
    const columns = 'device, seq, n, customer, category, weight_band, postage, pieces, amount, weight';
    for (let lo = 1; lo <= blocks; lo += 1000) {
      const hi = Math.min(blocks, lo + 999);
      const blockRow = (b: string) => `1, ${b}, 1790000000 + ${b} * 600, 1790000600 + ${b} * 600, 0, 0, 0, 0, 0, 0, 'd', ${pg ? "'\\x00'::bytea" : "x'00'"}, 'plain', 0`;
      store.change(() => {
        if (pg) {
          store.run(`INSERT INTO blocks SELECT ${blockRow('b')} FROM generate_series(${lo}, ${hi}) b`);
          store.run(`INSERT INTO records(${columns}) SELECT ${record('i', 'b')} FROM generate_series(${lo}, ${hi}) b CROSS JOIN generate_series(0, ${per - 1}) i`);
        } else {
          store.run(`WITH RECURSIVE s(b) AS (SELECT ${lo} UNION ALL SELECT b + 1 FROM s WHERE b < ${hi}) INSERT INTO blocks SELECT ${blockRow('b')} FROM s`);
          store.run(
            `WITH RECURSIVE s(b) AS (SELECT ${lo} UNION ALL SELECT b + 1 FROM s WHERE b < ${hi}), k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ${per - 1}) INSERT INTO records(${columns}) SELECT ${record('i', 'b')} FROM s CROSS JOIN k`
          );
        }
      });
    }
    if (pg) store.run('ANALYZE');
    const fillSeconds = (performance.now() - t0) / 1000;
    const dbMB = (pg ? store.fileBytes() : fs.statSync(path.join(dir, 'pss.sqlite')).size + (fs.existsSync(path.join(dir, 'pss.sqlite-wal')) ? fs.statSync(path.join(dir, 'pss.sqlite-wal')).size : 0)) / 1048576;
    store.close();
    const env = { ...process.env, PSS_DB: db ?? 'sqlite' };
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'pss-report-child.ts'), dir], { encoding: 'utf8', maxBuffer: 1 << 26, env });
    if (child.status !== 0) throw new Error('report child failed: ' + child.stderr);
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    return { fillSeconds, reportMs: r.ms, maxRssMB: r.maxRssKB / 1024, dbMB, rows: r.rows };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A throwaway PostgreSQL server with fsync on (as a deployment), or why there is none. */
async function postgres(): Promise<{ server: PgServer } | { missing: string }> {
  const found = findPostgres();
  if ('missing' in found) return found;
  try {
    return { server: await startPostgres({ durable: true }) };
  } catch (e) {
    return { missing: (e as Error).message.split('\n')[0] };
  }
}

const INGEST_HEADER = ['what', 'backend', 'how', 'records/block', 'blocks', 'blocks/s', 'records/s', 'µs/block'];

/** The best (shortest) of `runs` timings: other work on the machine only ever slows a run down. */
async function best(runs: number, time: () => Promise<number>): Promise<number> {
  let s = Infinity;
  for (let i = 0; i < runs; i++) s = Math.min(s, await time());
  return s;
}

export const pss: Bench = {
  id: 'pss',
  title: 'PSS: sealed blocks verified, and verified + stored durably, per second (SQLite and PostgreSQL)',
  async run() {
    const rows: (string | number)[][] = [];
    const verifyCases: [string, 'hmac' | 'ed25519', number, number][] = [
      ['hmac', 'hmac', 50, 2000],
      ['ed25519', 'ed25519', 50, 1000]
    ];
    for (const [name, seal, records, n] of verifyCases) {
      const f = fixture(n, records, seal);
      for (const [lib, prims] of [
        [seal === 'hmac' ? '@noble/hashes' : 'tweetnacl + @noble/hashes', noblePrimitives],
        ['node:crypto (the PSS)', nodePrimitives]
      ] as [string, SealPrimitives][]) {
        const s = timeVerify(f, prims);
        rows.push([`verify ${name} only`, '-', lib, records, n, fmt(n / s), fmt((n * records) / s), fmt((s * 1e6) / n)]);
      }
    }
    const tcpN = 50;
    const tcp = await timeTcp(tcpN, 256);
    rows.push(['upload over TCP, one client', 'SQLite', '1 PssClient, 14 frames each', 256, tcpN, fmt(tcpN / tcp), fmt((tcpN * 256) / tcp), fmt((tcp * 1e6) / tcpN)]);
    const UPLOADERS = Number(process.env.PSS_BENCH_UPLOADERS ?? 32);
    const RUNS = Math.max(1, Number(process.env.PSS_BENCH_RUNS ?? 3));
    const pgs = await postgres();
    const backends: [string, string | undefined, number][] = [['SQLite', undefined, 1]];
    if ('server' in pgs) backends.push(['PostgreSQL', pgs.server.url('pss_bench_{data}'), 0.25]);
    // backend -> what -> blocks/s, for the summary against the targets
    const rates: Record<string, Record<string, number>> = {};
    try {
      for (const [backend, db, scale] of backends) {
        const rate = (rates[backend] = {} as Record<string, number>);
        const RAW_N = Math.round(2000 * scale);
        const raw1 = await best(RUNS, () => timeRawInsert(RAW_N, 50, 1, db));
        rows.push(['raw insert (ceiling)', backend, '1 transaction + sync per block', 50, RAW_N, fmt(RAW_N / raw1), fmt((RAW_N * 50) / raw1), fmt((raw1 * 1e6) / RAW_N)]);
        rate.raw = RAW_N / raw1;
        for (const group of [32, 256]) {
          const RAW_G = Math.round(8192 * scale);
          const rawG = await best(RUNS, () => timeRawInsert(RAW_G, 50, group, db));
          rows.push(['raw insert (ceiling)', backend, `${group} blocks per transaction + sync`, 50, RAW_G, fmt(RAW_G / rawG), fmt((RAW_G * 50) / rawG), fmt((rawG * 1e6) / RAW_G)]);
          rate.raw = Math.max(rate.raw, RAW_G / rawG);
        }
        for (const [seal, per] of [
          ['hmac', 8000 * scale],
          ['ed25519', 6000 * scale]
        ] as const) {
          const each = Math.ceil(per / UPLOADERS);
          const n = UPLOADERS * each;
          const s = await best(RUNS, () => timeIngest(UPLOADERS, each, 50, seal, db));
          rows.push([`ingest over TCP, ${seal}`, backend, `${UPLOADERS} uploaders at once, pipelined, verify + store`, 50, n, fmt(n / s), fmt((n * 50) / s), fmt((s * 1e6) / n)]);
          rate[seal] = n / s;
        }
      }
    } finally {
      if ('server' in pgs) pgs.server.stop();
    }
    if ('missing' in pgs) rows.push(['PostgreSQL', 'not measured', pgs.missing, '', '', '', '', '']);
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const summary: (string | number)[][] = [];
    for (const [backend, r] of Object.entries(rates)) {
      const sqlite = backend === 'SQLite';
      summary.push([`${backend} HMAC ingest`, fmt(r.hmac), sqlite ? '10,000' : '-', sqlite ? met(r.hmac >= 10000) : '']);
      summary.push([`${backend} HMAC ingest / best raw insert`, `${fmt((100 * r.hmac) / r.raw)} %`, sqlite ? '50 %' : '-', sqlite ? met(r.hmac >= r.raw / 2) : '']);
      summary.push([`${backend} Ed25519 ingest`, fmt(r.ed25519), sqlite ? '5,000' : '-', sqlite ? met(r.ed25519 >= 5000) : '']);
      summary.push([`${backend} raw insert, best of the three ways`, fmt(r.raw), '-', '']);
    }
    return [
      table(INGEST_HEADER, rows),
      '',
      table(['blocks/s of 50 records (issue 11)', 'measured', 'target', ''], summary),
      '',
      `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end (other work on the machine counts;`,
      `each raw and ingest figure is the best of ${RUNS} runs, PSS_BENCH_RUNS). Verify: decode, digest chain (SHA-256 per 16 records), seal,`,
      'plausibility; no database. Store: one transaction per group of uploads (block + records, each all or',
      "nothing), made durable before the confirmations leave: SQLite's WAL fdatasync'd (server/db.ts), PostgreSQL's",
      'commit (fsync on). Records: one row each, keyed (device, seq, n), no other index (SQLite: WITHOUT ROWID, its',
      'WAL checkpointed in a thread of its own, server/wal-checkpoints.ts). Ingest: each uploader its own device and',
      'connection, all in one other process',
      '(tools/bench/pss-uploaders.ts), each sending its chain pipelined (PssClient.uploadMany, as `psd upload` does:',
      'a 50-record block is 3 frames, up to 48 frames in flight); the event loop reads the frames and verifies the',
      'blocks (their seals in a worker thread once uploads crowd in, server/seal-pool.ts), the ingest writer thread',
      '(server/ingest-writer.ts) stores what it was handed meanwhile in one transaction and answers once it is durable.',
      'Raw insert: the same rows, no verification, no network. PostgreSQL: a throwaway server (tools/pg-server.ts)',
      'on this machine, over its Unix socket, a quarter of the blocks.'
    ].join('\n');
  }
};

/** `npm run bench -- pss-report`: `pss report` over 10 million records on both backends. */
export const pssReport: Bench = {
  id: 'pss-report',
  title: 'PSS: pss report --by customer,class over many records (SQLite and PostgreSQL)',
  async run() {
    const n = Number(process.env.PSS_BENCH_REPORT_RECORDS ?? 10_000_000);
    const rows: (string | number)[][] = [];
    const add = (backend: string, r: Awaited<ReturnType<typeof timeReport>>) =>
      rows.push([backend, fmt(n), `${fmt(r.dbMB)} MB`, `${fmt(r.fillSeconds, 1)} s`, `${fmt(r.reportMs / 1000, 1)} s`, `${fmt(r.maxRssMB)} MB`, r.rows]);
    add('SQLite', await timeReport(n));
    const pgs = await postgres();
    if ('server' in pgs) {
      try {
        add('PostgreSQL', await timeReport(n, pgs.server.url('pss_report_{data}')));
      } finally {
        pgs.server.stop();
      }
    } else rows.push(['PostgreSQL', 'not measured', pgs.missing, '', '', '', '']);
    return [
      table(['backend', 'records', 'database', 'filled in', 'report time', 'peak RSS of pss report', 'rows'], rows),
      '',
      'Filled by the database itself (1,000 records per block, 100 customers, 10 classes); the report runs in a',
      'process of its own (tools/bench/pss-report-child.ts) on a read snapshot. On PostgreSQL the grouping runs',
      "in the server: the peak RSS is the pss process's, the server's work memory is PostgreSQL's own (work_mem)."
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
