// PSS reports: the authenticated statistics grouped, filtered and sorted by any parameter
// field, for the postal authority and the operator (`pss report`).
//
// Time filter: a record counts in the period in which its block was SEALED (blocks.to_time,
// UTC). A block's records are cumulative over [from_time, to_time] and carry no time of
// their own, so the sealing time is the only instant every record of a block shares; a block
// is never split between two periods. `--from`/`--to` are whole UTC days, both inclusive.
//
// SQL is built from a whitelist: user-given field names only ever select one of the constant
// expressions below, and every value is a bound parameter.
import fs from 'node:fs';
import path from 'node:path';
import { WEIGHT_BANDS_G, MIXED_BAND } from '../protocol/records.ts';
import { DB_FILE, queryAll, SqliteDb, databaseOf, type Queryable, type SqlValue } from './db.ts';
import { openPgSnapshot } from './pg-store.ts';
import { PssError } from '../protocol/pss-errors.ts';

/** Group-by fields: the name a user writes -> the SQL expression (r = records, b = blocks). */
export const GROUP_FIELDS = {
  customer: 'r.customer',
  class: 'r.category',
  weightBand: 'r.weight_band',
  postage: 'r.postage',
  device: 'r.device',
  month: "strftime('%Y-%m', b.to_time, 'unixepoch')",
  day: "strftime('%Y-%m-%d', b.to_time, 'unixepoch')"
} as const;
export type GroupField = keyof typeof GROUP_FIELDS;

/** `--by weight` means the weight band (the sum of grams is the `weight` column). */
const GROUP_ALIASES: Record<string, GroupField> = { weight: 'weightBand', category: 'class', band: 'weightBand' };

/** SQL: the record holds zero-value pieces (franked with postage 0, `psd frank --zero-value`):
 * postage 0 in a real weight band. A summary record (folded) has postage 0 too, but its band
 * is MIXED_BAND and its pieces were paid for (at mixed postage): it is not zero-value. */
export const ZERO_VALUE_SQL = `(r.postage = 0 AND r.weight_band <> ${MIXED_BAND})`;

export const METRICS = {
  pieces: 'SUM(r.pieces)',
  // of those pieces, the zero-value ones (counted in the piece counter, never charged),
  // reported apart (issue 12)
  zeroValue: `SUM(CASE WHEN ${ZERO_VALUE_SQL} THEN r.pieces ELSE 0 END)`,
  amount: 'SUM(r.amount)',
  weight: 'SUM(r.weight)',
  // a block counts once in each group it has records in; the totals row counts it once
  // (device << 32) | seq: one 64-bit integer per block (device and seq are u32), no string per record
  blocks: 'COUNT(DISTINCT (r.device << 32) | r.seq)'
} as const;
export type Metric = keyof typeof METRICS;

export interface SortKey {
  field: GroupField | Metric;
  desc: boolean;
}

export interface ReportQuery {
  by: GroupField[];
  /** seconds since 1970, inclusive, on blocks.to_time */
  from?: number;
  /** seconds since 1970, exclusive, on blocks.to_time */
  to?: number;
  customers?: number[];
  devices?: number[];
  /** default: the group fields in --by order, ascending */
  sort?: SortKey[];
}

export interface Totals {
  /** every piece, zero-value ones included (as the PSD's piece counter) */
  pieces: number;
  /** of `pieces`, those franked at zero value (records of postage 0 in a real weight band) */
  zeroValue: number;
  amount: number;
  /** grams */
  weight: number;
  blocks: number;
}

export type ReportRow = Partial<Record<GroupField, number | string>> & Totals;

export interface Report {
  by: GroupField[];
  /** ISO times of the filter, [from, to) */
  from: string | null;
  to: string | null;
  rows: ReportRow[];
  totals: Totals;
}

export function parseGroupFields(text: string): GroupField[] {
  const out: GroupField[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    const field = (GROUP_ALIASES[name] ?? name) as GroupField;
    if (!Object.prototype.hasOwnProperty.call(GROUP_FIELDS, field)) {
      throw new PssError('BAD_ARGUMENT', `unknown field "${name}" for --by: use ${[...Object.keys(GROUP_FIELDS), 'weight'].join(', ')}`);
    }
    if (out.includes(field)) throw new PssError('BAD_ARGUMENT', `field "${name}" appears twice in --by`);
    out.push(field);
  }
  if (!out.length) throw new PssError('BAD_ARGUMENT', '--by needs at least one field');
  return out;
}

/** "amount:desc,customer" -> sort keys; a group field must be one of --by. Here `weight` is
 * the metric (grams); the band is `weightBand`. */
export function parseSort(text: string, by: GroupField[]): SortKey[] {
  return text
    .split(',')
    .filter((s) => s.trim())
    .map((part) => {
      const [name, dir = 'asc', extra] = part.trim().split(':');
      if (extra !== undefined || (dir !== 'asc' && dir !== 'desc')) throw new PssError('BAD_ARGUMENT', `--sort "${part}": write field, field:asc or field:desc`);
      let field: GroupField | Metric;
      if (Object.prototype.hasOwnProperty.call(METRICS, name)) field = name as Metric;
      else {
        const g = (GROUP_ALIASES[name] ?? name) as GroupField;
        if (!Object.prototype.hasOwnProperty.call(GROUP_FIELDS, g)) {
          throw new PssError('BAD_ARGUMENT', `unknown --sort field "${name}": use ${[...Object.keys(METRICS), ...by].join(', ')}`);
        }
        if (!by.includes(g)) throw new PssError('BAD_ARGUMENT', `cannot sort by "${name}": it is not one of the --by fields (${by.join(', ')})`);
        field = g;
      }
      return { field, desc: dir === 'desc' };
    });
}

/** "YYYY-MM-DD" -> seconds since 1970 at 00:00 UTC of that day. */
export function parseDay(text: string, option = 'date'): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m) {
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    // Date.UTC rolls 2026-02-30 over into March: accept only days that exist
    if (new Date(ms).toISOString().slice(0, 10) === text) return ms / 1000;
  }
  throw new PssError('BAD_ARGUMENT', `${option} "${text}" is not a day: write YYYY-MM-DD`);
}

export const DAY_SECONDS = 86400;

export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** WHERE clause and bound values for a time range, customer and device filter. */
export function whereClause(q: Pick<ReportQuery, 'from' | 'to' | 'customers' | 'devices'>): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  if (q.from !== undefined) {
    parts.push('b.to_time >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    parts.push('b.to_time < ?');
    params.push(q.to);
  }
  for (const [column, values] of [
    ['r.customer', q.customers],
    ['r.device', q.devices]
  ] as const) {
    if (!values?.length) continue;
    parts.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  }
  return { sql: parts.length ? 'WHERE ' + parts.join(' AND ') : '', params };
}

export const RECORDS_OF_BLOCKS = 'FROM records r JOIN blocks b ON b.device = r.device AND b.seq = r.seq';

export { queryAll };

const metricSql = (Object.keys(METRICS) as Metric[]).map((m) => `COALESCE(${METRICS[m]}, 0) AS "${m}"`).join(', ');

export function runReport(db: Queryable, q: ReportQuery): Report {
  if (!q.by.length) throw new PssError('BAD_ARGUMENT', 'a report needs at least one group field');
  for (const f of q.by) if (!Object.prototype.hasOwnProperty.call(GROUP_FIELDS, f)) throw new PssError('BAD_ARGUMENT', `unknown group field "${f}"`);
  const where = whereClause(q);
  const groups = q.by.map((f) => `${GROUP_FIELDS[f]} AS "${f}"`).join(', ');
  const sort = [...(q.sort ?? []), ...q.by.map((f) => ({ field: f, desc: false }))];
  for (const k of sort) {
    if (!Object.prototype.hasOwnProperty.call(METRICS, k.field) && !q.by.includes(k.field as GroupField)) {
      throw new PssError('BAD_ARGUMENT', `cannot sort by "${k.field}": not a metric and not one of the group fields`);
    }
  }
  const order = sort.map((k) => `"${k.field}" ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
  // every record has its block (a foreign key): without a time filter or a time group the
  // join with blocks adds nothing but a lookup per record, and is left out
  const needsBlocks = q.from !== undefined || q.to !== undefined || q.by.some((f) => GROUP_FIELDS[f].includes('b.'));
  const source = needsBlocks ? RECORDS_OF_BLOCKS : 'FROM records r';
  const rows = queryAll<ReportRow>(
    db,
    `SELECT ${groups}, ${metricSql} ${source} ${where.sql} GROUP BY ${q.by.map((_, i) => i + 1).join(', ')} ORDER BY ${order}`,
    where.params
  );
  const totals = queryAll<Totals>(db, `SELECT ${metricSql} ${source} ${where.sql}`, where.params)[0];
  return {
    by: q.by,
    from: q.from === undefined ? null : isoTime(q.from),
    to: q.to === undefined ? null : isoTime(q.to),
    rows,
    totals
  };
}

export function weightBandLabel(band: number): string {
  const limit = WEIGHT_BANDS_G[band];
  return limit === undefined ? `band ${band}` : `<=${limit} g`;
}

/**
 * The statistics as they are on disk now, for reading: a connection of its own holding one
 * read transaction (WAL), so every query of a report sees the same committed state while the
 * service goes on writing. close() ends it.
 */
export async function openStatisticsSnapshot(dataDir: string, db?: string): Promise<Queryable> {
  const url = databaseOf(dataDir, db ?? process.env.PSS_DB);
  if (url) return openPgSnapshot(url);
  const file = path.join(dataDir, DB_FILE);
  if (!fs.existsSync(file)) throw new PssError('STORAGE', `no PSS database at ${file}: give --data <dir> of the PSS`);
  let sqlite: SqliteDb | undefined;
  try {
    sqlite = SqliteDb.openFile(file, { fileMustExist: true, timeout: 5000 });
    sqlite.exec('BEGIN');
    sqlite.get('SELECT 1 FROM records LIMIT 1');
    return sqlite;
  } catch (e) {
    sqlite?.close();
    throw new PssError('STORAGE', `${file} is not a PSS database: ${(e as Error).message}`);
  }
}
