// PSS reports, discounts and exports (issue 4 §5) on a hand-made statistics database:
// three devices of two mail houses, three customers, two months and a block sealed on the
// first second of December. Every expected figure is written out as the arithmetic from the
// rows inserted below.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteDb, databaseOf } from '../server/db.ts';
import { PgStore } from '../server/pg-store.ts';
import { SCHEMA_SQL } from '../server/schema.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { runReport, parseGroupFields, parseSort, parseDay, DAY_SECONDS, type Report } from '../server/report.ts';
import { parseDiscountConfig, loadDiscountConfig, parsePeriod, computeDiscounts, discountFor, tierReached, type DiscountConfig, type DiscountReport } from '../server/discounts.ts';
import { exportPeriod, verifyExport, loadOrCreateSigningKey, signBytes, sha256Hex, SIGNING_KEY_FILE } from '../server/export.ts';
import { reportCommand } from '../server/commands/report.ts';
import { discountsCommand } from '../server/commands/discounts.ts';
import { exportCommand } from '../server/commands/export.ts';
import { extraCommands } from '../server/commands/index.ts';
import { RFC8032_TESTS } from '../testkit/crypto-rfc-vectors.ts';
import { openDataCenter } from '../server/datacenter.ts';
import { SampleDevice } from '../server/sample-blocks.ts';
import { buildProgram } from '../server/cli.ts';
import { onPostgres } from '../testkit/pss-backend.ts';

const t = (iso: string) => Date.parse(iso) / 1000;

interface Rec {
  customer: number;
  category: number;
  band: number;
  postage: number;
  pieces: number;
  /** grams per piece */
  grams: number;
}

interface Blk {
  device: number;
  seq: number;
  from: string;
  to: string;
  records: Rec[];
}

// Mail house A runs PSD 4711, mail house B runs PSD 4712; customer 3001 uses both.
const BLOCKS: Blk[] = [
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

const RULES: DiscountConfig = parseDiscountConfig({
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
function makeDb(blocks: Blk[] = BLOCKS, dataDir?: string): SqliteDb | PgStore {
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
    for (const r of b.records) {
      db.run('INSERT INTO records (device, seq, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        b.device,
        b.seq,
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

const NOVEMBER = { from: t('2026-11-01T00:00:00Z'), to: t('2026-12-01T00:00:00Z') };

const made: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-report-'));
  made.push(dir);
  return dir;
}
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a command factory as `pss <name> ...args`, returns what it printed. */
async function run(factory: (io: { out: (s: string) => void }) => import('commander').Command, args: string[]): Promise<string> {
  const printed: string[] = [];
  const cmd = factory({ out: (s) => printed.push(s) });
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await cmd.parseAsync(args, { from: 'user' });
  return printed.join('\n');
}

describe('PSS reports', () => {
  it('groups November by customer: pieces, amount, weight, blocks and a totals row', () => {
    const r = runReport(makeDb(), { by: ['customer'], ...NOVEMBER });
    expect(r.rows).to.deep.equal([
      // 4711#2 (600 + 149) + 4712#1 (251): two mail houses, one customer
      { customer: 3001, pieces: 600 + 149 + 251, amount: 600 * 85 + 149 * 155 + 251 * 70, weight: 600 * 18 + 149 * 45 + 251 * 15, blocks: 2 },
      { customer: 3002, pieces: 999 + 1 + 60 + 40, amount: 999 * 85 + 1 * 85 + 60 * 490 + 40 * 699, weight: 999 * 18 + 18 + 60 * 400 + 40 * 1500, blocks: 3 },
      { customer: 3003, pieces: 999 + 5, amount: 999 * 70 + 5 * 200, weight: 999 * 15 + 5 * 80, blocks: 1 }
    ]);
    expect(r.totals).to.deep.equal({
      pieces: 1000 + 1100 + 1004,
      amount: 91665 + 142360 + 70930,
      weight: 21270 + 102000 + 15385,
      blocks: 3 // 4711#2, 4711#3, 4712#1: a block counts once in the totals
    });
    expect(r.from).to.equal('2026-11-01T00:00:00Z');
    expect(r.to).to.equal('2026-12-01T00:00:00Z');
  });

  it('filters on the sealing time: the last second of October and the first of December stay out', () => {
    const all = runReport(makeDb(), { by: ['device', 'month'] });
    expect(all.rows.map((x) => [x.device, x.month, x.pieces, x.blocks])).to.deep.equal([
      [4711, '2026-10', 400 + 10, 1],
      [4711, '2026-11', 600 + 149 + 999 + 999 + 5 + 1, 2],
      [4712, '2026-11', 251 + 60 + 40, 1],
      [4712, '2026-12', 10000, 1]
    ]);
    const oct31 = runReport(makeDb(), { by: ['day'], from: parseDay('2026-10-31'), to: parseDay('2026-10-31') + DAY_SECONDS });
    expect(oct31.rows).to.have.length(1);
    expect(oct31.rows[0]).to.include({ day: '2026-10-31', pieces: 410, blocks: 1 });
  });

  it('combines class, weight band and postage for one customer, sorted by amount descending', () => {
    const by = parseGroupFields('class,weight,postage');
    expect(by).to.deep.equal(['class', 'weightBand', 'postage']);
    const r = runReport(makeDb(), { by, ...NOVEMBER, customers: [3002], sort: parseSort('amount:desc', by) });
    expect(r.rows.map((x) => [x.class, x.weightBand, x.postage, x.amount])).to.deep.equal([
      [1, 0, 85, 999 * 85 + 85],
      [7, 4, 490, 60 * 490],
      [9, 6, 699, 40 * 699]
    ]);
    expect(r.totals.pieces).to.equal(1100);
  });

  it('shows the volume per device of a customer franked by two mail houses', () => {
    const r = runReport(makeDb(), { by: ['device'], ...NOVEMBER, customers: [3001] });
    expect(r.rows.map((x) => [x.device, x.pieces])).to.deep.equal([
      [4711, 600 + 149],
      [4712, 251]
    ]);
  });

  it('takes field names only from its whitelist and sort keys only from --by or the metrics', () => {
    const bad = (f: () => unknown, text: RegExp) => expect(f).to.throw(PssError, text);
    bad(() => parseGroupFields('customer; DROP TABLE records'), /unknown field "customer; DROP TABLE records"/);
    bad(() => parseGroupFields('customer,customer'), /twice/);
    bad(() => parseSort('pieces desc', ['customer']), /unknown --sort field/);
    bad(() => parseSort('device', ['customer']), /not one of the --by fields/);
    bad(() => parseSort('amount:down', ['customer']), /field:desc/);
    bad(() => parseDay('2026-02-30'), /not a day/);
    bad(() => parseDay('2026-2-3'), /not a day/);
    // the database is untouched and still answers
    expect(runReport(makeDb(), { by: ['customer'] }).rows).to.have.length(3);
  });
});

describe('PSS discounts', () => {
  it('computes November per customer: tier reached exactly at the boundary, floor rounding, settlement', () => {
    const d = computeDiscounts(makeDb(), RULES, parsePeriod('2026-11', 'month'));
    const lines = d.customers.flatMap((c) => c.lines.map((l) => [l.customer, l.rule, l.pieces, l.amount, l.tier, l.percent, l.discount, l.settlement]));
    expect(lines).to.deep.equal([
      // 600 + 149 + 251 = 1000 pieces: exactly the 1000 tier; floor(91665 * 2 / 100) = floor(1833.3)
      [3001, 'letters', 1000, 600 * 85 + 149 * 155 + 251 * 70, 1, 2, 1833, 'credit'],
      // 999 + 1 = 1000 (two blocks); 85000 * 2 / 100 = 1700
      [3002, 'letters', 1000, 85000, 1, 2, 1700, 'discount'],
      // 60 + 40 = 100 parcels: 2.75% of 29400 + 27960 = 57360 -> floor(1577.4)
      [3002, 'parcels', 100, 57360, 1, 2.75, 1577, 'discount'],
      // 999 pieces: one short of the 1000 tier
      [3003, 'letters', 999, 69930, 0, 0, 0, 'discount']
    ]);
    expect(d.customers.map((c) => [c.customer, c.discount])).to.deep.equal([
      [3001, 1833],
      [3002, 1700 + 1577],
      [3003, 0]
    ]);
    expect(d.totals).to.deep.equal({ pieces: 1000 + 1100 + 999, amount: 91665 + 85000 + 57360 + 69930, discount: 1833 + 3277, paidBack: 3277, credited: 1833 });
    expect(d.rounding).to.equal('floor');
  });

  it("attributes the volume to the customer, not to the mail house's device (claim 13)", () => {
    const withoutB = computeDiscounts(
      makeDb(BLOCKS.filter((b) => b.device !== 4712)),
      RULES,
      parsePeriod('2026-11', 'month')
    );
    const a3001 = withoutB.customers.find((c) => c.customer === 3001)!.lines[0];
    // mail house A alone: 749 pieces, below the tier, nothing
    expect([a3001.pieces, a3001.tier, a3001.discount]).to.deep.equal([600 + 149, 0, 0]);
    const both = computeDiscounts(makeDb(), RULES, parsePeriod('2026-11', 'month'));
    const b3001 = both.customers.find((c) => c.customer === 3001)!.lines[0];
    expect([b3001.pieces, b3001.tier, b3001.discount]).to.deep.equal([1000, 1, 1833]);
    // no discount line names a device
    expect(both.customers.map((c) => c.customer)).to.not.include.members([4711, 4712]);
  });

  it('counts each month on its own: October below every tier, December at exactly 10000', () => {
    const oct = computeDiscounts(makeDb(), RULES, parsePeriod('2026-10', 'month'));
    expect(oct.customers.map((c) => c.lines.map((l) => [c.customer, l.rule, l.pieces, l.discount])).flat()).to.deep.equal([
      [3001, 'letters', 400, 0],
      [3002, 'parcels', 10, 0]
    ]);
    const dec = computeDiscounts(makeDb(), RULES, parsePeriod('2026-12', 'month'));
    expect(dec.customers[0].lines[0]).to.include({ customer: 3001, pieces: 10000, tier: 2, tierMinPieces: 10000, percent: 5, discount: (850000 * 5) / 100 });
  });

  it('rounds down in exact integers where floating point would not', () => {
    // 10000 * 0.57 / 100 is 56.99999999999999 in doubles; the rule says 57
    expect(discountFor(10000, 0.57)).to.equal(57);
    expect(discountFor(999, 2)).to.equal(19); // 19.98
    expect(discountFor(0, 5)).to.equal(0);
    expect(tierReached(RULES.rules[0].tiers, 9999)).to.equal(1);
    expect(tierReached(RULES.rules[0].tiers, 10000)).to.equal(2);
    expect(tierReached([{ minPieces: 50, percent: 1 }], 49)).to.equal(null);
  });

  it('rejects a bad rules file with the path of the problem', () => {
    const base = { rules: [{ name: 'letters', classes: [0, 1], tiers: [{ minPieces: 0, percent: 0 }] }] };
    const bad = (v: unknown, text: RegExp) => expect(() => parseDiscountConfig(v, 'rules.json')).to.throw(PssError, text);
    bad({ ...base, period: 'week' }, /^rules\.json: period: must be one of "month", "quarter", "year"/);
    bad({ rules: [] }, /rules: must be a non-empty array/);
    bad({ rules: [...base.rules, { name: 'more', classes: [1], tiers: [{ minPieces: 0, percent: 1 }] }] }, /rules\[1\]\.classes\[0\]: class 1 is already in rule "letters"/);
    bad({ rules: [{ name: 'x', classes: [120], tiers: [{ minPieces: 0, percent: 0 }] }] }, /rules\[0\]\.classes\[0\]: must be a whole number 0\.\.119/);
    bad({ rules: [{ name: 'x', classes: [0], tiers: [{ minPieces: 10, percent: 1 }, { minPieces: 10, percent: 2 }] }] }, /rules\[0\]\.tiers\[1\]\.minPieces: must be greater/);
    bad({ rules: [{ name: 'x', classes: [0], tiers: [{ minPieces: 0, percent: 101 }] }] }, /tiers\[0\]\.percent: must be a number 0\.\.100/);
    bad({ rules: [{ name: 'x', classes: [0], tiers: [{ minPieces: 0, percent: 2.555 }] }] }, /more than two decimals/);
    bad({ rules: [{ name: 'x', classes: [0], tiers: [{ minPiece: 0, percent: 1 }] }] }, /unknown field "minPiece"/);
    bad({ ...base, customers: { '3001': { settlement: 'cash' } } }, /customers\["3001"\]\.settlement: must be one of "discount", "credit"/);
    bad({ ...base, customers: { abc: { settlement: 'credit' } } }, /customers\["abc"\]: the key must be a customer number/);
    expect(() => parsePeriod('2026-13', 'month')).to.throw(PssError, /write YYYY-MM/);
    expect(() => parsePeriod('2026-Q4', 'month')).to.throw(PssError, /per month/);
    expect(parsePeriod('2026-q4', 'quarter')).to.deep.equal({ kind: 'quarter', label: '2026-Q4', from: t('2026-10-01T00:00:00Z'), to: t('2027-01-01T00:00:00Z') });
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"rules": [');
    expect(() => loadDiscountConfig(path.join(dir, 'broken.json'))).to.throw(PssError, /broken\.json is not JSON/);
  });

  it('ships a valid example rule set in config/discounts.json', () => {
    const c = loadDiscountConfig('config/discounts.json');
    expect(c.period).to.equal('month');
    expect(c.rules.map((r) => r.name)).to.include('letters');
    expect(c.customers['3001']).to.deep.equal({ settlement: 'credit' });
  });
});

describe('PSS export', () => {
  it('signs the manifest with Ed25519 as RFC 8032 TEST 1 and hashes with SHA-256 as FIPS 180-2', () => {
    const v = RFC8032_TESTS[0];
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, SIGNING_KEY_FILE), Buffer.from(v.secret, 'hex'), { mode: 0o600 });
    const key = loadOrCreateSigningKey(dir);
    expect(key.created).to.equal(false);
    expect(key.publicKeyHex).to.equal(v.public);
    expect(Buffer.from(signBytes(key.keyPair, Buffer.from(v.message, 'hex'))).toString('hex')).to.equal(v.signature);
    expect(sha256Hex(Buffer.from('abc'))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses a signing key others can read, or of the wrong length', () => {
    const dir = tmpDir();
    const file = path.join(dir, SIGNING_KEY_FILE);
    fs.writeFileSync(file, Buffer.alloc(32, 7), { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(() => loadOrCreateSigningKey(dir)).to.throw(PssError, /readable by others.*chmod 600/);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, Buffer.alloc(31));
    expect(() => loadOrCreateSigningKey(dir)).to.throw(PssError, /31 bytes/);
  });

  it('writes the period files and a signed manifest that verifies; one CSV byte changed does not', () => {
    const dataDir = tmpDir();
    const out = path.join(tmpDir(), 'export-2026-11');
    const r = exportPeriod(makeDb(), { period: parsePeriod('2026-11', 'month'), rules: RULES, outDir: out, dataDir, pssId: 'pss-test', now: new Date('2026-12-02T06:00:00Z') });
    // the key: made on first use, 32 bytes, mode 0600; its public key beside the export
    const keyFile = path.join(dataDir, SIGNING_KEY_FILE);
    expect(r.keyCreated).to.equal(true);
    expect(fs.statSync(keyFile).size).to.equal(32);
    expect(fs.statSync(keyFile).mode & 0o777).to.equal(0o600);
    expect(fs.readFileSync(path.join(out, 'pss-signing.pub'), 'utf8').trim()).to.equal(r.publicKey).and.match(/^[0-9a-f]{64}$/);

    expect(fs.readdirSync(out).sort()).to.deep.equal(['discounts.csv', 'discounts.json', 'funds-ledger.csv', 'manifest.json', 'manifest.sig', 'pss-signing.pub', 'statistics.csv', 'statistics.json']);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest).to.include({ format: 'pss-export/1', period: '2026-11', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', generatedAt: '2026-12-02T06:00:00.000Z' });
    expect(manifest.pss).to.deep.equal({ id: 'pss-test', signingKey: r.publicKey });
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(out, f.name));
      expect(f.bytes).to.equal(bytes.length);
      expect(f.sha256).to.equal(sha256Hex(bytes));
    }

    // statistics.csv: November's 5 + 1 + 3 records, one row each, with their block
    const rows = fs.readFileSync(path.join(out, 'statistics.csv'), 'utf8').trimEnd().split('\r\n');
    expect(rows[0]).to.equal('device,seq,block_from,block_to,customer,class,weight_band,weight_band_max_g,postage,pieces,amount,weight_g,block_digest');
    expect(rows).to.have.length(1 + 5 + 1 + 3);
    expect(rows[1].split(',').slice(0, 12)).to.deep.equal(['4711', '2', '2026-11-01T00:00:00Z', '2026-11-15T12:00:00Z', '3001', '1', '0', '20', '85', '600', String(600 * 85), String(600 * 18)]);
    expect(rows.slice(1).reduce((a, line) => a + Number(line.split(',')[9]), 0)).to.equal(1000 + 1100 + 1004);
    const stats = JSON.parse(fs.readFileSync(path.join(out, 'statistics.json'), 'utf8'));
    expect(stats.blocks.map((b: any) => `${b.device}#${b.seq}:${b.records.length}`)).to.deep.equal(['4711#2:5', '4711#3:1', '4712#1:3']);
    expect(stats.totals).to.include({ blocks: 3, records: 9, pieces: 3104 });
    const disc = fs.readFileSync(path.join(out, 'discounts.csv'), 'utf8').trimEnd().split('\r\n');
    expect(disc.slice(1).map((l) => l.split(',').slice(1, 3).concat(l.split(',').slice(-2)))).to.deep.equal([
      ['3001', 'letters', '1833', 'credit'],
      ['3002', 'letters', '1700', 'discount'],
      ['3002', 'parcels', '1577', 'discount'],
      ['3003', 'letters', '0', 'discount']
    ]);
    expect((JSON.parse(fs.readFileSync(path.join(out, 'discounts.json'), 'utf8')) as DiscountReport).totals.discount).to.equal(5110);

    expect(verifyExport(out, r.publicKey)).to.deep.include({ valid: true, problems: [] });

    // one byte of the CSV: 600 pieces -> 700, same size
    const csvFile = path.join(out, 'statistics.csv');
    const bytes = fs.readFileSync(csvFile);
    const at = bytes.indexOf(',600,');
    bytes[at + 1] = '7'.charCodeAt(0);
    fs.writeFileSync(csvFile, bytes);
    const v = verifyExport(out, r.publicKey);
    expect(v.valid).to.equal(false);
    expect(v.problems).to.have.length(1);
    expect(v.problems[0]).to.match(/^statistics\.csv: SHA-256 [0-9a-f]{64} differs from the manifest's/);
  });

  it('fails verification under another key, after an edited manifest, a missing or an extra file', () => {
    const dataDir = tmpDir();
    const fresh = () => {
      const out = tmpDir();
      return { out, r: exportPeriod(makeDb(), { period: parsePeriod('2026-11', 'month'), rules: RULES, outDir: out, dataDir }) };
    };
    const a = fresh();
    expect(a.r.keyCreated).to.equal(true);
    const other = RFC8032_TESTS[1].public;
    expect(verifyExport(a.out, other).problems[0]).to.match(/signature of manifest\.json does not verify/);

    const b = fresh();
    expect(b.r.keyCreated).to.equal(false);
    expect(b.r.publicKey).to.equal(a.r.publicKey); // the same PSS key for every export
    const mf = path.join(b.out, 'manifest.json');
    fs.writeFileSync(mf, fs.readFileSync(mf, 'utf8').replace('"period": "2026-11"', '"period": "2026-10"'));
    expect(verifyExport(b.out, b.r.publicKey).valid).to.equal(false);

    const c = fresh();
    fs.rmSync(path.join(c.out, 'discounts.csv'));
    fs.writeFileSync(path.join(c.out, 'extra.csv'), 'x');
    expect(verifyExport(c.out, c.r.publicKey).problems).to.deep.equal(['discounts.csv: missing', 'extra.csv: not covered by the manifest']);
  });
});

describe('pss report | discounts | export (commander)', () => {
  let dataDir: string;
  let rulesFile: string;
  before(() => {
    dataDir = tmpDir();
    const db = makeDb(BLOCKS, dataDir);
    if (db instanceof SqliteDb) fs.writeFileSync(path.join(dataDir, 'pss.sqlite'), db.serialize());
    db.close();
    rulesFile = path.join(dataDir, 'rules.json');
    fs.writeFileSync(rulesFile, JSON.stringify({ ...RULES, rules: RULES.rules }));
  });
  afterEach(() => {
    process.exitCode = 0;
  });

  it('are the extra commands the pss CLI adds', () => {
    expect(extraCommands.map((f) => f().name())).to.include.members(['report', 'discounts', 'export']);
  });

  it('report --json: parsed rows and totals', async () => {
    const text = await run(reportCommand, ['--by', 'customer,class', '--from', '2026-11-01', '--to', '2026-11-30', '--customer', '3001', '--sort', 'pieces:desc', '--json', '--data', dataDir]);
    const r = JSON.parse(text) as Report;
    expect(r.rows.map((x) => [x.customer, x.class, x.pieces, x.blocks])).to.deep.equal([
      [3001, 1, 600, 1],
      [3001, 0, 251, 1],
      [3001, 2, 149, 1]
    ]);
    expect(r.totals).to.deep.equal({ pieces: 1000, amount: 91665, weight: 21270, blocks: 2 });
  });

  it('report: an aligned table with a totals row', async () => {
    const text = await run(reportCommand, ['--by', 'customer,weight', '--from', '2026-11-01', '--to', '2026-11-30', '--data', dataDir]);
    const lines = text.split('\n');
    expect(lines[0]).to.match(/^report by customer, weightBand; blocks sealed 2026-11-01T00:00:00Z/);
    const tableLines = lines.slice(1);
    expect(tableLines[0]).to.match(/^customer\s+weight band\s+pieces\s+amount\s+weight g\s+blocks$/);
    // right-aligned numbers: every line ends at the same column
    expect(new Set(tableLines.map((l) => l.length)).size).to.equal(1);
    expect(tableLines.find((l) => l.trimStart().startsWith('3003') && l.includes('<=100 g'))).to.match(/\s5\s+10\.00\s+400\s+1$/);
    expect(tableLines[tableLines.length - 2]).to.match(/^-+/);
    expect(tableLines[tableLines.length - 1]).to.match(/^total\s+3104\s+3049\.55\s+138655\s+3$/);
  });

  it('discounts --json and the table per customer', async () => {
    const d = JSON.parse(await run(discountsCommand, ['--period', '2026-11', '--rules', rulesFile, '--json', '--data', dataDir])) as DiscountReport;
    expect(d.customers.map((c) => [c.customer, c.settlement, c.discount])).to.deep.equal([
      [3001, 'credit', 1833],
      [3002, 'discount', 3277],
      [3003, 'discount', 0]
    ]);
    const text = await run(discountsCommand, ['--period', '2026-11', '--rules', rulesFile, '--customer', '3002', '--data', dataDir]);
    expect(text).to.include('customer 3002: discount paid back');
    expect(text).to.match(/parcels\s+7 8 9\s+100\s+573\.60\s+>=100\s+2\.75%\s+15\.77/);
    expect(text).to.match(/total\s+1100\s+1423\.60\s+32\.77/);
    expect(text).to.not.include('customer 3001');
  });

  it('export --json writes a signed export; export --verify accepts it, then refuses it tampered', async () => {
    const out = path.join(tmpDir(), 'nov');
    const e = JSON.parse(await run(exportCommand, ['--period', '2026-11', '--out', out, '--rules', rulesFile, '--pss-id', 'lab-pss', '--json', '--data', dataDir]));
    expect(e).to.include({ blocks: 3, records: 9, keyCreated: true });
    expect(e.manifest.files.map((f: any) => f.name)).to.deep.equal(['statistics.csv', 'statistics.json', 'discounts.csv', 'discounts.json', 'funds-ledger.csv']);
    const ok = JSON.parse(await run(exportCommand, ['--verify', out, '--json', '--data', dataDir]));
    expect(ok).to.include({ valid: true, period: '2026-11', publicKey: e.publicKey });
    expect(process.exitCode ?? 0).to.equal(0);

    const json = path.join(out, 'statistics.json');
    fs.appendFileSync(json, ' ');
    const text = await run(exportCommand, ['--verify', out, '--public-key', e.publicKey, '--data', dataDir]);
    expect(text).to.match(/does NOT verify:\n {2}statistics\.json: \d+ bytes, the manifest says \d+/);
    expect(process.exitCode).to.equal(1);
  });

  it('fails with clear errors: no database, a bad period, a bad field', async () => {
    const empty = tmpDir();
    const fails = async (factory: Parameters<typeof run>[0], args: string[], text: RegExp) => {
      let err: unknown;
      try {
        await run(factory, args);
      } catch (e) {
        err = e;
      }
      expect(err, args.join(' ')).to.be.instanceOf(PssError);
      expect((err as PssError).message).to.match(text);
    };
    await fails(reportCommand, ['--data', empty], onPostgres() ? /postgres:\/\/.* is not a PSS database/ : /no PSS database at .*pss\.sqlite/);
    await fails(reportCommand, ['--by', 'colour', '--data', dataDir], /unknown field "colour"/);
    await fails(reportCommand, ['--from', '2026-11-30', '--to', '2026-11-01', '--data', dataDir], /is after --to/);
    await fails(discountsCommand, ['--period', '2026-11-01', '--rules', rulesFile, '--data', dataDir], /write YYYY-MM/);
    await fails(discountsCommand, ['--rules', rulesFile, '--data', dataDir], /give --period/);
    await fails(exportCommand, ['--period', '2026-11', '--rules', rulesFile, '--data', dataDir], /give --out/);
    await fails(exportCommand, ['--verify', empty, '--data', empty], /no pss-signing\.key .*--public-key/);
    await fails(exportCommand, ['--period', '2026-11', '--out', dataDir, '--rules', rulesFile, '--data', dataDir], /is the data directory/);
  });
});

describe('reports on blocks the PSS authenticated and stored', () => {
  it("combines a customer's volume from two mail houses' PSDs uploaded through the core", async () => {
    const dataDir = tmpDir();
    const dc = await openDataCenter(dataDir);
    try {
      const start = t('2026-11-02T00:00:00Z');
      const [a, b] = ['LAB-A-0001', 'LAB-B-0001'].map((serial) => {
        const reg = dc.kms.registerDevice(serial, 'pico');
        return new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey }, 100_000_000, start);
      });
      const letters = (customer: number, pieces: number) => ({ customer, category: 1, weightBand: 0, postage: 85, pieces, amount: pieces * 85, weight: pieces * 18 });
      dc.pss.upload(a.nextBlock([letters(5001, 600), letters(5002, 10)]));
      dc.pss.upload(b.nextBlock([letters(5001, 400)]));
      dc.pss.upload(a.nextBlock([letters(5001, 1)])); // sealed on 2026-11-04
    } finally {
      dc.close();
    }
    const d = JSON.parse(await run(discountsCommand, ['--period', '2026-11', '--json', '--data', dataDir])) as DiscountReport;
    // the shipped rules: letters reach 2% at 1000 pieces; 5001 has 600 + 400 + 1 from two PSDs
    expect(d.customers.map((c) => [c.customer, c.pieces, c.lines[0].percent, c.discount, c.settlement])).to.deep.equal([
      [5001, 1001, 2, Math.floor((1001 * 85 * 2) / 100), 'discount'],
      [5002, 10, 0, 0, 'discount']
    ]);
    const r = JSON.parse(await run(reportCommand, ['--by', 'device', '--json', '--data', dataDir])) as Report;
    expect(r.rows.map((x) => [x.pieces, x.blocks])).to.deep.equal([
      [611, 2],
      [400, 1]
    ]);
    expect(buildProgram().commands.map((c) => c.name())).to.include.members(['report', 'discounts', 'export']);
  });
});
