// The psd store commands (list, show, prune) over a host store, in-process (the store itself: host-store.test.ts).
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { SEAL_HMAC } from '../protocol/block.ts';
import { toHex } from '../protocol/bytes.ts';
import { StoreError } from '../host-bridge/store.ts';
import { storeCommand } from '../host-bridge/store-command.ts';
import { T0, records, header, hmacBlock, storeWithThree, removeStores } from '../testkit/host-store-fixtures.ts';

after(removeStores);

describe('psd store commands', () => {
  /** Runs the command factory in-process; output captured, commander never exits the process. */
  async function run(args: string[], root = false): Promise<{ out: string; error?: any }> {
    const lines: string[] = [];
    const store = storeCommand({ out: (t) => lines.push(t) });
    const cmd = root ? new Command('psd').option('--json').addCommand(store) : store;
    const quiet = (c: Command) => {
      c.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
      c.commands.forEach(quiet);
    };
    quiet(cmd);
    try {
      await cmd.parseAsync(args, { from: 'user' });
      return { out: lines.join('\n') };
    } catch (error) {
      return { out: lines.join('\n'), error };
    }
  }

  it('list --json and the human table', async () => {
    const store = await storeWithThree();
    await store.markConfirmed(7, 1);
    const r = await run(['list', '--json', '--store', store.dir]);
    expect(r.error).to.equal(undefined);
    const j = JSON.parse(r.out);
    expect(j.store).to.equal(store.dir);
    expect(j.entries.map((e: any) => [e.device, e.seq, e.status, e.recordCount, e.problem])).to.deep.equal([
      [7, 1, 'confirmed', 3, undefined],
      [7, 2, 'stored', 3, undefined],
      [7, 3, 'stored', 3, undefined]
    ]);
    // --json given to the root `psd` (before or after the subcommand) works as well
    for (const args of [['--json', 'store', 'list', '--store', store.dir], ['store', 'list', '--json', '--store', store.dir]]) {
      const g = await run(args, true);
      expect(g.error).to.equal(undefined);
      expect(JSON.parse(g.out).entries).to.have.length(3);
    }
    const human = await run(['list', '--store', store.dir]);
    expect(human.out.split('\n')[0]).to.match(/^device\s+seq\s+status\s+records\s+extracted\s+confirmed\s+file$/);
    expect(human.out).to.match(/\n\s*7\s+1\s+confirmed\s+3\s+\S+Z\s+\S+Z\s+PSD-7-0000000001\.json/);
  });

  it('list with a damaged file: lists everything, then fails', async () => {
    const store = await storeWithThree();
    await fs.writeFile(path.join(store.dir, 'PSD-7-0000000002.json'), '{');
    const r = await run(['list', '--json', '--store', store.dir]);
    expect(JSON.parse(r.out).entries.map((e: any) => [e.seq, !!e.problem])).to.deep.equal([
      [1, false],
      [2, true],
      [3, false]
    ]);
    expect(r.error).to.be.instanceOf(StoreError);
    expect(r.error.message).to.equal(`1 damaged or conflicting file(s) in the block store ${store.dir}`);
    const human = await run(['list', '--store', store.dir]);
    expect(human.out).to.match(/\n\s*7\s+2\s+DAMAGED/);
    expect(human.out).to.match(/1 file\(s\) with problems:\n  PSD-7-0000000002\.json: not valid JSON/);
    expect(human.error).to.be.instanceOf(StoreError);
  });

  it('show --json: header fields, status and records; human output has the records table', async () => {
    const store = await storeWithThree();
    const r = await run(['show', '7', '2', '--json', '--store', store.dir]);
    expect(r.error).to.equal(undefined);
    const j = JSON.parse(r.out);
    const recs = records(2);
    const h = header(7, 2, recs, SEAL_HMAC);
    expect(j).to.deep.include({
      file: 'PSD-7-0000000002.json',
      device: 7,
      seq: 2,
      from: new Date((T0 + 86400) * 1000).toISOString().replace('.000Z', 'Z'),
      to: new Date((T0 + 2 * 86400) * 1000).toISOString().replace('.000Z', 'Z'),
      customers: [1001, 1002],
      recordCount: 3,
      algorithm: 'HMAC-SHA256',
      digest: toHex(hmacBlock(7, 2).digest),
      status: 'stored',
      port: '/dev/ttyACM0',
      records: recs
    });
    expect(j.registers).to.deep.equal({ ascending: h.ascending, descending: h.descending, pieces: h.pieces, previousAscending: 100000, previousPieces: 1000, fundsTotal: h.fundsTotal });

    const human = (await run(['show', '7', '2', '--store', store.dir])).out;
    expect(human).to.match(/^block\s+PSD-7 #2$/m);
    expect(human).to.match(/^seal\s+HMAC-SHA256$/m);
    expect(human).to.match(/^customer\s+category\s+weight band\s+postage\s+pieces\s+amount\s+weight g$/m);
    expect(human).to.match(/^\s*1002\s+3\s+251-500 g\s+2\.75\s+2\s+5\.50\s+800$/m);
    expect(human).to.match(/3 records, 26 pieces, 28\.90, 1520 g$/);
  });

  it('show of a missing or damaged block fails with a clear message; bad arguments are commander errors', async () => {
    const store = await storeWithThree();
    const missing = await run(['show', '7', '5', '--store', store.dir]);
    expect(missing.error.message).to.match(/^no block for device 7 seq 5 in /);
    await fs.writeFile(path.join(store.dir, 'PSD-7-0000000001.json'), 'x');
    expect((await run(['show', '7', '1', '--store', store.dir])).error.message).to.match(/^PSD-7-0000000001\.json is damaged: not valid JSON/);
    const bad = await run(['show', '7', 'two', '--store', store.dir]);
    expect(bad.error.code).to.equal('commander.invalidArgument');
  });

  it('prune --confirmed-older-than', async () => {
    const store = await storeWithThree();
    await store.markConfirmed(7, 1);
    await new Promise((r) => setTimeout(r, 5)); // confirmed strictly before "now" for --confirmed-older-than 0
    const keep = await run(['prune', '--confirmed-older-than', '1', '--json', '--store', store.dir]);
    expect(JSON.parse(keep.out).removed).to.deep.equal([]);
    const all = await run(['prune', '--confirmed-older-than', '0', '--store', store.dir]);
    expect(all.out).to.equal('removed 1 confirmed block(s):\n  PSD-7-0000000001.json');
    expect((await store.list()).map((e) => e.seq)).to.deep.equal([2, 3]);
    expect((await run(['prune', '--store', store.dir])).error.code).to.equal('commander.missingMandatoryOptionValue');
  });
});
