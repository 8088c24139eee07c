// pss under --json: errors are JSON on stdout too (argument errors included), and a device is
// taken as every screen prints it (PSD-4711) as well as by its number (issue 13).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PSS = join(import.meta.dirname, '..', 'bin', 'pss.js');
const pss = (args: string[]) => spawnSync(process.execPath, [PSS, ...args], { encoding: 'utf8', timeout: 30000 });

describe('pss --json and device names', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pss-json-'));
    chmodSync(dir, 0o700);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an argument error is JSON on stdout with exit 2 (a usage error)', () => {
    const r = pss(['revoke', '--bogus', '--json']);
    expect(r.status).to.equal(2);
    expect(JSON.parse(r.stdout).error).to.deep.equal({ code: 'BAD_ARGUMENT', message: "unknown option '--bogus'", hint: 'run `pss revoke --help`' });
  });

  it('a refusal is JSON on stdout, and PSD-4711 names device 4711', () => {
    const r = pss(['--data', dir, 'revoke', 'PSD-4711', '--json']);
    expect(r.status).to.equal(1);
    const e = JSON.parse(r.stdout).error;
    expect(e.message).to.contain('device 4711');
    const bad = pss(['--data', dir, 'revoke', 'PSD-x', '--json']);
    expect(JSON.parse(bad.stdout).error.code).to.equal('BAD_ARGUMENT');
  });

  it('help still exits 0', () => {
    expect(pss(['--help']).status).to.equal(0);
  });
});
