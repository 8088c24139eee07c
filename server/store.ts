// What the PSS needs of its database, whichever it is (SQLite: server/db.ts SqliteStore;
// PostgreSQL: server/pg-store.ts PgStore): the interfaces both implement, in a file of their own
// so that neither backend imports the other's module for them.

export type SqlValue = number | string | bigint | Buffer | Uint8Array | null | boolean | undefined;
export type Row = Record<string, unknown>;

/** What reports, exports and the KMS/PSS need of a database: statements with bound values. */
export interface Queryable {
  all<T = Row>(sql: string, params?: SqlValue[]): T[];
  get<T = Row>(sql: string, params?: SqlValue[]): T | undefined;
  run(sql: string, params?: SqlValue[]): void;
  close(): void;
}

/**
 * What the KMS, the PSS, the commands and the service need of the database, whichever it is:
 * SQLite in the data folder (SqliteStore, the default) or PostgreSQL (server/pg-store.ts
 * PgStore, which says why this interface stays synchronous).
 */
export interface PssStore extends Queryable {
  readonly kind: 'sqlite' | 'postgres';
  /** the data folder: keys, TLS, and the SQLite file when it is SQLite */
  readonly dir: string;
  /** where the data is, for messages: the SQLite file or the PostgreSQL URL without password */
  readonly file: string;
  runMany(sql: string, rows: SqlValue[][]): void;
  exec(sql: string): void;
  refresh(): void;
  read<T>(fn: () => T): T;
  change<T>(fn: () => T): T;
  changeGrouped<T>(fn: () => T): Promise<T>;
  snapshotTo(file: string): void;
  restoreFrom(file: string): void;
  fileBytes(): number;
}
