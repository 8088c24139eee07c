// kit/durable.ts: the one durable write of the host and the data center.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { writeDurable, writeDurableSync, TEMP_PREFIX } from '../kit/durable.ts';

describe('durable writes (kit/durable.ts)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durable-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, write] of [
    ['async', (f: string, d: string | Uint8Array, o?: Parameters<typeof writeDurableSync>[2]) => writeDurable(f, d, o)],
    ['sync', async (f: string, d: string | Uint8Array, o?: Parameters<typeof writeDurableSync>[2]) => writeDurableSync(f, d, o)]
  ] as const) {
    it(`${name}: replace writes over the old version, 0600 unless told, and leaves no temp file`, async () => {
      const f = path.join(dir, 'a.json');
      expect(await write(f, 'one')).to.equal(true);
      expect(await write(f, Buffer.from('two'))).to.equal(true);
      expect(fs.readFileSync(f, 'utf8')).to.equal('two');
      if (process.platform !== 'win32') expect(fs.statSync(f).mode & 0o777).to.equal(0o600);
      await write(path.join(dir, 'b.txt'), 'x', { fileMode: 0o644 });
      if (process.platform !== 'win32') expect(fs.statSync(path.join(dir, 'b.txt')).mode & 0o777).to.equal(0o644);
      expect(fs.readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX))).to.deep.equal([]);
    });

    it(`${name}: create never replaces an existing file and says so`, async () => {
      const f = path.join(dir, 'k.key');
      expect(await write(f, 'first', { mode: 'create' })).to.equal(true);
      expect(await write(f, 'second', { mode: 'create' })).to.equal(false);
      expect(fs.readFileSync(f, 'utf8')).to.equal('first');
      expect(fs.readdirSync(dir)).to.deep.equal(['k.key']);
    });
  }

  it('a write into a missing folder fails and leaves nothing', async () => {
    const f = path.join(dir, 'nope', 'a.json');
    let err: any;
    await writeDurable(f, 'x').catch((e) => (err = e));
    expect(err?.code).to.equal('ENOENT');
    expect(() => writeDurableSync(f, 'x')).to.throw(/ENOENT/);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
  });
});
