// The ingest writer of an SQLite PSS store (server/ingest-writer.ts), in a thread of its own:
// stores the blocks the event loop verified, on a connection of its own, so that SQLite's
// work for a block's rows runs beside the event loop's frames, decoding and verification
// instead of after them. Plain JavaScript (better-sqlite3 only).
//
// Messages in (on workerData.port): {id, items} with items
//   {t: 'block', device, seq, row: [the blocks row's 14 values, raw as a byte string],
//    records: Float64Array of 10 values per record,
//    expect: {status, seal, publicKey, keyVersion, prevSeq, prevDigest}}
//   {t: 'rejection', row: [at, device, seq, code, reason]}
//   {t: 'stored', device, seq, digest}   (a repeat of a block handed over before it: retry
//    unless that block is stored with that digest)
//   {t: 'none'}   (a repeat: answered once everything before it is durable)
// and 'close'. Out: {groups: [{id, results}], walBytes}, a result per item: {ok: true} |
// {retry: true} (what the block was verified against changed meanwhile: the event loop
// verifies it again) | {error: {code, message}}; after 'close', flag[0] = 1, notified.
//
// Every message waiting when a transaction starts joins it (group commit across uploaders).
// After each transaction the write-ahead log is fdatasync'd, and only then does the group's
// answer leave this thread: the event loop sends no confirmation before that answer, so no
// block is confirmed before it is on disk (a PSD frees its records on the confirmation).
import fs from 'node:fs';
import { workerData, receiveMessageOnPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, port, flag, busyMs } = workerData;
const signal = new Int32Array(flag);
const db = new Database(file, { timeout: busyMs });
// durable as synchronous=FULL, with the sync the store uses (server/db.ts): NORMAL commits to
// the log without a sync, and the log is fdatasync'd after each transaction, before its answer
db.pragma('synchronous = NORMAL');
let walFd = null;
function walSync() {
  walFd ??= fs.openSync(file + '-wal', 'r');
  fs.fdatasyncSync(walFd);
}
db.pragma('foreign_keys = ON');
db.pragma('wal_autocheckpoint = 0'); // the store's checkpoint thread does it (server/wal-checkpoints.ts)
db.pragma('cache_size = -32768');

const insertBlock = db.prepare(
  'INSERT INTO blocks(device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, raw, via, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
);
const insertRejection = db.prepare('INSERT INTO rejections(at, device, seq, code, reason) VALUES (?, ?, ?, ?, ?)');
const deviceRow = db.prepare('SELECT status, seal, public_key, key_version FROM devices WHERE device = ?');
const lastBlock = db.prepare('SELECT seq, digest FROM blocks WHERE device = ? ORDER BY seq DESC LIMIT 1');
let movedTo = null;
try {
  movedTo = db.prepare("SELECT value FROM meta WHERE key = 'moved_to'").pluck();
} catch {
  // no meta table: not a PSS database yet
}
const RECORD_COLUMNS = 10;
/** a multi-row INSERT per record count (a block's records in one step into SQLite) */
const recordInserts = new Map();
function insertRecords(values) {
  const count = values.length / RECORD_COLUMNS;
  if (!count) return;
  let st = recordInserts.get(count);
  if (!st) {
    const tuple = '(' + Array(RECORD_COLUMNS).fill('?').join(', ') + ')';
    st = db.prepare('INSERT INTO records(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) VALUES ' + Array(count).fill(tuple).join(', '));
    if (recordInserts.size > 64) recordInserts.clear();
    recordInserts.set(count, st);
  }
  st.run(integers(values));
}

/** A Float64Array's values as small integers where they are (a reused array): better-sqlite3
 * binds a small integer as one, any other number as a REAL that SQLite then converts for the
 * INTEGER column (measured: half as slow again for a block's records). */
const bound = new Map();
function integers(values) {
  let out = bound.get(values.length);
  if (!out) bound.set(values.length, (out = new Array(values.length)));
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    out[i] = (x | 0) === x ? x | 0 : x;
  }
  return out;
}

/** Still what the event loop verified the block against: the device's facts and its last block. */
function unchanged(item) {
  const e = item.expect;
  const d = deviceRow.get(item.device);
  if (!d || d.status !== e.status || d.seal !== e.seal || (d.public_key ?? null) !== e.publicKey || d.key_version !== e.keyVersion) return false;
  const last = lastBlock.get(item.device);
  return last ? last.seq === e.prevSeq && last.digest === e.prevDigest : e.prevSeq === 0;
}

const storedDigest = db.prepare('SELECT digest FROM blocks WHERE device = ? AND seq = ?').pluck();

function apply(item) {
  if (item.t === 'rejection') insertRejection.run(item.row);
  else if (item.t === 'stored') {
    if (storedDigest.get(item.device, item.seq) !== item.digest) return { retry: true };
  }
  else if (item.t === 'block') {
    if (!unchanged(item)) return { retry: true };
    item.row[11] = Buffer.from(item.row[11], 'latin1');
    insertBlock.run(item.row);
    insertRecords(item.records);
  }
  return { ok: true };
}

function errorOf(e) {
  const code = e?.code ?? '';
  return { code: code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') ? 'BUSY' : 'STORAGE', message: `${e?.message ?? e} (${code || 'error'})` };
}

function walBytes() {
  try {
    return fs.statSync(file + '-wal').size;
  } catch {
    return 0;
  }
}

function commit(groups) {
  const items = groups.flatMap((g) => g.items);
  let results;
  try {
    // optimistic: the whole group without savepoints (only a failing statement throws; a
    // block whose facts changed is answered retry, not thrown)
    results = db
      .transaction(() => {
        const to = movedTo?.get();
        if (to) throw Object.assign(new Error(`${file} was moved to PostgreSQL (${to}) by pss migrate and takes no more changes: serve the data center with --db <that URL> (or PSS_DB)`), { code: 'MOVED' });
        return items.map(apply);
      })
      .immediate();
  } catch (e) {
    if (e?.code === 'MOVED' || e?.code?.startsWith?.('SQLITE_BUSY')) results = items.map(() => ({ error: errorOf(e) }));
    else {
      // again, each in a savepoint of its own: only the one that fails fails
      try {
        results = db
          .transaction(() =>
            items.map((item) => {
              try {
                return db.transaction(apply)(item);
              } catch (err) {
                return { error: errorOf(err) };
              }
            })
          )
          .immediate();
      } catch (err) {
        results = items.map(() => ({ error: errorOf(err) }));
      }
    }
  }
  let at = 0;
  return groups.map((g) => ({ id: g.id, results: results.slice(at, (at += g.items.length)) }));
}

port.on('message', (first) => {
  const groups = [];
  let closing = false;
  for (let m = first; m !== undefined; m = receiveMessageOnPort(port)?.message) {
    if (m === 'close') closing = true;
    else groups.push(m);
  }
  if (groups.length) {
    const answers = commit(groups);
    let walError = null;
    try {
      walSync();
    } catch (e) {
      walError = { code: 'STORAGE', message: `${file}-wal: fdatasync failed: ${e?.message ?? e}; the uploads are not confirmed` };
    }
    if (walError) for (const g of answers) g.results = g.results.map(() => ({ error: walError }));
    port.postMessage({ groups: answers, walBytes: walBytes() });
  }
  if (closing) {
    db.close();
    if (walFd !== null) fs.closeSync(walFd);
    port.close();
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  }
});
port.postMessage('ready');
