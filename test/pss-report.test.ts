// PSS reports, discounts and exports (issue 4 §5) on a hand-made statistics database:
// three devices of two mail houses, three customers, two months and a block sealed on the
// first second of December. Every expected figure is written out as the arithmetic from the
// rows inserted below.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { PssError } from '../protocol/pss-errors.ts';
import { runReport, parseGroupFields, parseSort, parseDay, DAY_SECONDS, type Report } from '../server/report.ts';
import { parseDiscountConfig, loadDiscountConfig, parsePeriod, computeDiscounts, discountFor, tierReached, type DiscountReport } from '../server/discounts.ts';
import { reportCommand } from '../server/commands/report.ts';
import { discountsCommand } from '../server/commands/discounts.ts';
import { openDataCenter } from '../server/datacenter.ts';
import { SampleDevice } from '../server/sample-blocks.ts';
import { MIXED_BAND } from '../protocol/records.ts';
import { buildProgram } from '../server/cli.ts';
import { t, BLOCKS, RULES, makeDb, NOVEMBER, tmpDir, run, removeTmpDirs } from '../testkit/pss-report-fixtures.ts';

after(removeTmpDirs);

describe('PSS reports', () => {
  it('groups November by customer: pieces, amount, weight, blocks and a totals row', () => {
    const r = runReport(makeDb(), { by: ['customer'], ...NOVEMBER });
    expect(r.rows).to.deep.equal([
      // 4711#2 (600 + 149) + 4712#1 (251): two mail houses, one customer
      { customer: 3001, pieces: 600 + 149 + 251, zeroValue: 0, amount: 600 * 85 + 149 * 155 + 251 * 70, weight: 600 * 18 + 149 * 45 + 251 * 15, blocks: 2 },
      { customer: 3002, pieces: 999 + 1 + 60 + 40, zeroValue: 0, amount: 999 * 85 + 1 * 85 + 60 * 490 + 40 * 699, weight: 999 * 18 + 18 + 60 * 400 + 40 * 1500, blocks: 3 },
      { customer: 3003, pieces: 999 + 5, zeroValue: 0, amount: 999 * 70 + 5 * 200, weight: 999 * 15 + 5 * 80, blocks: 1 }
    ]);
    expect(r.totals).to.deep.equal({
      pieces: 1000 + 1100 + 1004,
      zeroValue: 0, // no record of postage 0
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
    expect(d.totals).to.deep.equal({ pieces: 1000 + 1100 + 999, amount: 91665 + 85000 + 57360 + 69930, zeroValue: 0, discount: 1833 + 3277, paidBack: 3277, credited: 1833 });
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

describe('zero-value pieces, reported apart (issue 12)', () => {
  // Blocks as PSDs seal them, uploaded and verified by the PSS: paid letters, zero-value
  // pieces (postage 0 in a real weight band: `psd frank --zero-value`) and a summary record
  // (folded: postage 0 too, but MIXED_BAND, and its pieces were paid for: not zero-value).
  const letters = (customer: number, pieces: number) => ({ customer, category: 1, weightBand: 0, postage: 85, pieces, amount: pieces * 85, weight: pieces * 18 });
  const zeroLetters = (customer: number, pieces: number) => ({ customer, category: 1, weightBand: 0, postage: 0, pieces, amount: 0, weight: pieces * 18 });
  const zeroParcels = (customer: number, pieces: number) => ({ customer, category: 7, weightBand: 4, postage: 0, pieces, amount: 0, weight: pieces * 400 });
  const summary = (customer: number, pieces: number) => ({ customer, category: 1, weightBand: MIXED_BAND, postage: 0, pieces, amount: pieces * 85, weight: pieces * 18 });
  let dataDir: string;

  before(async () => {
    dataDir = tmpDir();
    const dc = await openDataCenter(dataDir);
    try {
      const start = t('2026-11-02T00:00:00Z');
      const [a, b] = ['LAB-ZERO-A', 'LAB-ZERO-B'].map((serial) => {
        const reg = dc.kms.registerDevice(serial, 'pico');
        return new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey }, 100_000_000, start);
      });
      for (const raw of [
        a.nextBlock([letters(6001, 990), zeroLetters(6001, 20), zeroParcels(6002, 3)]),
        a.nextBlock([summary(6002, 1000), zeroLetters(6001, 5)]),
        b.nextBlock([letters(6001, 5)])
      ])
        expect(dc.pss.upload(raw).stored).to.equal(true);
    } finally {
      dc.close();
    }
  });

  it('pss report: a zeroValue metric per group and in the totals; pieces still count every piece', async () => {
    const r = JSON.parse(await run(reportCommand, ['--by', 'customer', '--from', '2026-11-01', '--to', '2026-11-30', '--json', '--data', dataDir])) as Report;
    expect(r.rows).to.deep.equal([
      { customer: 6001, pieces: 990 + 20 + 5 + 5, zeroValue: 20 + 5, amount: (990 + 5) * 85, weight: (990 + 20 + 5 + 5) * 18, blocks: 3 },
      // the summary record's 1000 pieces are paid ones: only the 3 parcels are zero-value
      { customer: 6002, pieces: 3 + 1000, zeroValue: 3, amount: 1000 * 85, weight: 3 * 400 + 1000 * 18, blocks: 2 }
    ]);
    expect(r.totals).to.deep.equal({ pieces: 2023, zeroValue: 28, amount: 995 * 85 + 85000, weight: 18360 + 19200, blocks: 3 });

    // by band and postage: three rows of postage 0, and only the real bands are zero-value
    const byBand = JSON.parse(await run(reportCommand, ['--by', 'weight,postage', '--json', '--data', dataDir])) as Report;
    expect(byBand.rows.map((x) => [x.weightBand, x.postage, x.pieces, x.zeroValue])).to.deep.equal([
      [0, 0, 25, 25],
      [0, 85, 995, 0],
      [4, 0, 3, 3],
      [MIXED_BAND, 0, 1000, 0]
    ]);
    // sortable like any metric
    const sorted = JSON.parse(await run(reportCommand, ['--by', 'customer', '--sort', 'zeroValue:desc', '--json', '--data', dataDir])) as Report;
    expect(sorted.rows.map((x) => [x.customer, x.zeroValue])).to.deep.equal([
      [6001, 25],
      [6002, 3]
    ]);

    const table = (await run(reportCommand, ['--by', 'customer', '--data', dataDir])).split('\n').slice(1);
    expect(table[0]).to.match(/^customer\s+pieces\s+zero-value\s+amount\s+weight g\s+blocks$/);
    expect(table.find((l) => l.trimStart().startsWith('6001'))).to.match(/^\s*6001\s+1020\s+25\s+845\.75\s+18360\s+3$/);
    expect(table[table.length - 1]).to.match(/^total\s+2023\s+28\s+1695\.75\s+37560\s+3$/);
  });

  it('pss discounts: zero-value pieces count toward no tier and no amount; each line says how many it left out', async () => {
    const d = JSON.parse(await run(discountsCommand, ['--period', '2026-11', '--json', '--data', dataDir])) as DiscountReport;
    const lines = d.customers.flatMap((c) => c.lines.map((l) => [l.customer, l.rule, l.pieces, l.zeroValue, l.amount, l.tier, l.percent, l.discount]));
    expect(lines).to.deep.equal([
      // 995 paid letters: below the 1000 tier of the shipped rules. With its 25 zero-value
      // letters counted it would be 1020 and earn 2% (floor(84575 * 2 / 100) = 1691): it earns 0
      [6001, 'letters', 995, 25, 995 * 85, 0, 0, 0],
      // the summary record is 1000 paid letters: the tier is reached
      [6002, 'letters', 1000, 0, 85000, 1, 2, 1700],
      // only zero-value parcels: nothing counts
      [6002, 'parcels', 0, 3, 0, 0, 0, 0]
    ]);
    expect(d.customers.map((c) => [c.customer, c.pieces, c.zeroValue, c.discount])).to.deep.equal([
      [6001, 995, 25, 0],
      [6002, 1000, 3, 1700]
    ]);
    expect(d.totals).to.deep.equal({ pieces: 1995, amount: 995 * 85 + 85000, zeroValue: 28, discount: 1700, paidBack: 1700, credited: 0 });

    const text = await run(discountsCommand, ['--period', '2026-11', '--data', dataDir]);
    expect(text).to.include('customer 6001: discount paid back; 25 zero-value pieces not counted');
    expect(text).to.match(/letters\s+0 1 2\s+995\s+845\.75\s+>=0\s+0%\s+0\.00/);
    expect(text).to.include('all customers: 1995 pieces (28 zero-value pieces not counted), amount 1695.75, discounts 17.00');
  });
});
