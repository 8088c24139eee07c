// The ingest writer of a PostgreSQL PSS store (server/ingest-writer.ts), in a thread of its
// own with a `pg` connection of its own: the same messages and answers as the SQLite writer
// (server/ingest-writer-worker.js), in a handful of round trips per group of blocks instead of
// several per block: the group's devices and last blocks read in two statements, every block
// row in one multi-row INSERT, every record in one INSERT ... SELECT FROM unnest(arrays), and
// one COMMIT, which returns once PostgreSQL has the transaction on disk (synchronous_commit);
// only then does the group's answer leave this thread. Plain JavaScript (`pg` only).
import { workerData } from 'node:worker_threads';
import pg from 'pg';

pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const { url, port, flag, lockTimeoutMs, writerLock } = workerData;
const signal = new Int32Array(flag);
const client = new pg.Client({ connectionString: url, application_name: 'pss ingest' });
client.on('error', () => {}); // a lost connection fails the next query

const BLOCK_COLUMNS = 'device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, raw, via, received_at';
/** block rows per INSERT: 14 values each, under PostgreSQL's 65,535 parameters */
const BLOCKS_PER_INSERT = 4000;
const RECORDS =
  'INSERT INTO records(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])';

function errorOf(e) {
  const code = e?.code ?? '';
  return { code: code === '55P03' || code === '40P01' || code === '40001' ? 'BUSY' : 'STORAGE', message: `${e?.message ?? e}${code ? ` (PostgreSQL ${code})` : ''}` };
}

/** Checks each block against the database as it stands in this transaction (and the blocks of
 * the group before it): true where it is still what the event loop verified it against. */
async function stillValid(items) {
  const devices = [...new Set(items.filter((i) => i.t === 'block').map((i) => i.device))];
  if (!devices.length) return items.map(() => true);
  const rows = (await client.query({ name: 'ingest-devices', text: 'SELECT device, status, seal, public_key, key_version FROM devices WHERE device = ANY($1::bigint[])', values: [devices] })).rows;
  const lasts = (
    await client.query({
      name: 'ingest-lasts',
      text: 'SELECT d.device, b.seq, b.digest FROM unnest($1::bigint[]) AS d(device) CROSS JOIN LATERAL (SELECT seq, digest FROM blocks WHERE device = d.device ORDER BY seq DESC LIMIT 1) b',
      values: [devices]
    })
  ).rows;
  const facts = new Map(rows.map((r) => [r.device, r]));
  const last = new Map(lasts.map((r) => [r.device, { seq: r.seq, digest: r.digest }]));
  return items.map((item) => {
    if (item.t !== 'block') return true;
    const e = item.expect;
    const d = facts.get(item.device);
    if (!d || d.status !== e.status || d.seal !== e.seal || (d.public_key ?? null) !== e.publicKey || d.key_version !== e.keyVersion) return false;
    const l = last.get(item.device);
    if (l ? l.seq !== e.prevSeq || l.digest !== e.prevDigest : e.prevSeq !== 0) return false;
    last.set(item.device, { seq: item.seq, digest: item.row[10] });
    return true;
  });
}

async function insertAll(items) {
  const blocks = items.filter((i) => i.t === 'block');
  for (let at = 0; at < blocks.length; at += BLOCKS_PER_INSERT) {
    const chunk = blocks.slice(at, at + BLOCKS_PER_INSERT);
    const values = [];
    const tuples = chunk.map((b, i) => {
      const row = b.row.slice();
      row[11] = Buffer.from(row[11], 'latin1');
      values.push(...row);
      return '(' + row.map((_, j) => '$' + (i * 14 + j + 1)).join(', ') + ')';
    });
    await client.query({ text: `INSERT INTO blocks(${BLOCK_COLUMNS}) VALUES ${tuples.join(', ')}`, values });
  }
  if (blocks.length) {
    const columns = Array.from({ length: 10 }, () => []);
    for (const b of blocks) for (let k = 0; k < b.records.length; k++) columns[k % 10].push(b.records[k]);
    if (columns[0].length) await client.query({ name: 'ingest-records', text: RECORDS, values: columns });
  }
  for (const r of items) if (r.t === 'rejection') await client.query({ name: 'ingest-rejection', text: 'INSERT INTO rejections(at, device, seq, code, reason) VALUES ($1, $2, $3, $4, $5)', values: r.row });
}

/** A repeat's block (handed over before it) is stored with the digest the repeat matched. */
async function isStored(item) {
  const r = await client.query({ name: 'ingest-stored', text: 'SELECT digest FROM blocks WHERE device = $1 AND seq = $2', values: [item.device, item.seq] });
  return r.rows[0]?.digest === item.digest;
}

async function begin() {
  await client.query(`BEGIN; SET LOCAL lock_timeout = ${lockTimeoutMs}; SELECT pg_advisory_xact_lock(${writerLock})`);
}

async function commit(groups) {
  const items = groups.flatMap((g) => g.items);
  let results;
  try {
    await begin();
    const valid = await stillValid(items);
    await insertAll(items.filter((_, i) => valid[i]));
    for (let i = 0; i < items.length; i++) if (items[i].t === 'stored') valid[i] = await isStored(items[i]);
    await client.query('COMMIT');
    results = valid.map((ok) => (ok ? { ok: true } : { retry: true }));
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    // again one by one, each in a savepoint: only the one that fails fails
    try {
      await begin();
      const valid = await stillValid(items);
      results = [];
      for (let i = 0; i < items.length; i++) {
        if (!valid[i] || (items[i].t === 'stored' && !(await isStored(items[i])))) {
          results.push({ retry: true });
          continue;
        }
        await client.query('SAVEPOINT item');
        try {
          await insertAll([items[i]]);
          await client.query('RELEASE SAVEPOINT item');
          results.push({ ok: true });
        } catch (err) {
          await client.query('ROLLBACK TO SAVEPOINT item');
          results.push({ error: errorOf(err) });
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      results = items.map(() => ({ error: errorOf(err) }));
    }
  }
  let at = 0;
  return groups.map((g) => ({ id: g.id, results: results.slice(at, (at += g.items.length)) }));
}

// one group at a time: messages arriving meanwhile wait and join the next one
const queued = [];
let busy = false;
async function run() {
  busy = true;
  let closing = false;
  while (queued.length) {
    const groups = [];
    for (const m of queued.splice(0)) {
      if (m === 'close') closing = true;
      else groups.push(m);
    }
    if (groups.length) port.postMessage({ groups: await commit(groups), walBytes: 0 });
  }
  busy = false;
  if (closing) {
    await client.end().catch(() => {});
    port.close();
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  }
}
port.on('message', (m) => {
  queued.push(m);
  if (!busy) void run();
});

try {
  await client.connect();
  port.postMessage('ready');
} catch (e) {
  throw new Error(`PostgreSQL ingest connection: ${e?.message ?? e}`);
}
