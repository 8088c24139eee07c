// PSS exports (signed manifest, verification) and the `pss report`, `pss discounts` and
// `pss export` commands, on the hand-made statistics database of testkit/pss-report-fixtures.ts.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteDb } from '../server/db.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { type Report } from '../server/report.ts';
import { parsePeriod, type DiscountReport } from '../server/discounts.ts';
import { exportPeriod, verifyExport, loadOrCreateSigningKey, signBytes, sha256Hex, SIGNING_KEY_FILE } from '../server/export.ts';
import { reportCommand } from '../server/commands/report.ts';
import { discountsCommand } from '../server/commands/discounts.ts';
import { exportCommand } from '../server/commands/export.ts';
import { extraCommands } from '../server/commands/index.ts';
import { RFC8032_TESTS } from '../testkit/crypto-rfc-vectors.ts';
import { onPostgres } from '../testkit/pss-backend.ts';
import { BLOCKS, RULES, makeDb, tmpDir, run, removeTmpDirs } from '../testkit/pss-report-fixtures.ts';

after(removeTmpDirs);

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
    expect(r.totals).to.deep.equal({ pieces: 1000, zeroValue: 0, amount: 91665, weight: 21270, blocks: 2 });
  });

  it('report: an aligned table with a totals row', async () => {
    const text = await run(reportCommand, ['--by', 'customer,weight', '--from', '2026-11-01', '--to', '2026-11-30', '--data', dataDir]);
    const lines = text.split('\n');
    expect(lines[0]).to.match(/^report by customer, weightBand; blocks sealed 2026-11-01T00:00:00Z/);
    const tableLines = lines.slice(1);
    expect(tableLines[0]).to.match(/^customer\s+weight band\s+pieces\s+zero-value\s+amount\s+weight g\s+blocks$/);
    // right-aligned numbers: every line ends at the same column
    expect(new Set(tableLines.map((l) => l.length)).size).to.equal(1);
    expect(tableLines.find((l) => l.trimStart().startsWith('3003') && l.includes('<=100 g'))).to.match(/\s5\s+0\s+10\.00\s+400\s+1$/);
    expect(tableLines[tableLines.length - 2]).to.match(/^-+/);
    expect(tableLines[tableLines.length - 1]).to.match(/^total\s+3104\s+0\s+3049\.55\s+138655\s+3$/);
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
