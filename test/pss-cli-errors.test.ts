// `pss` as a newcomer mistypes it: a data folder that does not exist, a credential name given
// twice. A clear message on stderr, a non-zero exit, and nothing made or changed. The real CLI
// (bin/pss.js) runs as a child process, as a person would run it.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PSS = join(import.meta.dirname, '..', 'bin', 'pss.js');
/** a line of a JavaScript stack trace */
const STACK = /^\s+at .+:\d+(:\d+)?\)?$/m;

function pss(args: string[], cwd?: string) {
  const env = { ...process.env, PSS_DB: '', PSS_DATA: '', PSS_CREDENTIALS: '', PSS_MASTER_KEY: '', PSS_MASTER_KEY_FILE: '' };
  const r = spawnSync(process.execPath, [PSS, ...args], { encoding: 'utf8', timeout: 60000, env, cwd });
  expect(r.stderr, `pss ${args.join(' ')}`).not.to.match(STACK);
  return r;
}

describe('pss CLI: mistyped data folders and names', function () {
  this.timeout(120000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'pss-cli-errors-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('a --data folder that does not exist is refused, and not made', () => {
    const commands: string[][] = [
      ['devices'],
      ['register', '--serial', 'S1', '--board', 'pico'],
      ['revoke', '4711'],
      ['withdraw', '4711'],
      ['account', 'list'],
      ['account', 'create', '--name', 'Mail house A'],
      ['deposit', '--account', '1', '--amount', '100'],
      ['ledger'],
      ['credential', 'list'],
      ['credential', 'issue', '--name', 'bob', '--role', 'auditor', '--out', 'bob.pem'],
      ['credential', 'revoke', 'bob'],
      ['rates', 'list'],
      ['audits'],
      ['events'],
      ['report'],
      ['discounts', '--period', '2026-11'],
      ['export', '--period', '2026-11', '--out', 'export-out']
    ];
    for (const args of commands) {
      it(args.join(' '), () => {
        const data = join(tmp, 'mistyped');
        const r = pss([...args, '--data', data], tmp);
        expect(r.status, r.stderr).to.equal(1);
        expect(r.stderr).to.include(`pss: BAD_ARGUMENT: no data center at ${data}: the folder does not exist (check --data or PSS_DATA); to make a new data center there: pss init --data ${data}`);
        expect(existsSync(data), 'nothing made at the mistyped folder').to.equal(false);
        expect(existsSync(join(tmp, 'bob.pem'))).to.equal(false);
      });
    }
    it('pss init makes it; then the same command works there', () => {
      const data = join(tmp, 'made');
      expect(pss(['init', '--data', data]).status).to.equal(0);
      const r = pss(['devices', '--data', data]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/no devices registered/);
    });
  });

  describe('argument errors: one line naming the problem, a pointer to the help of that command, exit 2', () => {
    const cases: [string[], string, string][] = [
      [['revoke', '--bogus'], "unknown option '--bogus'", 'pss revoke --help'],
      [['revoke'], "missing required argument 'device'", 'pss revoke --help'],
      [['report', '--by'], "option '--by <fields>' argument missing", 'pss report --help'],
      [['credential', 'nonsense'], "unknown command 'nonsense'", 'pss credential --help'],
      [['frobnicate'], "unknown command 'frobnicate'", 'pss --help'],
      [['credential', 'issue', '--name', 'x', '--role', 'king', '--out', 'x.pem'], "option '--role <role>' argument 'king' is invalid. Allowed choices are operator, auditor.", 'pss credential issue --help']
    ];
    for (const [args, problem, help] of cases) {
      it(args.join(' '), () => {
        const r = pss(args, tmp);
        expect(r.status).to.equal(2);
        expect(r.stderr).to.equal(`pss: BAD_ARGUMENT: ${problem} (run \`${help}\`)\n`);
        expect(r.stdout).to.equal('');
      });
    }
    it('a command group without its subcommand shows its help, exit 2', () => {
      const r = pss(['credential'], tmp);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/^Usage: pss credential/);
    });
  });

  it('a credential file that does not exist: "no such file", naming where the name came from', () => {
    const missing = join(tmp, 'no-such.pem');
    const r = pss(['report', '--pss', '127.0.0.1:1', '--credentials', missing]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.equal(`pss: BAD_ARGUMENT: no such file: ${missing} (the credential file --credentials names)\n`);
    const env = spawnSync(process.execPath, [PSS, 'report', '--pss', '127.0.0.1:1'], { encoding: 'utf8', env: { ...process.env, PSS_CREDENTIALS: missing, PSS_CREDENTIALS_PEM: '' } });
    expect(env.stderr).to.equal(`pss: BAD_ARGUMENT: no such file: ${missing} (the credential file PSS_CREDENTIALS names)\n`);
  });

  describe('a credential name that is already active is refused, nothing changed', () => {
    let data: string;
    const names = () => JSON.parse(pss(['credential', 'list', '--json', '--data', data]).stdout).map((c: { name: string; revoked_at: number | null }) => `${c.name}${c.revoked_at ? ' (revoked)' : ''}`);
    before(() => {
      data = join(tmp, 'creds');
      const r = pss(['init', '--data', data, '--operator', 'alice', '--out', join(tmp, 'alice.pem')]);
      expect(r.status, r.stderr).to.equal(0);
    });

    it('pss init --operator alice a second time', () => {
      const r = pss(['init', '--data', data, '--operator', 'alice', '--out', join(tmp, 'alice-2.pem')]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/pss: BAD_ARGUMENT: a credential named 'alice' is already active \(operator, serial [0-9A-F]+\): choose another name, or revoke it first \(pss credential revoke [0-9A-F]+\)/);
      expect(existsSync(join(tmp, 'alice-2.pem'))).to.equal(false);
      expect(names()).to.deep.equal(['alice']);
    });

    it('pss credential issue --name alice (another role too)', () => {
      const r = pss(['credential', 'issue', '--name', 'alice', '--role', 'auditor', '--out', join(tmp, 'alice-3.pem'), '--data', data]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/a credential named 'alice' is already active/);
      expect(existsSync(join(tmp, 'alice-3.pem'))).to.equal(false);
      expect(names()).to.deep.equal(['alice']);
    });

    it('an --out file that exists: refused before anything is recorded', () => {
      const r = pss(['credential', 'issue', '--name', 'bob', '--role', 'auditor', '--out', join(tmp, 'alice.pem'), '--data', data]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include(`${join(tmp, 'alice.pem')} exists: a credential file is never overwritten`);
      expect(names()).to.deep.equal(['alice']);
    });

    it('once revoked, the name may be issued again', () => {
      expect(pss(['credential', 'revoke', 'alice', '--data', data]).status).to.equal(0);
      const r = pss(['credential', 'issue', '--name', 'alice', '--role', 'operator', '--out', join(tmp, 'alice-4.pem'), '--data', data]);
      expect(r.status, r.stderr).to.equal(0);
      expect(names()).to.deep.equal(['alice (revoked)', 'alice']);
    });
  });
});
