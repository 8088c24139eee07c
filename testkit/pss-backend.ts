// What the PSS tests need to say the same thing on either backend (test/pss-postgres.test.ts
// runs them again with PSS_DB=postgres://...): which one this run is, and the few SQL
// spellings that differ (insertion order, hex of bytes, a refusal planted in the database).
import type { Store } from '../server/db.ts';

export const onPostgres = (): boolean => /^postgres(ql)?:\/\//i.test(process.env.PSS_DB ?? '');

/** ORDER BY this: the order rows were inserted in (SQLite's rowid, PostgreSQL's heap position). */
export const insertionOrder = (): string => (onPostgres() ? 'ctid' : 'rowid');

/** SQL: a BLOB/BYTEA column as hex. */
export const hexOf = (column: string): string => (onPostgres() ? `encode(${column}, 'hex')` : `hex(${column})`);

/** Makes the database refuse inserts into `table` where `when` holds (a condition on NEW): the tests' full disk. */
export function refuseInserts(store: Store, name: string, table: string, when: string, message: string): void {
  if (store.kind === 'postgres') {
    store.exec(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF ${when} THEN RAISE EXCEPTION '${message}'; END IF; RETURN NEW; END $$`);
    store.exec(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  } else store.exec(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, '${message}'); END`);
}

export function allowInserts(store: Store, name: string, table: string): void {
  if (store.kind === 'postgres') store.exec(`DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}()`);
  else store.exec(`DROP TRIGGER ${name}`);
}
