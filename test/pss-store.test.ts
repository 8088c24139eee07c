// The SQLite store's layout and upkeep (server/db.ts, server/schema.ts, server/wal-checkpoints.ts):
// records keyed by block and place (schema 3), an older data folder's records moved over, and
// the write-ahead log checkpointed by the store's own thread, not at commits.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDataCenter } from '../server/datacenter.ts';
import { SqliteStore, DB_FILE } from '../server/db.ts';
import { SCHEMA_SQL } from '../server/schema.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { runReport } from '../server/report.ts';

const tmp = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `pss-store-${tag}-`));

// the records table of schema 2 (a rowid table, two indexes, no place in the block)
const RECORDS_V2 = `CREATE TABLE records (device INTEGER NOT NULL, seq INTEGER NOT NULL, customer INTEGER NOT NULL,
  category INTEGER NOT NULL, weight_band INTEGER NOT NULL, postage INTEGER NOT NULL, pieces INTEGER NOT NULL,
  amount INTEGER NOT NULL, weight INTEGER NOT NULL, FOREIGN KEY (device, seq) REFERENCES blocks(device, seq));
CREATE INDEX records_customer ON records(customer);
CREATE INDEX records_block ON records(device, seq);`;

describe('PSS store on SQLite: layout and checkpoints', function () {
  this.timeout(60000);

  it('stores records WITHOUT ROWID keyed by (device, seq, n), n the place in the block, with no other index', async () => {
    const dir = tmp('layout');
    const dc = await openDataCenter(dir, undefined, undefined, 'sqlite');
    try {
      const reg = dc.kms.registerDevice('LAYOUT-1', 'pico');
      const recs = sampleRecords(7);
      dc.pss.upload(new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey }).nextBlock(recs));
      const rows = dc.store.all<{ n: number; customer: number; pieces: number }>('SELECT n, customer, pieces FROM records WHERE device = ? ORDER BY n', [reg.device]);
      expect(rows.map((r) => [r.n, r.customer, r.pieces])).to.deep.equal(recs.map((r, n) => [n, r.customer, r.pieces]));
      const sql = dc.store.get<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'records'")!.sql;
      expect(sql).to.match(/PRIMARY KEY \(device, seq, n\)/).and.match(/WITHOUT ROWID/);
      expect(dc.store.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL")).to.deep.equal([]);
      expect(dc.store.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')!.wal_autocheckpoint).to.equal(0);
    } finally {
      dc.close();
    }
  });

  it('moves the records of a schema-2 data folder over, numbered in the order they were stored', async () => {
    const dir = tmp('migrate');
    const file = path.join(dir, DB_FILE);
    const old = new Database(file);
    // schema 2: the same tables but the records
    old.exec(SCHEMA_SQL.replace(/CREATE TABLE IF NOT EXISTS records \([\s\S]*?\) WITHOUT ROWID;/, RECORDS_V2));
    old.exec("INSERT INTO devices(device, serial, board, seal, registered_at) VALUES (7, 'OLD', 'pico', 1, 0)");
    for (const seq of [1, 2]) {
      old.prepare("INSERT INTO blocks VALUES (7, ?, ?, ?, 0, 0, 0, 0, 0, 0, 'dd', x'00', 'plain', 0)").run(seq, 1790000000 + seq * 600, 1790000600 + seq * 600);
    }
    // stored out of key order: block 2's records first, customers descending
    const insert = old.prepare('INSERT INTO records VALUES (7, ?, ?, 1, 0, 85, ?, ?, 18)');
    for (const [seq, customer, pieces] of [[2, 30, 1], [2, 20, 2], [1, 10, 3], [2, 10, 4], [1, 5, 5]]) insert.run(seq, customer, pieces, pieces * 85);
    old.close();

    const store = await SqliteStore.open(dir);
    try {
      expect(store.all('SELECT seq, n, customer, pieces FROM records ORDER BY seq, n')).to.deep.equal([
        { seq: 1, n: 0, customer: 10, pieces: 3 },
        { seq: 1, n: 1, customer: 5, pieces: 5 },
        { seq: 2, n: 0, customer: 30, pieces: 1 },
        { seq: 2, n: 1, customer: 20, pieces: 2 },
        { seq: 2, n: 2, customer: 10, pieces: 4 }
      ]);
      expect(store.all("SELECT name FROM sqlite_master WHERE name IN ('records_customer', 'records_block', 'records_v3')")).to.deep.equal([]);
      expect(store.get<{ v: string }>("SELECT value AS v FROM meta WHERE key = 'schema_version'")!.v).to.equal('3');
      const report = runReport(store, { by: ['customer'] });
      expect(report.rows.map((r) => [r.customer, r.pieces])).to.deep.equal([[5, 5], [10, 7], [20, 2], [30, 1]]);
      // still a child of blocks
      expect(() => store.change(() => store.run('INSERT INTO records VALUES (7, 9, 0, 1, 1, 0, 85, 1, 85, 18)'))).to.throw(/FOREIGN KEY/);
    } finally {
      store.close();
    }
  });

  it('checkpoints the write-ahead log in its own thread while the store goes on committing', async () => {
    const dir = tmp('checkpoint');
    const store = await SqliteStore.open(dir);
    const file = path.join(dir, DB_FILE);
    try {
      store.change(() => store.run("INSERT INTO devices(device, serial, board, seal, registered_at) VALUES (1, 'CKPT', 'pico', 1, 0)"));
      const before = fs.statSync(file).size;
      const recs = sampleRecords(50);
      const raw = Buffer.alloc(1300, 7);
      // some 12 MB of log in 40 commits: past the 1,000 pages at which a checkpoint starts
      for (let c = 0; c < 40; c++) {
        store.change(() => {
          for (let b = 0; b < 50; b++) {
            const seq = c * 50 + b + 1;
            store.run("INSERT INTO blocks VALUES (1, ?, 0, 0, 0, 0, 0, 0, 0, 0, 'dd', ?, 'plain', 0)", [seq, raw]);
            store.runMany('INSERT INTO records(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', recs.map((r, n) => [1, seq, n, r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight]));
          }
        });
        await new Promise((r) => setTimeout(r, 5));
      }
      // the pages reach the database file while the store is open (no checkpoint at close yet)
      const deadline = Date.now() + 20000;
      while (fs.statSync(file).size < before + 4e6 && Date.now() < deadline) {
        store.change(() => {}); // a commit asks the thread again
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(fs.statSync(file).size).to.be.greaterThan(before + 4e6);
      expect(store.get<{ n: number }>('SELECT COUNT(*) AS n FROM records')!.n).to.equal(100000);
    } finally {
      store.close();
    }
    const again = await SqliteStore.open(dir);
    try {
      expect(again.get<{ n: number }>('SELECT COUNT(*) AS n FROM records')!.n).to.equal(100000);
      expect(again.get<{ integrity_check: string }>('PRAGMA integrity_check')!.integrity_check).to.equal('ok');
    } finally {
      again.close();
    }
  });
});
