// The PSS on PostgreSQL: a real server that this file starts on a throwaway data folder
// (tools/pg-server.ts: initdb + pg_ctl on a free port; as root, as the postgres user), then
// - the migration of an SQLite data folder (pss migrate), tested here, and
// - the same PSS suite as on SQLite (store, KMS, accounts, ingest over TCP, sessions,
//   reports, roles, refusals, the data-center end-to-end test), run again in a child mocha
//   with PSS_DB=postgres://.../pss_{data}: every data folder a test makes gets a fresh
//   database of its own on this server, in-process and in the `pss` processes tests start.
// Skipped, saying why, only where the PostgreSQL server binaries are absent (apt-get install
// postgresql: .ci/run does).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { findPostgres, startPostgres, type PgServer } from '../tools/pg-server.ts';
import { openDataCenter } from '../server/datacenter.ts';
import { openPgSnapshot, PgStore, databaseUrlFor } from '../server/pg-store.ts';
import { migrateToPostgres } from '../server/migrate.ts';
import { runReport } from '../server/report.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { PssError } from '../protocol/pss-errors.ts';

const PSS = path.resolve('bin/pss.js');

/** The PSS test files that run again on PostgreSQL (those that touch the store). */
const SUITE = [
  'test/pss-kms.test.ts',
  'test/pss-accounts.test.ts',
  'test/pss-verify.test.ts',
  'test/pss-tcp.test.ts',
  'test/pss-pipeline.test.ts',
  'test/pss-ingest-writer.test.ts',
  'test/pss-session.test.ts',
  'test/pss-report.test.ts',
  'test/pss-roles.test.ts',
  'test/pss-refusals.test.ts',
  'test/pss-keys-at-rest.test.ts',
  'test/pss-cli-json.test.ts',
  'test/pss-audits.test.ts',
  'test/pss-export-tls.test.ts',
  'test/e2e-datacenter.test.ts'
];

describe('PSS on PostgreSQL', function () {
  this.timeout(60000);
  let server: PgServer;
  const made: string[] = [];
  const tmp = (name: string) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `pss-pg-${name}-`));
    made.push(d);
    return d;
  };

  before(async function () {
    const found = findPostgres();
    if ('missing' in found) {
      console.log(`      skipped: ${found.missing}`);
      this.skip();
    }
    server = await startPostgres();
  });

  after(function () {
    // removing the throwaway cluster (a database per test folder, over a hundred) waits on the
    // disk, which other work on a shared machine can make slow
    this.timeout(5 * 60 * 1000);
    server?.stop();
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  it('stores, counts and reports as on SQLite; a PostgreSQL error is a STORAGE refusal that changes nothing', async () => {
    const dir = tmp('store');
    const dc = await openDataCenter(dir, undefined, undefined, server.url('pss_{data}'));
    try {
      expect(dc.store.kind).to.equal('postgres');
      const a = dc.kms.createAccount('Mail house');
      dc.kms.deposit(a.account, 100000, 'payment 1');
      const reg = dc.kms.registerDevice('PG-SERIAL-1', 'pico', undefined, a.account);
      const psd = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
      const blocks = [1, 2, 3].map((seq) => psd.nextBlock(sampleRecords(50, undefined, seq)));
      for (const b of blocks) expect(dc.pss.upload(b).stored).to.equal(true);
      expect((await dc.pss.uploadGrouped(blocks[2])).stored).to.equal(false);
      expect(dc.pss.counts()).to.include({ devices: 1, blocks: 3, records: 150 });
      const report = runReport(dc.store, { by: ['device', 'month'] });
      expect(report.totals.blocks).to.equal(3);
      // a change that fails half way leaves nothing behind
      expect(() => dc.store.change(() => {
        dc.store.run("INSERT INTO accounts(account, name, balance, created_at) VALUES (99, 'x', 0, 0)");
        dc.store.run('INSERT INTO devices(device, serial, board, seal, registered_at, account) VALUES (5, ?, ?, 1, 0, 12345)', ['s', 'pico']);
      })).to.throw(PssError, /foreign key/);
      expect(dc.kms.account(99)).to.equal(undefined);
    } finally {
      dc.close();
    }
  });

  it('pss migrate moves an SQLite data folder to PostgreSQL: every table, row counts verified, the ledger goes on', async () => {
    const dir = tmp('migrate');
    const dc = await openDataCenter(dir, undefined, undefined, 'sqlite');
    const a = dc.kms.createAccount('Mail house');
    dc.kms.deposit(a.account, 50000, 'payment 1');
    const reg = dc.kms.registerDevice('MIGRATE-1', 'pico', undefined, a.account);
    dc.kms.fundsReset(reg.device, 20000);
    const psd = new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
    for (let seq = 1; seq <= 4; seq++) dc.pss.upload(psd.nextBlock(sampleRecords(50, undefined, seq)));
    const forger = new SampleDevice(reg.device, { algorithm: 1, deviceKey: 'k'.repeat(32) });
    expect(() => dc.pss.upload(forger.nextBlock(sampleRecords(1)))).to.throw(PssError);
    const before = dc.pss.counts();
    const sqliteReport = runReport(dc.store, { by: ['customer', 'class'] });
    const ledger = dc.kms.ledger();
    dc.close();
    // a pss serve still running on the SQLite file while it is moved
    const stillServing = await openDataCenter(dir, undefined, undefined, 'sqlite');

    const url = server.url('pss_migrated');
    const r = spawnSync(process.execPath, [PSS, 'migrate', '--from', dir, '--to', url, '--json'], { encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { tables: { table: string; rows: number }[] };
    const rows = Object.fromEntries(out.tables.map((t) => [t.table, t.rows]));
    expect(rows).to.include({ accounts: 1, devices: 1, blocks: 4, records: 200, funds_resets: 1, ledger: 2, rejections: 1 });

    // the same data center on PostgreSQL: same counts, report and ledger; new entries go on
    const pg = await openDataCenter(dir, undefined, undefined, url);
    try {
      expect(pg.pss.counts()).to.deep.equal(before);
      expect(runReport(pg.store, { by: ['customer', 'class'] })).to.deep.equal(sqliteReport);
      expect(pg.kms.ledger()).to.deep.equal(ledger);
      const next = pg.kms.deposit(a.account, 1, 'after the move');
      expect(next.entry).to.equal(ledger[ledger.length - 1].entry + 1);
      expect(pg.pss.upload(psd.nextBlock(sampleRecords(50, undefined, 5))).stored).to.equal(true);
      expect(Buffer.isBuffer(pg.store.get<{ raw: Buffer }>('SELECT raw FROM blocks WHERE device = ? AND seq = 1', [reg.device])!.raw)).to.equal(true);
    } finally {
      pg.close();
    }

    // the SQLite copy takes no more changes: neither the service that was running on it nor a
    // new one (the two databases cannot drift apart)
    try {
      expect(() => stillServing.pss.upload(psd.nextBlock(sampleRecords(50, undefined, 6)))).to.throw(PssError, /was moved to PostgreSQL/);
    } finally {
      stillServing.close();
    }
    let reopened: Error | null = null;
    await openDataCenter(dir, undefined, undefined, 'sqlite').then((d) => d.close(), (e) => (reopened = e));
    expect(String(reopened)).to.match(/was moved to PostgreSQL \(postgres/);
    const twice = spawnSync(process.execPath, [PSS, 'migrate', '--from', dir, '--to', url], { encoding: 'utf8', timeout: 60000 });
    expect(twice.status).to.equal(1);
    expect(twice.stderr).to.match(/moved to PostgreSQL already/);

    // another data folder's migration into a database that holds data is refused and changes nothing
    const other = tmp('migrate-other');
    (await openDataCenter(other, undefined, undefined, 'sqlite')).close();
    const again = spawnSync(process.execPath, [PSS, 'migrate', '--from', path.join(other, 'pss.sqlite'), '--to', url], { encoding: 'utf8', timeout: 60000 });
    expect(again.status).to.equal(1);
    expect(again.stderr).to.match(/already holds data/);
    expect((await openDataCenter(other, undefined, undefined, 'sqlite')).close()).to.equal(undefined);
    const snap = openPgSnapshot(url);
    try {
      expect(snap.get<{ n: number }>('SELECT COUNT(*) AS n FROM blocks')!.n).to.equal(5);
    } finally {
      snap.close();
    }
  });

  it('pss migrate prints the pss serve line to run next, quoted so a shell gives it the very URL', async () => {
    const dir = tmp('migrate-line');
    (await openDataCenter(dir, undefined, undefined, 'sqlite')).close();
    const url = server.url('pss_migrate_line');
    expect(url, 'a socket URL: its ? is what a shell would glob').to.include('?');
    const r = spawnSync(process.execPath, [PSS, 'migrate', '--from', dir, '--to', url], { encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    const line = /^pss: serve it with: (.*?)  \(or (.*)\)$/m.exec(r.stdout);
    expect(line, r.stdout).to.not.equal(null);
    // a shell with failglob (zsh's default) refuses an unquoted `?` that matches no file
    const words = (text: string) => {
      const sh = spawnSync('bash', ['-O', 'failglob', '-c', `for w in ${text}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
      expect(sh.status, sh.stderr).to.equal(0);
      return sh.stdout.split('\0').slice(0, -1);
    };
    expect(words(line![1])).to.deep.equal(['pss', 'serve', '--data', dir, '--db', url]);
    expect(words(line![2])).to.deep.equal([`PSS_DB=${url}`]);
  });

  it('moves the records of a schema-2 database over (numbered in the order stored, the old indexes gone)', () => {
    const url = server.url('pss_schema_two');
    // schema 2: the same tables, the records a heap with two indexes and no place in the block
    const old = PgStore.openSync(url, tmp('schema-two'));
    old.exec(`DROP TABLE records; CREATE TABLE records (device BIGINT NOT NULL, seq BIGINT NOT NULL, customer BIGINT NOT NULL, category BIGINT NOT NULL,
      weight_band BIGINT NOT NULL, postage BIGINT NOT NULL, pieces BIGINT NOT NULL, amount BIGINT NOT NULL, weight BIGINT NOT NULL,
      FOREIGN KEY (device, seq) REFERENCES blocks(device, seq));
      CREATE INDEX records_customer ON records(customer); CREATE INDEX records_block ON records(device, seq)`);
    old.change(() => {
      old.run("INSERT INTO devices(device, serial, board, seal, registered_at) VALUES (7, 'OLD', 'pico', 1, 0)");
      for (const seq of [1, 2]) old.run("INSERT INTO blocks VALUES (7, ?, 0, 0, 0, 0, 0, 0, 0, 0, 'dd', '\\x00', 'plain', 0)", [seq]);
      for (const [seq, customer, pieces] of [[2, 30, 1], [2, 20, 2], [1, 10, 3], [2, 10, 4]]) old.run('INSERT INTO records VALUES (7, ?, ?, 1, 0, 85, ?, ?, 18)', [seq, customer, pieces, pieces * 85]);
    });
    old.close();
    const store = PgStore.openSync(url, tmp('schema-three'));
    try {
      expect(store.all('SELECT seq, n, customer, pieces FROM records ORDER BY seq, n')).to.deep.equal([
        { seq: 1, n: 0, customer: 10, pieces: 3 },
        { seq: 2, n: 0, customer: 30, pieces: 1 },
        { seq: 2, n: 1, customer: 20, pieces: 2 },
        { seq: 2, n: 2, customer: 10, pieces: 4 }
      ]);
      expect(store.all("SELECT indexname FROM pg_indexes WHERE tablename = 'records' ORDER BY indexname").map((r) => r.indexname)).to.deep.equal(['records_pkey']);
      expect(() => store.change(() => store.run('INSERT INTO records VALUES (7, 9, 0, 1, 1, 0, 85, 1, 85, 18)'))).to.throw(PssError, /foreign key/);
    } finally {
      store.close();
    }
  });

  it('a migration that cannot verify rolls back: nothing is left in PostgreSQL', async () => {
    const dir = tmp('migrate-bad');
    const dc = await openDataCenter(dir, undefined, undefined, 'sqlite');
    const reg = dc.kms.registerDevice('MIGRATE-2', 'pico');
    dc.pss.upload(new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey }).nextBlock(sampleRecords(3)));
    // a row SQLite takes (foreign keys are off for this writer) and PostgreSQL refuses
    dc.store.run('PRAGMA foreign_keys = OFF');
    dc.store.run('INSERT INTO records(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) VALUES (424242, 1, 0, 1, 1, 1, 1, 1, 1, 1)');
    dc.close();
    const url = server.url('pss_rolled_back');
    expect(() => migrateToPostgres(dir, url)).to.throw(PssError, /foreign key/);
    const store = PgStore.openSync(url, dir);
    try {
      expect(store.get<{ n: number }>('SELECT COUNT(*) AS n FROM devices')!.n).to.equal(0);
      expect(store.get<{ n: number }>('SELECT COUNT(*) AS n FROM blocks')!.n).to.equal(0);
    } finally {
      store.close();
    }
  });

  it('{data} in the URL gives each data folder a database of its own', () => {
    const base = server.url('pss_{data}');
    expect(databaseUrlFor(base, '/a')).to.not.equal(databaseUrlFor(base, '/b'));
    expect(databaseUrlFor(base, '/a')).to.equal(databaseUrlFor(base, '/a/'));
  });

  it('the PSS suite passes on PostgreSQL as on SQLite', async function () {
    this.timeout(15 * 60 * 1000);
    const args = ['--no-config', '--node-option', 'import=tsx', '--timeout', '30000', '--reporter', 'dot', ...SUITE];
    const mocha = path.resolve('node_modules/mocha/bin/mocha.js');
    const child = spawn(process.execPath, [mocha, ...args], { env: { ...process.env, PSS_DB: server.url('pss_{data}') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const summary = output.split('\n').filter((l) => /passing|failing|pending/.test(l)).join('; ');
    console.log(`      on PostgreSQL: ${summary.trim()}`);
    if (code !== 0) console.log(output);
    expect(code, 'the PSS suite on PostgreSQL failed (its output is above)').to.equal(0);
  });
});
