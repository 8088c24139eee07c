// The PSS database on PostgreSQL (`pg`), behind the same store interface as SQLite
// (server/db.ts PssStore), for a data center that outgrows one machine.
//
// Why the store stays synchronous (a deliberate choice): the KMS and the PSS are written as
// short check-then-write transactions that run to completion on the event loop (is the
// device active, is this the next block, is the balance enough, then write), with no
// interleaving possible inside one, which is what makes them correct; better-sqlite3 is
// synchronous by design for the same reason. An asynchronous store would put an await
// between every check and its write: every transaction would need its own pooled connection
// and every invariant a new argument about what may run in between, in all of the KMS, PSS,
// session driver, commands and tests at once. Instead the `pg` client runs in a worker thread
// (server/pg-worker.js) and the main thread waits for each answer (Atomics.wait, then
// receiveMessageOnPort: the pattern of synckit and make-synchronized). The event loop waits
// for a round trip to PostgreSQL as it waits for an fsync with SQLite. Uploads over TCP are
// stored by the ingest writer (server/ingest-writer.ts, server/pg-ingest-worker.js) on a
// connection of its own, asynchronously: a group of blocks in a handful of round trips, its
// check-then-write kept by checking in its transaction what each block was verified against.
//
// Writers are serialised as with SQLite's BEGIN IMMEDIATE: every change takes one
// transaction-level advisory lock first (another `pss` process, or a second PSS on the same
// database, waits up to LOCK_TIMEOUT_MS), and reads see one snapshot (REPEATABLE READ).
import crypto from 'node:crypto';
import path from 'node:path';
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { PssError } from '../protocol/pss-errors.ts';
import { SCHEMA_VERSION, pgSchemaSql, migrateRecordsSql } from './schema.ts';
import type { PssStore, SqlValue } from './store.ts';

type Row = Record<string, unknown>;

export const LOCK_TIMEOUT_MS = 5000;
/** A query that has no answer in this long fails (the server is gone, not slow). */
const ANSWER_TIMEOUT_MS = 120000;
/** pg_advisory_xact_lock key of the PSS's writers: "PSS1" */
export const WRITER_LOCK = 0x50535331;

export function isPostgresUrl(text: string | undefined | null): text is string {
  return !!text && /^postgres(ql)?:\/\//i.test(text);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');
  }
}

/**
 * `{data}` in a database URL stands for a name made from the data folder's path, so that one
 * PostgreSQL server holds one database per data folder (PSS_DB=postgres://host/pss_{data}:
 * each lab or test data folder gets its own, made on first use).
 */
export function databaseUrlFor(url: string, dataDir: string): string {
  if (!url.includes('{data}')) return url;
  const tag = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return url.split('{data}').join(tag);
}

/** SQLite's spelling -> PostgreSQL's: ? placeholders to $n, strftime(fmt, t, 'unixepoch') to to_char. */
export function toPostgresSql(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop + 1);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') out += '$' + ++n;
    else out += c;
  }
  return out.replace(/strftime\('([^']*)',\s*([\w.]+),\s*'unixepoch'\)/g, (_, fmt: string, t: string) => {
    const pgFmt = fmt.replace(/%Y/g, 'YYYY').replace(/%m/g, 'MM').replace(/%d/g, 'DD').replace(/%H/g, 'HH24').replace(/%M/g, 'MI').replace(/%S/g, 'SS');
    return `to_char(to_timestamp(${t}) AT TIME ZONE 'UTC', '${pgFmt}')`;
  });
}

function bindValue(v: SqlValue): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

interface Answer {
  rows?: Row[];
  error?: { message: string; code?: string; detail?: string };
}

/** One PostgreSQL connection, used synchronously (see the top of this file). */
export class SyncPg {
  private worker: Worker;
  private port: MessagePort;
  private signal: Int32Array;
  private translated = new Map<string, string>();
  private closed = false;

  constructor(readonly url: string) {
    const flag = new SharedArrayBuffer(4);
    this.signal = new Int32Array(flag);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./pg-worker.js', import.meta.url), { workerData: { port: port2, flag }, transferList: [port2], execArgv: [] });
    this.worker.unref();
    this.port.unref();
    this.call({ op: 'connect', url });
  }

  private call(req: Record<string, unknown>): Row[] {
    if (this.closed) throw new PssError('STORAGE', `${redactUrl(this.url)}: the connection is closed`);
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage(req);
    // a wake-up can be the late notify of the previous answer: wait until this answer's flag
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    while (Atomics.load(this.signal, 0) === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.signal, 0, 0, left) === 'timed-out') throw new PssError('STORAGE', `${redactUrl(this.url)}: no answer in ${ANSWER_TIMEOUT_MS} ms`);
    }
    const got = receiveMessageOnPort(this.port);
    if (!got) throw new PssError('INTERNAL', 'PostgreSQL worker answered nothing');
    const a = got.message as Answer;
    if (a.error) throw Object.assign(new Error(a.error.message + (a.error.detail ? ` (${a.error.detail})` : '')), { code: a.error.code, pg: true });
    const rows = a.rows ?? [];
    // BYTEA arrives as Uint8Array (a Buffer does not survive the thread hop): back to Buffer
    for (const r of rows) for (const k in r) if (r[k] instanceof Uint8Array && !Buffer.isBuffer(r[k])) r[k] = Buffer.from(r[k] as Uint8Array);
    return rows;
  }

  private sql(text: string): string {
    let t = this.translated.get(text);
    if (t === undefined) {
      t = toPostgresSql(text);
      if (this.translated.size > 500) this.translated.clear();
      this.translated.set(text, t);
    }
    return t;
  }

  query(text: string, params: SqlValue[] = [], prepare = true): Row[] {
    return this.call({ op: 'query', sql: this.sql(text), params: params.map(bindValue), prepare });
  }

  many(text: string, rows: SqlValue[][]): void {
    if (rows.length) this.call({ op: 'many', sql: this.sql(text), rows: rows.map((r) => r.map(bindValue)) });
  }

  /** Statements without values, any number of them (schema, BEGIN/COMMIT). */
  script(text: string): void {
    this.call({ op: 'script', sql: text });
  }

  close(): void {
    if (this.closed) return;
    try {
      this.call({ op: 'end' });
    } catch {
      // gone already
    }
    this.closed = true;
    void this.worker.terminate();
  }
}

/** A PostgreSQL error as the PSS reports it: BUSY when another writer holds the lock too long, else STORAGE. */
export function pgStorageError(e: unknown, where: string): PssError {
  if (e instanceof PssError) return e;
  const code = (e as { code?: string }).code ?? '';
  if (code === '55P03' || code === '40P01' || code === '40001') return new PssError('BUSY', `${where} is held by another writer for more than ${LOCK_TIMEOUT_MS} ms; nothing was changed`);
  return new PssError('STORAGE', `${where}: ${(e as Error).message} (${code ? 'PostgreSQL ' + code : 'error'}); nothing was changed`);
}

/** Connects, making the database first if the server does not have it yet. */
export function connectCreating(url: string): SyncPg {
  try {
    return new SyncPg(url);
  } catch (e) {
    if ((e as { code?: string }).code !== '3D000') throw pgStorageError(e, redactUrl(url));
  }
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name)) throw new PssError('STORAGE', `${redactUrl(url)}: no database "${name}", and the PSS makes only databases named of letters, digits and _`);
  u.pathname = '/postgres';
  const admin = new SyncPg(u.toString());
  try {
    admin.script(`CREATE DATABASE "${name}"`);
  } catch (e) {
    if ((e as { code?: string }).code !== '42P04') throw pgStorageError(e, redactUrl(url)); // made meanwhile by another process
  } finally {
    admin.close();
  }
  return new SyncPg(url);
}

export class PgStore implements PssStore {
  readonly kind = 'postgres' as const;
  private inChange = false;
  private inRead = false;
  private group: { fn: () => unknown; resolve: (v: any) => void; reject: (e: unknown) => void }[] = [];

  private constructor(
    private pg: SyncPg,
    readonly dir: string
  ) {}

  /** The PSS database at a postgres:// URL; the data folder still holds the keys. */
  static async open(url: string, dir: string): Promise<PgStore> {
    return PgStore.openSync(url, dir);
  }

  /** The same, for callers that cannot wait (the connection is synchronous anyway). */
  static openSync(url: string, dir: string): PgStore {
    const pg = connectCreating(url);
    try {
      pg.script(`SET lock_timeout = ${LOCK_TIMEOUT_MS}`);
    } catch (e) {
      pg.close();
      throw pgStorageError(e, redactUrl(url));
    }
    const store = new PgStore(pg, dir);
    store.change(() => {
      store.exec(pgSchemaSql());
      // a database of schema 2 (records without their place in the block): moved over
      if (!store.get("SELECT 1 AS n FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'records' AND column_name = 'n'")) store.exec(migrateRecordsSql('ctid'));
      store.run("INSERT INTO meta(key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [String(SCHEMA_VERSION)]);
    });
    return store;
  }

  /** The URL connected to, password and all (for another connection: the ingest writer). */
  get url(): string {
    return this.pg.url;
  }

  /** Where the data is, as messages name it (the password left out). */
  get file(): string {
    return redactUrl(this.pg.url);
  }

  all<T = Row>(sql: string, params: SqlValue[] = []): T[] {
    return this.pg.query(sql, params) as T[];
  }

  get<T = Row>(sql: string, params: SqlValue[] = []): T | undefined {
    return this.pg.query(sql, params)[0] as T | undefined;
  }

  run(sql: string, params: SqlValue[] = []): void {
    if (!params.length) this.pg.script(sql);
    else this.pg.query(sql, params);
  }

  /** One statement for many rows: an INSERT becomes one statement of many rows (pg-worker.js). */
  runMany(sql: string, rows: SqlValue[][]): void {
    this.pg.many(sql, rows);
  }

  exec(sql: string): void {
    this.pg.script(sql);
  }

  refresh(): void {}

  read<T>(fn: () => T): T {
    if (this.inChange || this.inRead) return fn();
    this.inRead = true;
    try {
      this.pg.script('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const r = fn();
      this.pg.script('COMMIT');
      return r;
    } catch (e) {
      this.rollback();
      throw pgStorageError(e, this.file);
    } finally {
      this.inRead = false;
    }
  }

  private rollback(): void {
    try {
      this.pg.script('ROLLBACK');
    } catch {
      // the connection is gone: PostgreSQL rolled back itself
    }
  }

  change<T>(fn: () => T): T {
    if (this.inChange) return fn();
    this.inChange = true;
    try {
      this.pg.script(`BEGIN; SELECT pg_advisory_xact_lock(${WRITER_LOCK})`);
      const r = fn();
      this.pg.script('COMMIT');
      return r;
    } catch (e) {
      this.rollback();
      throw pgStorageError(e, this.file);
    } finally {
      this.inChange = false;
    }
  }

  /** As SqliteStore.changeGrouped: the uploads of one turn of the event loop in one transaction, each in a savepoint. */
  changeGrouped<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.group.push({ fn, resolve, reject });
      if (this.group.length === 1) setImmediate(() => this.commitGroup());
    });
  }

  private commitGroup(): void {
    const batch = this.group.splice(0);
    // optimistic: the whole group without savepoints (two round trips less per upload); an
    // upload fails in the database only exceptionally (a rejection is a row, not an error),
    // and then the group is rolled back and run again with a savepoint for each
    try {
      const values = this.change(() => batch.map((item) => item.fn()));
      batch.forEach((item, i) => item.resolve(values[i]));
      return;
    } catch {
      // run again below, each in its savepoint
    }
    const results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.change(() => {
        for (const item of batch) {
          this.pg.script('SAVEPOINT upload');
          try {
            const value = item.fn();
            this.pg.script('RELEASE SAVEPOINT upload');
            results.push({ ok: true, value });
          } catch (error) {
            this.pg.script('ROLLBACK TO SAVEPOINT upload');
            results.push({ ok: false, error: error instanceof PssError ? error : pgStorageError(error, this.file) });
          }
        }
      });
    } catch (e) {
      for (const item of batch) item.reject(e);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i];
      if (r.ok) item.resolve(r.value);
      else item.reject(r.error);
    });
  }

  snapshotTo(_file: string): void {
    throw new PssError('STORAGE', 'snapshots to a file are for SQLite; on PostgreSQL use pg_dump');
  }

  restoreFrom(_file: string): void {
    throw new PssError('STORAGE', 'restoring from a file is for SQLite; on PostgreSQL use pg_restore');
  }

  /** The database's size on the server (status, benchmarks). */
  fileBytes(): number {
    return Number(this.get<{ n: number }>('SELECT pg_database_size(current_database()) AS n')!.n);
  }

  close(): void {
    this.pg.close();
  }
}

/**
 * A read-only snapshot of a PostgreSQL PSS database (reports, exports): one connection in one
 * REPEATABLE READ transaction, so every query of a report sees the same committed state.
 */
export function openPgSnapshot(url: string): { all<T = Row>(sql: string, params?: SqlValue[]): T[]; get<T = Row>(sql: string, params?: SqlValue[]): T | undefined; run(sql: string, params?: SqlValue[]): void; close(): void } {
  let pg: SyncPg;
  try {
    pg = new SyncPg(url);
    pg.script('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    pg.query('SELECT 1 FROM records LIMIT 1');
  } catch (e) {
    throw new PssError('STORAGE', `${redactUrl(url)} is not a PSS database: ${(e as Error).message}`);
  }
  return {
    all: <T,>(sql: string, params: SqlValue[] = []) => pg.query(sql, params) as T[],
    get: <T,>(sql: string, params: SqlValue[] = []) => pg.query(sql, params)[0] as T | undefined,
    run: (sql: string, params: SqlValue[] = []) => void pg.query(sql, params),
    close: () => pg.close()
  };
}
