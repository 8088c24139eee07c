// The data center's tables, in one place: the KMS's device registry and the PSS's
// authenticated statistics. Times are seconds since 1970 (UTC); money in minor units.
export const SCHEMA_VERSION = 3;

/** The records table's definition under a name (the schema, and migrateRecords' new table). */
function recordsTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  n INTEGER NOT NULL,                  -- the record's place in its block, from 0
  customer INTEGER NOT NULL,           -- the mail house's client: the discount is theirs
  category INTEGER NOT NULL,
  weight_band INTEGER NOT NULL,
  postage INTEGER NOT NULL,
  pieces INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  weight INTEGER NOT NULL,
  PRIMARY KEY (device, seq, n),
  FOREIGN KEY (device, seq) REFERENCES blocks(device, seq)
) WITHOUT ROWID;`;
}

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- KMS: the customer accounts (the mail houses that own PSDs) that pay for funds resets
CREATE TABLE IF NOT EXISTS accounts (
  account INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),   -- minor units
  created_at INTEGER NOT NULL
);

-- KMS: one row per registered PSD
CREATE TABLE IF NOT EXISTS devices (
  device INTEGER PRIMARY KEY,          -- device number (u32), as in blocks and indicia
  serial TEXT NOT NULL,                -- chip serial number the board reported
  board TEXT NOT NULL,                 -- board-defs id
  seal INTEGER NOT NULL,               -- 1 = HMAC-SHA256, 2 = Ed25519 (protocol/block.ts)
  public_key TEXT,                     -- hex, Ed25519 boards only
  certificate TEXT,                    -- hex, KMS CA signature over the public key
  status TEXT NOT NULL DEFAULT 'active', -- 'active' | 'revoked' | 'withdrawing' (refund pending: server/kms.ts withdraw)
  funds_counter INTEGER NOT NULL DEFAULT 0,
  key_version INTEGER NOT NULL DEFAULT 0,   -- device and KMS keys in use (rekeyed in a session)
  pending_key_version INTEGER,              -- sent to the PSD, not yet known to have arrived
  registered_at INTEGER NOT NULL,
  revoked_at INTEGER,
  account INTEGER REFERENCES accounts(account)  -- the customer account that pays its funds resets
);

-- PSS: one row per authenticated block
CREATE TABLE IF NOT EXISTS blocks (
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  from_time INTEGER NOT NULL,
  to_time INTEGER NOT NULL,
  ascending INTEGER NOT NULL,
  descending INTEGER NOT NULL,
  pieces INTEGER NOT NULL,
  previous_ascending INTEGER NOT NULL,
  previous_pieces INTEGER NOT NULL,
  funds_total INTEGER NOT NULL,
  digest TEXT NOT NULL,                -- hex, protocol/block.ts blockDigest
  raw BLOB NOT NULL,                   -- the whole sealed block as received
  via TEXT NOT NULL,                   -- 'session' | 'plain'
  received_at INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
);

-- PSS: the cumulative records of each block (protocol/records.ts), one row per record, keyed
-- by block and place in it (n: 0, 1, ... as in the block). WITHOUT ROWID and no secondary
-- index: a record is one B-tree insert (was three: the rowid table, an index on the block and
-- one on the customer), appended at the end of its device's run of blocks. The key serves
-- the join with blocks (reports by time), the foreign key and the device filter; reports group
-- over every record of a period anyway, so a customer filter scans what the report would
-- (schema version 3; migrateRecordsSql moves an older table over).
${recordsTable('records')}

-- PSS: rejected uploads, for the operator (never counted)
CREATE TABLE IF NOT EXISTS rejections (
  at INTEGER NOT NULL,
  device INTEGER,
  seq INTEGER,
  code TEXT NOT NULL,
  reason TEXT NOT NULL
);

-- KMS: every funds reset the KMS authenticated (added by the PSS/KMS core)
CREATE TABLE IF NOT EXISTS funds_resets (
  device INTEGER NOT NULL,
  counter INTEGER NOT NULL,            -- the device's funds counter after this reset
  amount INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  via TEXT NOT NULL,                   -- 'session' (the PSS saw the PSD load it) | 'plain'
  loaded INTEGER NOT NULL DEFAULT 0,   -- 1 once a session saw the PSD accept it
  PRIMARY KEY (device, counter),
  FOREIGN KEY (device) REFERENCES devices(device)
);

-- KMS: every movement of an account's balance: deposits (+), funds resets issued (-),
-- withdrawals of a device crediting its unused descending register (+)
CREATE TABLE IF NOT EXISTS ledger (
  entry INTEGER PRIMARY KEY AUTOINCREMENT,
  account INTEGER NOT NULL REFERENCES accounts(account),
  at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('deposit', 'funds', 'withdrawal')),
  amount INTEGER NOT NULL,             -- signed: + credit, - debit
  balance INTEGER NOT NULL CHECK (balance >= 0),  -- the account's balance after this entry
  device INTEGER REFERENCES devices(device),
  counter INTEGER,                     -- the funds reset's counter (kind 'funds')
  reference TEXT,                      -- the payment's reference (kind 'deposit'), the block (withdrawal)
  FOREIGN KEY (device, counter) REFERENCES funds_resets(device, counter)
);
CREATE INDEX IF NOT EXISTS ledger_account ON ledger(account, entry);

-- rate tables the operator added (server/rates.ts): sessions bring them to the PSDs
CREATE TABLE IF NOT EXISTS rate_tables (
  version INTEGER PRIMARY KEY,         -- rising, 1..65535
  effective INTEGER NOT NULL,          -- seconds since 1970: the PSDs switch to it then
  entries TEXT NOT NULL,               -- JSON [{category, band (255: any), postage}]
  added_at INTEGER NOT NULL
);

-- PSS: every trusted time a session gave a PSD (seconds): a block may start at one of them,
-- before the previous block's end, when it set back a clock the host had set forward
CREATE TABLE IF NOT EXISTS trusted_times (
  device INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (device, at)
);

-- PSS: the device audits of every contact (protocol/audit.ts), sealed by the PSD (server/audits.ts)
CREATE TABLE IF NOT EXISTS audits (
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,                -- the audit's number: 1, 2, 3... per device
  clock INTEGER NOT NULL,              -- the device's clock then (0: not set)
  elapsed INTEGER NOT NULL,            -- the device's running time, seconds
  ascending INTEGER NOT NULL,
  descending INTEGER NOT NULL,
  funds_total INTEGER NOT NULL,
  funds_counter INTEGER NOT NULL,
  pieces INTEGER NOT NULL,
  zero_pieces INTEGER NOT NULL,
  test_pieces INTEGER NOT NULL,
  block_seq INTEGER NOT NULL,          -- the last block the device sealed
  confirmed_seq INTEGER NOT NULL,      -- ... and the last it saw confirmed
  contact_clock INTEGER NOT NULL,
  contact_age INTEGER NOT NULL,        -- seconds since the contact before this one
  key_version INTEGER NOT NULL,
  rate_version INTEGER NOT NULL,
  build_hash TEXT NOT NULL,
  event_count INTEGER NOT NULL,        -- events the device ever noted
  counters TEXT NOT NULL,              -- JSON list: events per code (1, 2, ...), never reset
  raw BLOB NOT NULL,                   -- the sealed audit as received
  via TEXT NOT NULL,                   -- 'session' | 'plain'
  received_at INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
);

-- PSS: the coded events the audits carried (protocol/audit.ts AuditEvent), once each
CREATE TABLE IF NOT EXISTS audit_events (
  device INTEGER NOT NULL,
  number INTEGER NOT NULL,             -- the device's own numbering: 1 for its first event
  code INTEGER NOT NULL,
  clock INTEGER NOT NULL,              -- the device's clock (0: not set)
  detail INTEGER NOT NULL,
  audit_seq INTEGER NOT NULL,          -- the audit that brought it
  PRIMARY KEY (device, number)
);

-- PSS: breaks in an audit's continuity (server/audits.ts), shown, never dropped
CREATE TABLE IF NOT EXISTS audit_flags (
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,                -- the audit that showed it
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  at INTEGER NOT NULL
);

-- who may make operator and auditor requests: client certificates of the lab CA (kit/tls.ts)
CREATE TABLE IF NOT EXISTS credentials (
  serial TEXT PRIMARY KEY,             -- the certificate's serial number, hex as node:crypto prints it
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('operator', 'auditor')),
  issued_at INTEGER NOT NULL,
  not_after TEXT NOT NULL,
  revoked_at INTEGER
);

`;

/** Columns added since a data directory was made (CREATE TABLE IF NOT EXISTS keeps old tables). */
export function migrate(db: { all<T>(sql: string): T[]; run(sql: string): void }): void {
  const columns = (table: string) => db.all<{ name: string }>(`PRAGMA table_info(${table})`).map((c) => c.name);
  const devices = columns('devices');
  if (!devices.includes('key_version')) db.run('ALTER TABLE devices ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0');
  if (!devices.includes('pending_key_version')) db.run('ALTER TABLE devices ADD COLUMN pending_key_version INTEGER');
  if (!devices.includes('account')) db.run('ALTER TABLE devices ADD COLUMN account INTEGER REFERENCES accounts(account)');
  if (!columns('records').includes('n')) db.run(migrateRecordsSql('rowid'));
}

/**
 * Schema 2 -> 3: the records table of an older data folder (a rowid table with two indexes, no
 * place in the block) moved into the keyed one, each record numbered in its block in the order
 * it was stored (`order`: SQLite's rowid, PostgreSQL's ctid), in the caller's transaction.
 */
export function migrateRecordsSql(order: 'rowid' | 'ctid'): string {
  const create = recordsTable('records_v3');
  return `${order === 'ctid' ? create.replace(') WITHOUT ROWID', ')').replace(/\bINTEGER\b/g, 'BIGINT') : create};
INSERT INTO records_v3(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight)
  SELECT device, seq, ROW_NUMBER() OVER (PARTITION BY device, seq ORDER BY ${order}) - 1, customer, category, weight_band, postage, pieces, amount, weight FROM records;
DROP TABLE records;
ALTER TABLE records_v3 RENAME TO records;${order === 'ctid' ? '\nALTER TABLE records RENAME CONSTRAINT records_v3_pkey TO records_pkey;' : ''}`;
}

/**
 * The same tables for PostgreSQL (server/pg-store.ts): one schema text for both, with SQLite's
 * types spelled as PostgreSQL's. Every INTEGER column is BIGINT (device numbers are u32,
 * amounts u48: beyond PostgreSQL's 32-bit INTEGER), BLOB is BYTEA, and the ledger's
 * AUTOINCREMENT entry an identity column (a migration keeps the numbers and moves it on), and
 * the records a plain table (PostgreSQL's tables are heaps; its primary key is the index).
 */
export function pgSchemaSql(): string {
  return SCHEMA_SQL.replace(/\) WITHOUT ROWID;/g, ');')
    .replace(/INTEGER PRIMARY KEY AUTOINCREMENT/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bBLOB\b/g, 'BYTEA');
}
