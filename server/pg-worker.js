// The PostgreSQL connection of a PgStore (server/pg-store.ts), in a worker thread: `pg` is
// asynchronous, the PSS's store interface synchronous, so the main thread posts a request here
// and waits (Atomics.wait) until this thread has PostgreSQL's answer. Plain JavaScript: the
// pss CLI registers tsx for its own thread only.
//
// Requests: {op: 'connect', url} | {op: 'query', sql, params, name?} | {op: 'many', sql, rows}
// | {op: 'script', sql} | {op: 'end'}. Answers: {rows} or {error: {message, code}}.
import { workerData } from 'node:worker_threads';
import pg from 'pg';

// BIGINT (COUNT, every column of the schema) and NUMERIC (SUM of BIGINT) as JavaScript
// numbers, as SQLite gives them: the PSS's integers are u32 and u48 amounts, far below 2^53
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const { port, flag } = workerData;
const signal = new Int32Array(flag);
let client = null;
const prepared = new Map();

function answer(message) {
  port.postMessage(message);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function value(v) {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

/** A named prepared statement per distinct SQL text: parsed and planned once per connection. */
function statement(text, values) {
  let name = prepared.get(text);
  if (!name) {
    if (prepared.size >= 500) return { text, values };
    name = 's' + prepared.size;
    prepared.set(text, name);
  }
  return { name, text, values };
}

// "INSERT INTO t(a, b) VALUES ($1, $2)": rows of values become one statement of many rows
const INSERT = /^\s*INSERT\s+INTO\s+([\w".]+)\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)\s*;?\s*$/i;

async function many(sql, rows) {
  const m = INSERT.exec(sql);
  if (!m) {
    for (const r of rows) await client.query(statement(sql, r.map(value)));
    return;
  }
  const width = m[2].split(',').length;
  const per = Math.max(1, Math.floor(60000 / width));
  for (let at = 0; at < rows.length; at += per) {
    const chunk = rows.slice(at, at + per);
    const tuples = chunk.map((_, i) => '(' + Array.from({ length: width }, (_, j) => '$' + (i * width + j + 1)).join(', ') + ')');
    await client.query(statement(`INSERT INTO ${m[1]}(${m[2]}) VALUES ${tuples.join(', ')}`, chunk.flat().map(value)));
  }
}

port.on('message', async (req) => {
  try {
    switch (req.op) {
      case 'connect':
        client = new pg.Client({ connectionString: req.url, application_name: 'pss' });
        client.on('error', () => {}); // a lost connection fails the next query
        await client.connect();
        answer({ rows: [] });
        break;
      case 'query': {
        const r = await client.query(req.prepare === false ? { text: req.sql, values: req.params.map(value) } : statement(req.sql, req.params.map(value)));
        answer({ rows: r.rows });
        break;
      }
      case 'many':
        await many(req.sql, req.rows);
        answer({ rows: [] });
        break;
      case 'script':
        // any number of statements, no values (simple query protocol)
        await client.query(req.sql);
        answer({ rows: [] });
        break;
      case 'end':
        if (client) await client.end().catch(() => {});
        client = null;
        answer({ rows: [] });
        break;
      default:
        answer({ error: { message: `unknown request ${req.op}` } });
    }
  } catch (e) {
    answer({ error: { message: e?.message ?? String(e), code: e?.code, detail: e?.detail } });
  }
});
