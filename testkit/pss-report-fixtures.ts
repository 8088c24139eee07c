// Fixtures of the PSS report tests (test/pss-report*.test.ts): a hand-made statistics database
// of three devices of two mail houses, three customers, two months, and the discount rules.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteDb, databaseOf } from '../server/db.ts';
import { PgStore } from '../server/pg-store.ts';
import { SCHEMA_SQL } from '../server/schema.ts';
import { parseDiscountConfig, type DiscountConfig } from '../server/discounts.ts';

export const t = (iso: string) => Date.parse(iso) / 1000;

export interface Rec {
  customer: number;
  category: number;
  band: number;
  postage: number;
  pieces: number;
  /** grams per piece */
  grams: number;
}

export interface Blk {
  device: number;
  seq: number;
  from: string;
  to: string;
  records: Rec[];
}

// Mail house A runs PSD 4711, mail house B runs PSD 4712; customer 3001 uses both.
export const BLOCKS: Blk[] = [
  {
    device: 4711,
    seq: 1,
    from: '2026-10-20T08:00:00Z',
    to: '2026-10-31T23:59:59Z', // last second of October
    records: [
      { customer: 3001, category: 1, band: 0, postage: 85, pieces: 400, grams: 18 },
      { customer: 3002, category: 7, band: 5, postage: 490, pieces: 10, grams: 800 }
    ]
  },
  {
    device: 4711,
    seq: 2,
    from: '2026-11-01T00:00:00Z',
    to: '2026-11-15T12:00:00Z',
    records: [
      { customer: 3001, category: 1, band: 0, postage: 85, pieces: 600, grams: 18 },
      { customer: 3001, category: 2, band: 1, postage: 155, pieces: 149, grams: 45 },
      { customer: 3002, category: 1, band: 0, postage: 85, pieces: 999, grams: 18 },
      { customer: 3003, category: 0, band: 0, postage: 70, pieces: 999, grams: 15 },
      { customer: 3003, category: 50, band: 2, postage: 200, pieces: 5, grams: 80 }
    ]
  },
  {
    device: 4711,
    seq: 3,
    from: '2026-11-15T12:00:00Z',
    to: '2026-11-20T09:30:00Z',
    records: [{ customer: 3002, category: 1, band: 0, postage: 85, pieces: 1, grams: 18 }]
  },
  {
    device: 4712,
    seq: 1,
    from: '2026-11-02T07:00:00Z',
    to: '2026-11-30T23:59:59Z',
    records: [
      { customer: 3001, category: 0, band: 0, postage: 70, pieces: 251, grams: 15 },
      { customer: 3002, category: 7, band: 4, postage: 490, pieces: 60, grams: 400 },
      { customer: 3002, category: 9, band: 6, postage: 699, pieces: 40, grams: 1500 }
    ]
  },
  {
    device: 4712,
    seq: 2,
    from: '2026-12-01T00:00:00Z',
    to: '2026-12-01T00:00:00Z', // sealed at the first second of December: not November
    records: [{ customer: 3001, category: 1, band: 0, postage: 85, pieces: 10000, grams: 18 }]
  }
];

export const RULES: DiscountConfig = parseDiscountConfig({
  period: 'month',
  defaultSettlement: 'discount',
  rules: [
    {
      name: 'letters',
      classes: [0, 1, 2],
      tiers: [
        { minPieces: 0, percent: 0 },
        { minPieces: 1000, percent: 2 },
        { minPieces: 10000, percent: 5 }
      ]
    },
    {
      name: 'parcels',
      classes: [7, 8, 9],
      tiers: [
        { minPieces: 0, percent: 0 },
        { minPieces: 100, percent: 2.75 }
      ]
    }
  ],
  customers: { '3001': { settlement: 'credit' } }
});

// with PSS_DB=postgres://... (test/pss-postgres.test.ts) the same rows go into a PostgreSQL
// database of their own (the one of dataDir, a new folder if none is given)
export function makeDb(blocks: Blk[] = BLOCKS, dataDir?: string): SqliteDb | PgStore {
  const pgUrl = databaseOf(dataDir ?? tmpDir());
  const db = pgUrl ? PgStore.openSync(pgUrl, dataDir ?? '') : SqliteDb.openFile(':memory:');
  if (db instanceof SqliteDb) db.exec(SCHEMA_SQL);
  for (const b of blocks) {
    const pieces = b.records.reduce((a, r) => a + r.pieces, 0);
    const amount = b.records.reduce((a, r) => a + r.pieces * r.postage, 0);
    db.run(
      `INSERT INTO blocks (device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, raw, via, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 10000000, ?, ?, 'plain', ?)`,
      [b.device, b.seq, t(b.from), t(b.to), amount, 10000000 - amount, pieces, `${b.device}${b.seq}`.padStart(64, '0'), new Uint8Array([1, 2, 3]), t(b.to) + 60]
    );
    for (const [n, r] of b.records.entries()) {
      db.run('INSERT INTO records (device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        b.device,
        b.seq,
        n,
        r.customer,
        r.category,
        r.band,
        r.postage,
        r.pieces,
        r.pieces * r.postage,
        r.pieces * r.grams
      ]);
    }
  }
  return db;
}

export const NOVEMBER = { from: t('2026-11-01T00:00:00Z'), to: t('2026-12-01T00:00:00Z') };

export const made: string[] = [];
export function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-report-'));
  made.push(dir);
  return dir;
}
/** Removes the folders tmpDir() made (each test file calls it in its after hook). */
export function removeTmpDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs a command factory as `pss <name> ...args`, returns what it printed. */
export async function run(factory: (io: { out: (s: string) => void }) => import('commander').Command, args: string[]): Promise<string> {
  const printed: string[] = [];
  const cmd = factory({ out: (s) => printed.push(s) });
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await cmd.parseAsync(args, { from: 'user' });
  return printed.join('\n');
}
