// Moves a PSS database from SQLite (a data folder's pss.sqlite) to PostgreSQL: every table,
// in one PostgreSQL transaction, row counts verified before it commits. The SQLite file is
// read under its write lock (a `pss serve` still running on it cannot store anything the copy
// misses) and keeps its rows, marked as moved (meta moved_to: it takes no more changes, see
// SqliteStore.refuseIfMoved); the keys stay in the data folder.
import fs from 'node:fs';
import path from 'node:path';
import { DB_FILE, MOVED_KEY, SqliteDb, type SqlValue } from './db.ts';
import { PgStore, redactUrl } from './pg-store.ts';
import { migrate as migrateSqliteSchema } from './schema.ts';
import { PssError } from '../protocol/pss-errors.ts';

/** Parents before children (foreign keys are checked at every statement). */
const TABLE_ORDER = ['meta', 'accounts', 'devices', 'blocks', 'records', 'funds_resets', 'ledger', 'rejections', 'credentials', 'rate_tables', 'trusted_times', 'audits', 'audit_events', 'audit_flags'];
const BATCH_ROWS = 5000;

export interface MigrationReport {
  from: string;
  to: string;
  tables: { table: string; rows: number }[];
  seconds: number;
}

/** A data folder or an SQLite file -> the SQLite file. */
export function sqliteFileOf(from: string): string {
  const file = fs.existsSync(from) && fs.statSync(from).isDirectory() ? path.join(from, DB_FILE) : from;
  if (!fs.existsSync(file)) throw new PssError('STORAGE', `no SQLite database at ${file}: give --from <data folder or pss.sqlite>`);
  return file;
}

export function migrateToPostgres(from: string, toUrl: string, opts: { log?: (line: string) => void; dataDir?: string } = {}): MigrationReport {
  const t0 = performance.now();
  const file = sqliteFileOf(from);
  let src: SqliteDb;
  try {
    // not read-only: an older data folder gets its added columns first, as `pss serve` would
    src = SqliteDb.openFile(file, { fileMustExist: true, timeout: 5000 });
    src.db.pragma('journal_mode = WAL');
    migrateSqliteSchema(src);
  } catch (e) {
    throw new PssError('STORAGE', `${file} is not a PSS database: ${(e as Error).message}`);
  }
  const moved = src.get<{ value: string }>(`SELECT value FROM meta WHERE key = '${MOVED_KEY}'`);
  if (moved) {
    src.close();
    throw new PssError('STORAGE', `${file} was moved to PostgreSQL already (${moved.value}): nothing was changed`);
  }
  const dst = PgStore.openSync(toUrl, opts.dataDir ?? path.dirname(file));
  let copied = false;
  try {
    // IMMEDIATE: the write lock for the whole copy, so a pss serve still running on this file
    // cannot store an upload that the copy misses (it waits, then is refused as busy)
    src.exec('BEGIN IMMEDIATE');
    const tables = src.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").map((t) => t.name);
    const unknown = tables.filter((t) => !TABLE_ORDER.includes(t));
    if (unknown.length) throw new PssError('STORAGE', `${file} has tables this PSS does not know: ${unknown.join(', ')}`);
    const ordered = TABLE_ORDER.filter((t) => tables.includes(t));
    const report: MigrationReport = { from: file, to: redactUrl(toUrl), tables: [], seconds: 0 };
    dst.change(() => {
      for (const t of ordered) {
        if (t === 'meta') continue;
        const n = dst.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)!.n;
        if (n) throw new PssError('STORAGE', `${redactUrl(toUrl)} already holds data (${n} rows in ${t}): migrate into an empty database; nothing was changed`);
      }
      for (const t of ordered) {
        const target = new Set(dst.all<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?', [t]).map((c) => c.column_name));
        const columns = src.all<{ name: string }>(`PRAGMA table_info(${t})`).map((c) => c.name);
        const missing = columns.filter((c) => !target.has(c));
        if (missing.length) throw new PssError('STORAGE', `table ${t}: PostgreSQL has no column ${missing.join(', ')}`);
        const list = columns.map((c) => `"${c}"`).join(', ');
        const insert = `INSERT INTO ${t}(${list}) VALUES (${columns.map(() => '?').join(', ')})` + (t === 'meta' ? ' ON CONFLICT (key) DO UPDATE SET value = excluded.value' : '');
        const rows = src.db.prepare(`SELECT ${list} FROM ${t}`).raw().iterate() as IterableIterator<SqlValue[]>;
        let batch: SqlValue[][] = [];
        let count = 0;
        for (const r of rows) {
          batch.push(r);
          if (batch.length >= BATCH_ROWS) {
            dst.runMany(insert, batch);
            count += batch.length;
            batch = [];
          }
        }
        dst.runMany(insert, batch);
        count += batch.length;
        const expected = src.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)!.n;
        const got = dst.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)!.n;
        if (got !== expected || count !== expected) throw new PssError('STORAGE', `table ${t}: ${expected} rows in SQLite, ${got} in PostgreSQL after copying ${count}; nothing was changed`);
        report.tables.push({ table: t, rows: got });
        opts.log?.(`${t}: ${got} rows`);
      }
      // the ledger's entry numbers were copied: new entries go on after the last one
      dst.run("SELECT setval(pg_get_serial_sequence('ledger', 'entry'), COALESCE((SELECT MAX(entry) FROM ledger), 0) + 1, false)");
    });
    // marked as moved in the same transaction that held the lock: from here on it takes no
    // change (SqliteStore.refuseIfMoved), so the two databases cannot drift apart
    src.run(`INSERT INTO meta(key, value) VALUES ('${MOVED_KEY}', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, [report.to]);
    copied = true;
    report.seconds = (performance.now() - t0) / 1000;
    return report;
  } finally {
    try {
      src.exec(copied ? 'COMMIT' : 'ROLLBACK');
    } catch {
      // no transaction open
    }
    src.close();
    dst.close();
  }
}
