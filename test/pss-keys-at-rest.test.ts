// Keys at rest: the data directory defaults to the platform's data directory (not the working
// folder), is made 0700 with its key files 0600, and a directory others can read is refused;
// the master key may come from a file or the environment instead; .gitignore covers the old
// ./pss-data default. Each test runs on its own throwaway folders.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { openDataCenter } from '../server/datacenter.ts';
import { MASTER_KEY_FILE, CA_SEED_FILE, platformDataDir } from '../server/keyfiles.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { u32 } from '../protocol/bytes.ts';

const run = promisify(execFile);
const PSS = path.resolve('bin/pss.js');

async function refusal(p: Promise<unknown>): Promise<PssError> {
  try {
    await p;
  } catch (e) {
    return e as PssError;
  }
  throw new Error('expected a refusal');
}

describe('PSS keys at rest: data directory, modes, master key from elsewhere', function () {
  this.timeout(30000);
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-keys-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('defaults to the platform data directory ($XDG_DATA_HOME/psd-lab/pss), 0700, keys 0600, never the working folder', async () => {
    const xdg = path.join(tmp, 'xdg');
    const cwd = path.join(tmp, 'cwd');
    fs.mkdirSync(cwd);
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: xdg, HOME: tmp };
    delete env.PSS_DATA;
    delete env.PSS_MASTER_KEY;
    delete env.PSS_MASTER_KEY_FILE;
    // pss init makes it (other commands refuse a data directory that does not exist)
    await run(process.execPath, [PSS, 'init'], { env, cwd, encoding: 'utf8' });
    const r = await run(process.execPath, [PSS, 'register', '--serial', 'XDG-1', '--board', 'pico'], { env, cwd, encoding: 'utf8' });
    expect(r.stdout.trim()).to.equal('1001');
    const data = path.join(xdg, 'psd-lab', 'pss');
    expect(fs.statSync(data).mode & 0o777).to.equal(0o700);
    for (const f of [MASTER_KEY_FILE, CA_SEED_FILE]) expect(fs.statSync(path.join(data, f)).mode & 0o777, f).to.equal(0o600);
    expect(fs.readdirSync(cwd)).to.deep.equal([]);
    // in this process too (env-paths reads XDG_DATA_HOME)
    const saved = process.env.XDG_DATA_HOME;
    process.env.XDG_DATA_HOME = xdg;
    try {
      expect(platformDataDir()).to.equal(data);
    } finally {
      if (saved === undefined) delete process.env.XDG_DATA_HOME;
      else process.env.XDG_DATA_HOME = saved;
    }
  });

  it('refuses a data directory others can read, in the library and in `pss serve`', async () => {
    const data = path.join(tmp, 'open');
    fs.mkdirSync(data, { mode: 0o755 });
    fs.chmodSync(data, 0o755);
    const e = await refusal(openDataCenter(data));
    expect(e.code).to.equal('STORAGE');
    expect(e.message).to.match(/open to others \(mode 755\).*chmod 700/);
    expect(fs.readdirSync(data)).to.deep.equal([]); // nothing written into it
    const serve = spawnSync(process.execPath, [PSS, 'serve', '--port', '0', '--data', data], { encoding: 'utf8', timeout: 20000 });
    expect(serve.status).to.equal(1);
    expect(serve.stderr).to.match(/pss: STORAGE: data directory .* is open to others/);
    expect(fs.readdirSync(data)).to.deep.equal([]);
  });

  it('takes the master key from PSS_MASTER_KEY or a 0600 file: no master key file in the data directory; refuses a readable file', async () => {
    const master = crypto.randomBytes(32);
    const expectKey = (device: number) => crypto.createHmac('sha256', master).update(Buffer.from('PSD-DEVICE-KEY' + u32(device), 'latin1')).digest().toString('latin1');
    const a = path.join(tmp, 'a');
    let dc = await openDataCenter(a, undefined, { masterKeyHex: master.toString('hex') });
    const reg = dc.kms.registerDevice('ENV-1', 'pico');
    expect(reg.deviceKey).to.equal(expectKey(reg.device));
    dc.close();
    expect(fs.existsSync(path.join(a, MASTER_KEY_FILE))).to.equal(false);

    const keyFile = path.join(tmp, 'master.hex');
    fs.writeFileSync(keyFile, master.toString('hex') + '\n', { mode: 0o600 });
    dc = await openDataCenter(path.join(tmp, 'b'), undefined, { masterKeyFile: keyFile });
    const regB = dc.kms.registerDevice('FILE-1', 'pico');
    expect(regB.deviceKey).to.equal(expectKey(regB.device));
    dc.close();
    expect(fs.existsSync(path.join(tmp, 'b', MASTER_KEY_FILE))).to.equal(false);

    fs.chmodSync(keyFile, 0o644);
    const e = await refusal(openDataCenter(path.join(tmp, 'c'), undefined, { masterKeyFile: keyFile }));
    expect(e.message).to.match(/readable by others/);
    const bad = await refusal(openDataCenter(path.join(tmp, 'd'), undefined, { masterKeyHex: 'abc' }));
    expect(bad.code).to.equal('BAD_ARGUMENT');
    expect(bad.message).not.to.contain('abc');

    // the CLI reads the environment: the same key gives the same device keys
    const env = { ...process.env, PSS_MASTER_KEY: master.toString('hex') };
    await run(process.execPath, [PSS, 'init', '--data', path.join(tmp, 'e')], { env, encoding: 'utf8' });
    const out = await run(process.execPath, [PSS, 'register', '--serial', 'ENV-CLI', '--board', 'pico', '--data', path.join(tmp, 'e')], { env, encoding: 'utf8' });
    expect(out.stdout.trim()).to.equal('1001');
    expect(fs.existsSync(path.join(tmp, 'e', MASTER_KEY_FILE))).to.equal(false);
  });

  it('.gitignore covers the old ./pss-data default', () => {
    const lines = fs.readFileSync('.gitignore', 'utf8').split('\n').map((l) => l.trim());
    expect(lines.some((l) => /^\/?pss-data\/?$/.test(l))).to.equal(true);
    // and git agrees, where this is a clone
    const r = spawnSync('git', ['check-ignore', '-q', 'pss-data/kms-master.key'], { encoding: 'utf8' });
    if (r.status !== 128) expect(r.status).to.equal(0);
  });
});
