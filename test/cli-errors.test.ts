// Every `psd` command given bad arguments, no port, or a port that does not exist: a clear
// message on stderr, a non-zero exit, never a stack trace. The real CLI (bin/psd.js) runs as
// a child process, as a person would run it.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SerialPort } from 'serialport';
import { runCli, ptyPair } from '../testkit/target.ts';

const NO_SUCH_PORT = '/dev/does-not-exist';
const KEY = 'ab'.repeat(32);
/** a line of a JavaScript stack trace */
const STACK = /^\s+at .+:\d+(:\d+)?\)?$/m;

describe('psd CLI: bad arguments, no port, a port that does not exist', function () {
  this.timeout(60000);
  let store: string;
  before(() => {
    if (existsSync(NO_SUCH_PORT)) throw new Error(`${NO_SUCH_PORT} exists on this machine`);
    store = mkdtempSync(join(tmpdir(), 'psd-cli-errors-'));
  });
  after(() => rmSync(store, { recursive: true, force: true }));

  /** runs psd (never with PSD_PORT: runCli drops it) and checks the common rules */
  async function fails(args: string[], message: RegExp) {
    const r = await runCli(args, { env: { PSD_STORE: store, PSS_ADDRESS: '' } });
    const what = `psd ${args.join(' ')}\nstderr: ${r.stderr}`;
    expect(r.signal, what).to.equal(null);
    expect(r.code, what).to.be.a('number').and.not.equal(0);
    expect(r.stderr, what).to.match(message);
    expect(r.stderr, what).not.to.match(STACK);
    expect(r.stdout, what).not.to.match(STACK);
    return r;
  }

  // every command that talks to the device, with arguments that are fine
  const deviceCommands: string[][] = [
    ['status'],
    ['clock'],
    ['clock', '--now', '2026-11-24T12:00:00Z'],
    ['provision', '--device', '4711', '--device-key', KEY, '--kms-key', KEY],
    ['provision', '--kms', '127.0.0.1:1'],
    ['funds', '--amount', '5', '--kms-key', KEY],
    ['funds', '--amount', '5', '--counter', '2', '--mac', KEY],
    ['batch', 'start', '--customer', '1', '--mode', 'dynamic'],
    ['batch', 'start', '--customer', '1', '--mode', 'batch', '--category', '1', '--weight', '20', '--postage', '85'],
    ['batch', 'end'],
    ['frank', '--customer', '1', '--category', '1', '--weight', '20', '--postage', '85'],
    ['frank', '--count', '10'],
    ['stats', 'flush'],
    ['stats', 'list'],
    ['stats', 'list', '--tier', 'ram'],
    ['stats', 'extract'],
    ['config'],
    ['config', '--flush-every', '10'],
    ['flash', '--board', 'pico']
  ];

  describe(`--port ${NO_SUCH_PORT}: error 100 naming the port`, () => {
    for (const args of deviceCommands) {
      it(args.join(' '), async () => {
        await fails(['--port', NO_SUCH_PORT, ...args], /error 100: .*\/dev\/does-not-exist does not exist/);
      });
    }
    it('the same with --json: a JSON error on stderr', async () => {
      const r = await fails(['--json', '--port', NO_SUCH_PORT, 'status'], /"code":100/);
      expect(JSON.parse(r.stderr).error).to.include({ code: 100 });
    });
    it('upload checks its PSS first: no PSS at the address', async () => {
      await fails(['--port', NO_SUCH_PORT, 'upload', '--pss', '127.0.0.1:1'], /no PSS at 127\.0\.0\.1:1/);
    });
  });

  describe('no --port and no PSD_PORT: says how to give one', () => {
    for (const args of [['status'], ['frank', '--count', '1'], ['stats', 'extract'], ['config', '--flush-every', '10'], ['flash', '--board', 'pico']]) {
      it(args.join(' '), async () => {
        await fails(args, /error 100: .*no port given \(use --port or set PSD_PORT\)/);
      });
    }
  });

  describe('bad or missing arguments (with a port that does not exist: the argument is reported first)', () => {
    const cases: [string[], RegExp][] = [
      [['clock', '--now', 'garbage'], /error 6: .*--now garbage is not an ISO 8601 time/],
      [['provision'], /error 6: .*--kms/],
      [['provision', '--device', '1'], /needs --device, --device-key and --kms-key/],
      [['provision', '--device', '0', '--device-key', KEY, '--kms-key', KEY], /'--device <n>' argument '0' is invalid/],
      [['provision', '--device', '1', '--device-key', 'abc', '--kms-key', KEY], /'--device-key <hex64>' argument 'abc' is invalid/],
      [['funds'], /required option '--amount <minor>' not specified/],
      [['funds', '--amount', '5'], /error 6: .*--kms.*--counter and --mac.*--kms-key/],
      [['funds', '--amount', '-1', '--kms-key', KEY], /'--amount <minor>' argument '-1' is invalid/],
      [['funds', '--amount', '5', '--counter', 'x', '--mac', KEY], /'--counter <n>' argument 'x' is invalid/],
      [['funds', '--amount', '5', '--kms-key', KEY, '--mac', KEY], /cannot be used with/],
      [['batch'], /Usage: psd batch/],
      [['batch', 'start'], /required option '--customer <n>' not specified/],
      [['batch', 'start', '--customer', '1'], /required option '--mode <mode>' not specified/],
      [['batch', 'start', '--customer', '1', '--mode', 'sideways'], /'--mode <mode>' argument 'sideways' is invalid/],
      [['batch', 'start', '--customer', '0', '--mode', 'dynamic'], /'--customer <n>' argument '0' is invalid/],
      [['batch', 'start', '--customer', '1', '--mode', 'batch'], /error 6: .*mode batch needs --category and --weight \(and --postage where no rate table lists it\)/],
      [['batch', 'nonsense'], /unknown command 'nonsense'/],
      [['frank', '--count', 'lots'], /'--count <n>' argument 'lots' is invalid/],
      [['frank', '--customer', '1', '--category', '500', '--weight', '20', '--postage', '85'], /'--category <n>' argument '500' is invalid/],
      [['frank', '--count', '5', '--chunk', '2000'], /'--chunk <n>' argument '2000' is invalid/],
      [['frank', '--customer', '1', '--category', '1', '--weight', '20', '--postage', '85', '--print', '/dev/null/x'], /error 6: .*--print \/dev\/null\/x: cannot write there/],
      [['stats'], /Usage: psd stats/],
      [['stats', 'list', '--tier', 'disk'], /'--tier <tier>' argument 'disk' is invalid/],
      [['config', '--flush-period', '5'], /'--flush-period <s>' argument '5' is invalid/],
      [['config', '--low-storage', '95'], /'--low-storage <pct>' argument '95' is invalid/],
      [['config', '--lock-until-confirmed', 'maybe'], /'--lock-until-confirmed <on\|off>' argument 'maybe' is invalid/],
      [['upload', '--funds', '0'], /'--funds <minor>' argument '0' is invalid/],
      [['upload', '--pss', 'nonsense'], /"nonsense" is not a PSS address/],
      [['upload', '--pss', '127.0.0.1:1', '--session', '--funds', '5', '--credentials', '/tmp/does-not-exist.pem'], /error 6: bad argument: no such file: \/tmp\/does-not-exist\.pem \(the credential file --credentials names\)/],
      [['flash'], /required option '-b, --board <id>' not specified/],
      [['flash', '--board', 'nosuch'], /unknown board "nosuch"/],
      [['sim'], /sim needs --board <id> \(or --real/],
      [['sim', '--real', '--board', 'pico'], /--real runs the linux image only \(not pico\)/],
      [['sim', '--board', 'nosuch'], /unknown board "nosuch"/],
      [['store'], /Usage: psd store/],
      [['store', 'show'], /missing required argument 'device'/],
      [['store', 'show', 'x', '1'], /argument 'device'.*not an integer: x/],
      [['store', 'show', '1', '1'], /error 105: no block for device 1 seq 1/],
      [['store', 'prune'], /required option '--confirmed-older-than <days>' not specified/],
      [['store', 'list', '--store', '/etc/passwd'], /not a directory/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['status', '--bogus'], /unknown option '--bogus'/],
      [['--port', 'tcp://127.0.0.1:99999', 'status'], /Invalid URL|tcp:\/\/127\.0\.0\.1:99999/]
    ];
    for (const [args, message] of cases) {
      it(args.join(' '), async () => {
        await fails(args[0] === '--port' ? args : ['--port', NO_SUCH_PORT, ...args], message);
      });
    }
  });

  describe('argument errors: one line naming the problem, a pointer to the help of that command, exit 2', () => {
    const cases: [string[], string, string][] = [
      [['status', '--bogus'], "unknown option '--bogus'", 'psd status --help'],
      [['funds', '--amount'], "option '--amount <minor>' argument missing", 'psd funds --help'],
      [['batch', 'nonsense'], "unknown command 'nonsense'", 'psd batch --help'],
      [['frobnicate'], "unknown command 'frobnicate'", 'psd --help'],
      [['store', 'show'], "missing required argument 'device'", 'psd store show --help'],
      [['batch', 'start', '--customer', '0', '--mode', 'dynamic'], "option '--customer <n>' argument '0' is invalid. must be 1..4294967295", 'psd batch start --help']
    ];
    for (const [args, problem, help] of cases) {
      it(args.join(' '), async () => {
        const r = await fails(['--port', NO_SUCH_PORT, ...args], /./);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.equal(`psd: error 6: bad argument: ${problem}\n  hint: run \`${help}\`\n`);
        expect(r.stdout).to.equal('');
      });
    }
    it('with --json: the same as JSON', async () => {
      const r = await fails(['--json', '--port', NO_SUCH_PORT, 'batch', 'nonsense'], /./);
      expect(r.code).to.equal(2);
      expect(JSON.parse(r.stdout).error).to.deep.equal({ code: 6, message: "bad argument: unknown command 'nonsense'", hint: 'run `psd batch --help`' });
    });
    it('a command group without its subcommand shows its help (what it offers), exit 2', async () => {
      const r = await fails(['--port', NO_SUCH_PORT, 'batch'], /^Usage: psd batch/);
      expect(r.code).to.equal(2);
      const j = await fails(['--json', '--port', NO_SUCH_PORT, 'batch'], /Usage: psd batch/);
      expect(JSON.parse(j.stdout).error).to.deep.equal({ code: 6, message: 'bad argument: psd batch needs a subcommand', hint: 'run `psd batch --help`' });
    });
  });

  describe('global options are checked before talking to the device', () => {
    const socat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
    // --timeout and --retries are parsed as integers like the other options
    for (const [flag, value] of [
      ['--timeout', 'abc'],
      ['--timeout', '-5'],
      ['--retries', 'abc']
    ]) {
      it(`${flag} ${value} is refused as a bad argument (on a port where nothing answers)`, async function () {
        if (!socat) this.skip();
        const pair = await ptyPair();
        try {
          await fails(['--port', pair.a, flag, value, 'status'], new RegExp(`'${flag} <[a-z]+>' argument '${value}' is invalid`));
        } finally {
          await pair.close();
        }
      });
    }
  });

  describe('a port another program holds', () => {
    it('is reported as busy (error 103) with a hint, and nothing is sent', async function () {
      if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) this.skip();
      const pair = await ptyPair();
      // another program (a terminal, the Espruino IDE) holds the port with a lock
      const holder = new SerialPort({ path: pair.a, baudRate: 115200, lock: true, autoOpen: false });
      await new Promise<void>((ok, ko) => holder.open((e) => (e ? ko(e) : ok())));
      try {
        const r = await runCli(['--port', pair.a, '--timeout', '300', '--retries', '0', 'status']);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.match(/error 103: port busy: /);
        expect(r.stderr).to.match(/hint: another program holds the port/);
      } finally {
        await new Promise<void>((ok) => holder.close(() => ok()));
        await pair.close();
      }
    });
  });
});
