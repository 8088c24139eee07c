// The PSS database: SQLite (sql.js, WASM) held in memory and written whole to one file in
// the data directory after every change: temp file, fsync, rename, fsync of the directory,
// so a crash leaves either the old or the new file, never a torn one.
//
// More than one process may use a data directory (`pss serve` and an admin's `pss revoke`):
// every change takes a short-lived lock file, reloads the file if another process replaced
// it since, applies the change in one transaction and writes the file before unlocking.
import fs from 'node:fs';
import path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue } from 'sql.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.ts';
import { PssError } from './errors.ts';

export const DB_FILE = 'pss.sqlite';
const LOCK_FILE = 'pss.lock';
const LOCK_WAIT_MS = 5000;
/** a lock older than this, or held by a dead process, is left over from a crash */
const LOCK_STALE_MS = 30000;

let sqlJs: Promise<SqlJsStatic> | null = null;

type Row = Record<string, SqlValue>;

export class Store {
  private db: Database;
  /** identity of the file as we last read or wrote it: another process's write changes it */
  private fileId = '';
  private inChange = false;

  private constructor(
    private SQL: SqlJsStatic,
    readonly dir: string
  ) {
    this.db = this.load();
  }

  static async open(dir: string): Promise<Store> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    sqlJs ??= initSqlJs();
    const store = new Store(await sqlJs, dir);
    store.change(() => {
      store.run(SCHEMA_SQL);
      // data directories made before rekeying existed
      const columns = store.all<{ name: string }>('PRAGMA table_info(devices)').map((c) => c.name);
      if (!columns.includes('key_version')) store.run('ALTER TABLE devices ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0');
      if (!columns.includes('pending_key_version')) store.run('ALTER TABLE devices ADD COLUMN pending_key_version INTEGER');
      store.run("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    });
    return store;
  }

  get file(): string {
    return path.join(this.dir, DB_FILE);
  }

  private currentFileId(): string {
    try {
      const st = fs.statSync(this.file, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return '';
    }
  }

  private load(): Database {
    this.fileId = this.currentFileId();
    const bytes = this.fileId ? fs.readFileSync(this.file) : null;
    try {
      return new this.SQL.Database(bytes);
    } catch (e) {
      throw new PssError('STORAGE', `${this.file} is not an SQLite database: ${(e as Error).message}`);
    }
  }

  /** Picks up what another process wrote since we last looked. */
  refresh(): void {
    if (this.inChange || this.currentFileId() === this.fileId) return;
    this.db.close();
    this.db = this.load();
  }

  run(sql: string, params: SqlValue[] = []): void {
    if (params.length) this.db.run(sql, params);
    else this.db.exec(sql);
  }

  all<T = Row>(sql: string, params: SqlValue[] = []): T[] {
    return queryAll<T>(this.db, sql, params);
  }

  /** One statement, prepared once, run for each row of parameters. */
  runMany(sql: string, rows: SqlValue[][]): void {
    const st = this.db.prepare(sql);
    try {
      for (const r of rows) st.run(r);
    } finally {
      st.free();
    }
  }

  get<T = Row>(sql: string, params: SqlValue[] = []): T | undefined {
    return this.all<T>(sql, params)[0];
  }

  /** Reads the latest state (another process may have changed the file). */
  read<T>(fn: () => T): T {
    this.refresh();
    return fn();
  }

  /**
   * Runs fn in one transaction and writes the file before returning. If fn throws, the
   * transaction is rolled back; if the file cannot be written, the in-memory database is
   * reloaded from the file, so memory and disk never disagree. Nested calls join the outer.
   * A change that changed no row (a repeated upload) does not rewrite the file.
   */
  change<T>(fn: () => T): T {
    if (this.inChange) return fn();
    const unlock = this.lock();
    try {
      this.refresh();
      this.inChange = true;
      const before = this.totalChanges();
      this.db.exec('BEGIN');
      let result: T;
      let changed: boolean;
      try {
        result = fn();
        changed = this.totalChanges() !== before;
        this.db.exec('COMMIT');
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      } finally {
        this.inChange = false;
      }
      if (!changed) return result;
      try {
        this.persist();
      } catch (e) {
        this.db.close();
        this.db = this.load();
        throw new PssError('STORAGE', `could not write ${this.file}: ${(e as Error).message}; nothing was changed`);
      }
      return result;
    } finally {
      unlock();
    }
  }

  private totalChanges(): number {
    return this.db.exec('SELECT total_changes()')[0].values[0][0] as number;
  }

  private persist(): void {
    const bytes = this.db.export();
    const tmp = this.file + '.tmp';
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
    this.fileId = this.currentFileId();
  }

  private lock(): () => void {
    const file = path.join(this.dir, LOCK_FILE);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = fs.openSync(file, 'wx', 0o600);
        fs.writeSync(fd, String(process.pid));
        fs.closeSync(fd);
        return () => fs.rmSync(file, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PssError('STORAGE', `cannot lock ${file}: ${(e as Error).message}`);
      }
      if (lockIsStale(file)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new PssError('BUSY', `${file} is held by another process for more than ${LOCK_WAIT_MS} ms`);
      sleepSync(5);
    }
  }

  /** Bytes of the database file (for status and benchmarks). */
  fileBytes(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  close(): void {
    this.db.close();
  }
}

function lockIsStale(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (Date.now() - st.mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(fs.readFileSync(file, 'utf8'));
    if (!pid) return false; // being written right now
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // gone already: the next try takes it
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Every row of a query as an object (reports read a Database directly, the Store through all()). */
export function queryAll<T = Record<string, SqlValue>>(db: Database, sql: string, params: SqlValue[] = []): T[] {
  const st = db.prepare(sql);
  try {
    st.bind(params);
    const out: T[] = [];
    while (st.step()) out.push(st.getAsObject() as T);
    return out;
  } finally {
    st.free();
  }
}
