// The PSS database: native SQLite (better-sqlite3) in one file of the data directory, in WAL
// mode with foreign keys enforced. Every change is one transaction (BEGIN IMMEDIATE ...
// COMMIT, then the write-ahead log fdatasync'd: committed means on disk before a
// confirmation leaves); an upload is one change, so a block and its records are stored
// together or not at all.
//
// Durability as synchronous=FULL, with the fsync where it costs least: the connection runs
// synchronous=NORMAL (a commit appends to the WAL, no fsync) and the store fdatasyncs the WAL
// file itself after each commit, before anything is confirmed. change() does that at once;
// the uploads' group commit (changeGrouped) does it in libuv's thread pool, so the event loop
// verifies and stores the next group while the disk syncs the last, and one fsync covers
// every group committed before it started. Checkpoints (the WAL's pages copied into the
// database file) run in a thread of their own on a connection of their own
// (server/wal-checkpoints.ts), not at a commit on the event loop; SQLite still syncs the WAL
// before a checkpoint and the database after one, and starts the WAL again only when every
// frame is in the database file.
//
// More than one process may use a data directory (`pss serve` and an admin's `pss revoke`):
// SQLite's own locking serialises writers (a writer waits up to BUSY_TIMEOUT_MS), and WAL
// lets readers (reports) read a consistent snapshot while the service writes.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_SQL, SCHEMA_VERSION, migrate } from './schema.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { PgStore, isPostgresUrl, databaseUrlFor } from './pg-store.ts';
import { WalCheckpointer } from './wal-checkpoints.ts';
import type { SqlValue, Queryable, PssStore, Row } from './store.ts';

export type { SqlValue, Queryable, PssStore } from './store.ts';

export const DB_FILE = 'pss.sqlite';
/** How long a writer waits for another connection's write lock. */
export const BUSY_TIMEOUT_MS = 5000;

function bound(v: SqlValue): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'string') return v;
  return v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function bind(params: SqlValue[]): unknown[] {
  return params.map(bound);
}

// "INSERT INTO t(a, b) VALUES (?, ?)" (nothing after the values)
const MULTI_INSERT = /^(\s*INSERT\s+INTO\s+[\w".]+\s*\([^)]*\))\s*VALUES\s*\([?,\s]*\)\s*;?\s*$/i;
/** bound values in one SQLite statement: SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32 */
const MAX_VARIABLES = 32766;

/** A better-sqlite3 connection with a statement cache: the common part of Store and snapshots. */
export class SqliteDb implements Queryable {
  private statements = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  /** An SQLite database in memory or in a file (tests, migration). */
  static openFile(file: string, opts: Database.Options = {}): SqliteDb {
    const db = new SqliteDb(new Database(file, opts));
    db.db.pragma('foreign_keys = ON');
    return db;
  }

  /** Forgets the prepared statements (a schema change, ATTACH/DETACH). */
  protected statementsReset(): void {
    this.statements.clear();
    this.insertShapes.clear();
  }

  protected statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      if (this.statements.size > 200) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }

  /** One statement with values, or (no values) any number of statements. */
  run(sql: string, params: SqlValue[] = []): void {
    if (!params.length && !this.statement_returns(sql)) this.db.exec(sql);
    else this.statement(sql).run(...bind(params));
  }

  private statement_returns(sql: string): boolean {
    // a single statement that returns rows (PRAGMA ...) must go through prepare
    return /^\s*PRAGMA\b/i.test(sql) && !sql.trim().replace(/;$/, '').includes(';');
  }

  all<T = Row>(sql: string, params: SqlValue[] = []): T[] {
    return this.statement(sql).all(...bind(params)) as T[];
  }

  get<T = Row>(sql: string, params: SqlValue[] = []): T | undefined {
    return this.statement(sql).get(...bind(params)) as T | undefined;
  }

  /**
   * One statement for rows of values. An INSERT of one row's values becomes one statement of
   * many rows (a block's 50 records: one step into SQLite, not 50; prepared once per count).
   */
  runMany(sql: string, rows: SqlValue[][]): void {
    let shape = this.insertShapes.get(sql);
    if (shape === undefined) {
      const m = MULTI_INSERT.exec(sql);
      shape = m ? { head: m[1], statements: new Map() } : null;
      if (this.insertShapes.size > 200) this.insertShapes.clear();
      this.insertShapes.set(sql, shape);
    }
    if (!shape || rows.length < 2) {
      const st = this.statement(sql);
      for (const r of rows) st.run(...bind(r));
      return;
    }
    const width = rows[0].length;
    const per = Math.max(1, Math.floor(MAX_VARIABLES / width));
    for (let at = 0; at < rows.length; at += per) {
      const count = Math.min(per, rows.length - at);
      // the statement of `count` rows, prepared once per shape and count (not looked up by its text)
      let st = shape.statements.get(count);
      if (!st) {
        const tuple = '(' + Array(width).fill('?').join(', ') + ')';
        st = this.db.prepare(`${shape.head} VALUES ${Array(count).fill(tuple).join(', ')}`);
        if (shape.statements.size > 64) shape.statements.clear();
        shape.statements.set(count, st);
      }
      const values: unknown[] = new Array(count * width);
      let k = 0;
      for (let r = at; r < at + count; r++) {
        const row = rows[r];
        for (let c = 0; c < width; c++) values[k++] = bound(row[c]);
      }
      st.run(values);
    }
  }

  /** INSERT statements runMany makes multi-row: the part before VALUES, and a statement per row count */
  private insertShapes = new Map<string, { head: string; statements: Map<number, Database.Statement> } | null>();

  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** The whole database as the bytes of an SQLite file. */
  serialize(): Buffer {
    return this.db.serialize();
  }

  close(): void {
    this.statements.clear();
    this.insertShapes.clear();
    if (this.db.open) this.db.close();
  }

}

/** An SQLite error as the PSS reports it: BUSY when another process holds the write lock, else STORAGE. */
export function storageError(e: unknown, file: string): PssError {
  const code = (e as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new PssError('BUSY', `${file} is held by another process for more than ${BUSY_TIMEOUT_MS} ms; nothing was changed`);
  return new PssError('STORAGE', `${file}: ${(e as Error).message} (${code || 'error'}); nothing was changed`);
}


/** The database of a data folder: --db / PSS_DB (postgres://...; `{data}` names one database per
 * data folder), else SQLite in the folder. 'sqlite' or empty means SQLite too. */
export function databaseOf(dir: string, db: string | undefined = process.env.PSS_DB): string | null {
  if (!db || db === 'sqlite') return null;
  if (!isPostgresUrl(db)) throw new PssError('BAD_ARGUMENT', `--db / PSS_DB must be a postgres:// URL or 'sqlite', not '${String(db).replace(/:[^@/]*@/, ':***@')}'`);
  return databaseUrlFor(db, dir);
}

/** Opens the store of a data folder (see databaseOf). */
export async function openStore(dir: string, db?: string): Promise<PssStore> {
  const url = databaseOf(dir, db ?? process.env.PSS_DB);
  if (url) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return PgStore.open(url, dir);
  }
  return SqliteStore.open(dir);
}

export type Store = PssStore;
/** Store.open(dir): the store of a data folder, SQLite or PostgreSQL as configured. */
export const Store = { open: openStore };

type GroupResult = { ok: true; value: unknown } | { ok: false; error: unknown };

/** meta key that `pss migrate` sets in an SQLite database it moved: the PostgreSQL URL
 * (password redacted) */
export const MOVED_KEY = 'moved_to';

export class SqliteStore extends SqliteDb implements PssStore {
  readonly kind = 'sqlite' as const;
  private inChange = false;
  private group: { fn: () => unknown; resolve: (v: any) => void; reject: (e: unknown) => void }[] = [];

  private constructor(
    db: Database.Database,
    readonly dir: string
  ) {
    super(db);
  }

  static async open(dir: string): Promise<SqliteStore> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, DB_FILE);
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
      // make the file (and its -wal/-shm) 0600 before anything is in it
      for (const f of [file, file + '-wal', file + '-shm']) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
      db.pragma('journal_mode = WAL');
      // NORMAL + our own fdatasync of the WAL after each commit (above); FULL where not WAL
      const wal = String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
      db.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
      // checkpoints in a thread of their own (server/wal-checkpoints.ts), not at our commits
      if (wal) db.pragma('wal_autocheckpoint = 0');
      db.pragma('foreign_keys = ON');
      // 32 MB of page cache (default 2 MB): the ingest's index pages stay in memory (bench: +8 %)
      db.pragma('cache_size = -32768');
    } catch (e) {
      throw new PssError('STORAGE', `${file} is not an SQLite database: ${(e as Error).message}`);
    }
    const store = new SqliteStore(db, dir);
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal') {
      store.checkpoints = new WalCheckpointer(file, () => {
        if (db.open) db.pragma('wal_autocheckpoint = 1000');
      });
    }
    store.change(() => {
      store.run(SCHEMA_SQL);
      migrate(store);
      store.run("INSERT INTO meta(key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [String(SCHEMA_VERSION)]);
    });
    for (const f of [file + '-wal', file + '-shm']) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
    return store;
  }

  get file(): string {
    return path.join(this.dir, DB_FILE);
  }

  /** Another process's commits are visible to the next statement: nothing to reload. */
  refresh(): void {}

  /** Reads the latest committed state, consistently across the statements of fn. */
  read<T>(fn: () => T): T {
    if (this.inChange || this.db.inTransaction) return fn();
    return this.db.transaction(fn).deferred();
  }

  /**
   * Runs fn in one write transaction (BEGIN IMMEDIATE): committed, on disk, before it returns;
   * if fn throws, everything it did is rolled back. Nested calls join the outer one.
   */
  change<T>(fn: () => T): T {
    if (this.inChange) return fn();
    const r = this.commitOnly(fn);
    this.walSyncNow();
    return r;
  }

  private movedStatement: Database.Statement | null = null;

  /** `pss migrate` marks a database it moved to PostgreSQL (meta moved_to, server/migrate.ts):
   * from then on it takes no change, so a `pss serve` still running on it (or started on it by
   * mistake) cannot store uploads that the PostgreSQL copy never sees. */
  private refuseIfMoved(): void {
    let to: unknown;
    try {
      this.movedStatement ??= this.db.prepare(`SELECT value FROM meta WHERE key = '${MOVED_KEY}'`).pluck();
      to = this.movedStatement.get();
    } catch {
      return; // no meta table yet: a database being made
    }
    if (to) throw new PssError('STORAGE', `${this.file} was moved to PostgreSQL (${String(to)}) by pss migrate and takes no more changes: serve the data center with --db <that URL> (or PSS_DB)`);
  }

  /** The transaction of change(), committed to the WAL but not yet synced. */
  private commitOnly<T>(fn: () => T): T {
    this.inChange = true;
    try {
      const r = this.db
        .transaction(() => {
          this.refuseIfMoved();
          return fn();
        })
        .immediate();
      const fd = this.checkpoints && this.wal();
      if (fd) this.checkpoints!.committed(fs.fstatSync(fd).size);
      return r;
    } catch (e) {
      if (e instanceof PssError) throw e;
      if (e instanceof Database.SqliteError) throw storageError(e, this.file);
      throw e;
    } finally {
      this.inChange = false;
    }
  }

  /**
   * Group commit: fn runs in a transaction shared with the other changes queued in the same
   * turn of the event loop (uploads arriving on several connections), each inside a savepoint
   * of its own, so each is still all or nothing: one that throws is rolled back alone and its
   * promise rejected. The promises settle once the WAL holding the group's COMMIT is synced
   * (walSynced: off the event loop, one fdatasync for all the groups committed meanwhile),
   * so nothing is confirmed before it is on disk.
   */
  changeGrouped<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.group.push({ fn, resolve, reject });
      if (this.group.length === 1) setImmediate(() => this.commitGroup());
    });
  }

  private commitGroup(): void {
    const batch = this.group.splice(0);
    let results: GroupResult[];
    try {
      // optimistic: the whole group without savepoints (two statements less per upload: an
      // upload refused for its block records the refusal and returns, only a failing
      // statement throws); if one throws, the group is rolled back and run again with a
      // savepoint for each, so that only that one fails
      results = this.commitOnly(() => batch.map((item): GroupResult => ({ ok: true, value: item.fn() })));
    } catch {
      try {
        results = this.commitOnly(() =>
          batch.map((item): GroupResult => {
            try {
              // a nested better-sqlite3 transaction is a savepoint: rolled back alone if it throws
              return { ok: true, value: this.db.transaction(item.fn)() };
            } catch (error) {
              return { ok: false, error: error instanceof Database.SqliteError ? storageError(error, this.file) : error };
            }
          })
        );
      } catch (e) {
        for (const item of batch) item.reject(e);
        return;
      }
    }
    this.walSynced().then(
      () =>
        batch.forEach((item, i) => {
          const r = results[i];
          if (r.ok) item.resolve(r.value);
          else item.reject(r.error);
        }),
      (e) => {
        const err = new PssError('STORAGE', `${this.file}-wal: fdatasync failed: ${(e as Error).message}; the uploads are not confirmed`);
        for (const item of batch) item.reject(err);
      }
    );
  }

  /** The database file when it is in WAL mode (another connection may then write beside
   * this one's readers: server/ingest-writer.ts), else null. */
  walFile(): string | null {
    return this.checkpoints ? this.file : null;
  }

  /** Another connection of this process committed (the ingest writer): the log is `bytes` long. */
  walCommitted(bytes: number): void {
    this.checkpoints?.committed(bytes);
  }

  /** the WAL's checkpoints, off the event loop (null: not in WAL mode) */
  private checkpoints: WalCheckpointer | null = null;
  private walFd: number | null = null;
  private syncing: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;

  /** The WAL file's descriptor (null: not in WAL mode, synchronous=FULL synced already). */
  private wal(): number | null {
    if (this.walFd === null && this.db.pragma('synchronous', { simple: true }) === 1) {
      try {
        this.walFd = fs.openSync(this.file + '-wal', 'r');
      } catch {
        return null; // nothing was ever written to it
      }
    }
    return this.walFd;
  }

  private walSyncNow(): void {
    const fd = this.wal();
    if (fd !== null) fs.fdatasyncSync(fd);
  }

  /**
   * Resolves once everything committed so far is on disk: an fdatasync of the WAL in the
   * thread pool. One already under way may have started before our commit, so we wait for
   * the next, which every commit until it starts shares.
   */
  private walSynced(): Promise<void> {
    const fd = this.wal();
    if (fd === null) return Promise.resolve();
    if (!this.syncing) {
      this.syncing = new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve()))).finally(() => {
        this.syncing = null;
      });
      return this.syncing;
    }
    this.nextSync ??= this.syncing.then(
      () => ((this.nextSync = null), this.walSynced()),
      () => ((this.nextSync = null), this.walSynced())
    );
    return this.nextSync;
  }

  close(): void {
    this.checkpoints?.close();
    super.close();
    const fd = this.walFd;
    this.walFd = null;
    if (fd === null) return;
    // a sync under way keeps its descriptor until it is done
    if (this.syncing) void this.syncing.catch(() => {}).then(() => fs.closeSync(fd));
    else fs.closeSync(fd);
  }

  /** A consistent copy of the whole database in a new file (VACUUM INTO): backups, tests. */
  snapshotTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  /**
   * Puts every table back as it is in a snapshot file (snapshotTo), in one transaction, while
   * this connection stays open (the fuzzer's baseline between cases).
   */
  restoreFrom(file: string): void {
    this.db.prepare("ATTACH DATABASE ? AS snapshot").run(file);
    try {
      const tables = this.all<{ name: string }>("SELECT name FROM snapshot.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").map((t) => t.name);
      this.change(() => {
        this.db.pragma('defer_foreign_keys = ON');
        for (const t of tables) this.db.exec(`DELETE FROM main."${t}"`);
        for (const t of tables) this.db.exec(`INSERT INTO main."${t}" SELECT * FROM snapshot."${t}"`);
      });
    } finally {
      this.statementsReset();
      this.db.exec('DETACH DATABASE snapshot');
    }
  }

  /** Bytes of the database file and its write-ahead log (for status and benchmarks). */
  fileBytes(): number {
    let n = 0;
    for (const f of [this.file, this.file + '-wal']) {
      try {
        n += fs.statSync(f).size;
      } catch {
        // not there
      }
    }
    return n;
  }
}

/** Every row of a query (reports take any Queryable: the Store, a snapshot, a test database). */
export function queryAll<T = Row>(db: Queryable, sql: string, params: SqlValue[] = []): T[] {
  return db.all<T>(sql, params);
}
