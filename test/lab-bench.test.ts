// Issue 13's housekeeping, each as a lab engineer hit it: psd sim without socat, two sims on
// one flash file, pty links left behind, psd ports, the device as printed (PSD-4711), Ctrl-C
// during a long franking, a --id replay, config --help, --json errors, the console file.
// The real CLI runs as a child process, as a person would run it.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, PSD_BIN, runCli, hasSocat, imagePath, realTargetUnavailable } from '../testkit/target.ts';
import { runSim, type RunningSim } from '../kit/vboard/run.ts';
import { listRunning, lockFlashFile, FlashInUseError } from '../kit/vboard/running.ts';

const KEY = 'cd'.repeat(32);
const KMS = 'ef'.repeat(32);

interface Sim {
  child: ChildProcess;
  info: any;
  stderr: () => string;
}

/** Starts `psd sim ... --json` as a child; resolves with its printed info, or rejects with
 * its exit and stderr. */
function startSim(args: string[], env: NodeJS.ProcessEnv, opts: { detached?: boolean } = {}): Promise<Sim> {
  const child = spawn(process.execPath, [PSD_BIN, 'sim', '--json', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('psd sim printed nothing in 20 s: ' + stderr)), 20000);
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        const info = JSON.parse(out);
        if (info.error) return; // --json: the error is JSON on stdout too; the exit rejects
        clearTimeout(timer);
        resolve({ child, info, stderr: () => stderr });
      } catch {
        /* not complete yet */
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const e = new Error(`psd sim exited ${code ?? signal}: ${stderr}`) as Error & { code: number | null; stderr: string; stdout: string };
      e.code = code;
      e.stderr = stderr;
      e.stdout = out;
      reject(e);
    });
  });
}

function exitOf(child: ChildProcess, signal?: NodeJS.Signals | 'group-SIGINT'): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, sig) => resolve({ code, signal: sig }));
    if (signal === 'group-SIGINT') process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C at a terminal does
    else if (signal) child.kill(signal);
  });
}

async function kill9(child: ChildProcess | undefined) {
  if (child && child.exitCode === null && child.signalCode === null) await exitOf(child, 'SIGKILL');
}

describe('lab bench (issue 13): psd sim, ports, names, interrupts, replays, help, --json', function () {
  this.timeout(90000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];
  const savedRuntime = process.env.PSD_RUNTIME_DIR;

  before(function () {
    if (!existsSync(imagePath('pico'))) throw new Error(`${imagePath('pico')} is missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'psd-bench-'));
    // this suite's own runtime folder: `psd ports` sees only what it started
    process.env.PSD_RUNTIME_DIR = join(dir, 'run');
    env = { ...process.env, PSD_STORE: join(dir, 'store'), PSS_ADDRESS: '' };
    delete env.PSD_PORT;
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await kill9(c);
  });
  after(() => {
    if (savedRuntime === undefined) delete process.env.PSD_RUNTIME_DIR;
    else process.env.PSD_RUNTIME_DIR = savedRuntime;
    rmSync(dir, { recursive: true, force: true });
  });

  describe('psd sim', () => {
    it('without socat: says so in one line, offers TCP, answers there, and exits on SIGTERM', async () => {
      const noSocat = join(dir, 'empty-path');
      mkdirSync(noSocat, { recursive: true }); // an empty folder: a PATH on which no socat can be found
      const t0 = Date.now();
      const sim = await startSim(['--board', 'pico', '--flash-file', join(dir, 'nosocat.flash')], { ...env, PATH: noSocat });
      children.push(sim.child);
      expect(Date.now() - t0, 'no 10 s wait for a socat that cannot start').to.be.below(8000);
      expect(sim.stderr()).to.match(/socat is not installed, so no pseudo-terminal: offering TCP only \(apt-get install socat/);
      expect(sim.info.pty).to.equal(undefined);
      expect(sim.info.tcp).to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const r = await runCli(['--port', sim.info.tcp, '--json', 'status'], { env });
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout).board).to.equal('pico');
      expect(await exitOf(sim.child, 'SIGTERM')).to.deep.equal({ code: 0, signal: null });
    });

    it('a second sim on the same flash file is refused, naming the first; after the first stops it runs', async () => {
      const flash = join(dir, 'shared.flash');
      const a = await startSim(['--board', 'pico', '--no-pty', '--flash-file', flash], env);
      children.push(a.child);
      let err: any = null;
      try {
        const b = await startSim(['--board', 'pico', '--no-pty', '--flash-file', flash], env);
        children.push(b.child);
      } catch (e) {
        err = e;
      }
      expect(err, 'the second sim must not start').to.not.equal(null);
      expect(err.code).to.equal(1);
      expect(JSON.parse(err.stdout).error.message).to.match(new RegExp(`^bad argument: .*shared\\.flash is in use by process ${a.child.pid}`));
      const text = await runCli(['sim', '--board', 'pico', '--no-pty', '--flash-file', flash], { env });
      expect(text.code).to.equal(1);
      expect(text.stderr).to.match(new RegExp(`error 6: bad argument: .*shared\\.flash is in use by process ${a.child.pid}[^]*hint: \`psd ports\` lists`));
      expect(await exitOf(a.child, 'SIGTERM')).to.deep.equal({ code: 0, signal: null });
      expect(existsSync(flash + '.lock'), 'the lock goes with the sim').to.equal(false);
      const c = await startSim(['--board', 'pico', '--no-pty', '--flash-file', flash], env);
      children.push(c.child);
      expect(c.info.flashFile).to.equal(flash);
      await exitOf(c.child, 'SIGTERM');
    });

    it('a lock left by a sim killed with -9 is taken over; a lock held by a live process refuses in-process too', async () => {
      const flash = join(dir, 'stale.flash');
      const a = await startSim(['--board', 'pico', '--no-pty', '--flash-file', flash], env);
      await exitOf(a.child, 'SIGKILL');
      expect(existsSync(flash + '.lock'), 'kill -9 leaves the lock').to.equal(true);
      const b = await startSim(['--board', 'pico', '--no-pty', '--flash-file', flash], env);
      children.push(b.child);
      expect(() => lockFlashFile(flash)).to.throw(FlashInUseError, `in use by process ${b.child.pid}`);
      await exitOf(b.child, 'SIGTERM');
    });

    it('the pty link in the temporary folder goes on Ctrl-C (the whole process group), on SIGTERM, and after kill -9 at the next start', async function () {
      if (!hasSocat()) this.skip();
      const mine = (pid: number) => readdirSync(tmpdir()).filter((n) => n.startsWith(`vboard-pico-${pid}-`));
      const isLink = (p: string) => {
        try {
          return lstatSync(p).isSymbolicLink();
        } catch {
          return false;
        }
      };
      // Ctrl-C at a terminal: SIGINT to the sim and everything in its group
      const a = await startSim(['--board', 'pico', '--flash-file', join(dir, 'links-a.flash')], env, { detached: true });
      children.push(a.child);
      expect(isLink(a.info.pty)).to.equal(true);
      expect(await exitOf(a.child, 'group-SIGINT')).to.deep.equal({ code: 0, signal: null });
      expect(isLink(a.info.pty), 'link after Ctrl-C').to.equal(false);
      expect(mine(a.child.pid!)).to.deep.equal([]);
      // SIGTERM
      const b = await startSim(['--board', 'pico', '--flash-file', join(dir, 'links-b.flash')], env);
      children.push(b.child);
      await exitOf(b.child, 'SIGTERM');
      expect(isLink(b.info.pty), 'link after SIGTERM').to.equal(false);
      // kill -9 cannot clean up; the next sim sweeps the dead process's link
      const c = await startSim(['--board', 'pico', '--flash-file', join(dir, 'links-c.flash')], env);
      await exitOf(c.child, 'SIGKILL');
      expect(isLink(c.info.pty), 'kill -9 leaves the link').to.equal(true);
      const d = await startSim(['--board', 'pico', '--flash-file', join(dir, 'links-d.flash')], env);
      children.push(d.child);
      expect(isLink(c.info.pty), 'swept by the next sim').to.equal(false);
      await exitOf(d.child, 'SIGTERM');
    });

    it('--console shows the console output the board kept in its file', async () => {
      const flash = join(dir, 'console.flash');
      const a = await startSim(['--board', 'pico', '--no-pty', '--flash-file', flash], env);
      children.push(a.child);
      expect(a.info.console).to.equal(join(dir, 'console.console.log'));
      // the board runs meanwhile: the file is readable while it does
      const r = await runCli(['sim', '--board', 'pico', '--flash-file', flash, '--console'], { env });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/\[sim\] power-up of pico/);
      expect(r.stdout).to.include(`(${a.info.console}:`);
      await exitOf(a.child, 'SIGTERM');
      const j = await runCli(['--json', 'sim', '--board', 'pico', '--flash-file', flash, '--console', '--lines', '1'], { env });
      expect(j.code, j.stderr).to.equal(0);
      const v = JSON.parse(j.stdout);
      expect(v.shown).to.have.length(1);
      expect(v.shown[0]).to.match(/\[sim\] stopped$/);
      expect(v.lines).to.be.above(1);
      const none = await runCli(['sim', '--board', 'pico', '--flash-file', join(dir, 'never.flash'), '--console'], { env });
      expect(none.code).to.equal(1);
      expect(none.stderr).to.match(/no console output kept at .*never\.console\.log/);
    });

    it('an image not built (or a wrong --image) is refused in words, with the build to run, and no board powers up', async () => {
      const flash = join(dir, 'unbuilt.flash');
      const missing = join(dir, 'no-such-image.js');
      const r = await runCli(['sim', '--board', 'pico', '--no-pty', '--flash-file', flash, '--image', missing], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(`psd: error 6: bad argument: ${missing} does not exist`);
      expect(r.stderr).to.match(/hint: check --image/);
      expect(r.stderr).not.to.match(/ENOENT|no such file or directory, open/);
      expect(existsSync(join(dir, 'unbuilt.console.log')), 'no power-up line for a board that never ran').to.equal(false);
      expect(existsSync(flash + '.lock')).to.equal(false);
      // the default image of a board not built: the hint names the build
      const { runSim: run, ImageMissingError } = await import('../kit/vboard/run.ts');
      const e = await run({ board: 'pico', image: missing, flashFile: flash, pty: false }).catch((x) => x);
      expect(e).to.be.instanceOf(ImageMissingError);
      const j = await runCli(['--json', 'sim', '--board', 'pico', '--no-pty', '--flash-file', flash, '--image', missing], { env });
      expect(JSON.parse(j.stdout).error).to.include({ code: 6, hint: 'check --image' });
    });

    it('psd sim --real with an image that is not there: error 6 in words, not an internal error', async function () {
      if (realTargetUnavailable() || !hasSocat()) this.skip();
      const missing = join(dir, 'no-such-linux.js');
      const r = await runCli(['sim', '--real', '--dir', join(dir, 'real-unbuilt'), '--image', missing], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(`psd: error 6: bad argument: ${missing} does not exist`);
      expect(r.stderr).to.match(/hint: check --image/);
      expect(r.stderr).not.to.match(/internal error/);
    });

    it('the console command a sim on its own --flash-file prints shows that board\'s console, not the default one', async () => {
      const flash = join(dir, 'own file.flash'); // a space: the printed command must quote it
      const child = spawn(process.execPath, [PSD_BIN, 'sim', '--board', 'pico', '--no-pty', '--flash-file', flash], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const out = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error('psd sim printed no console line in 20 s: ' + text)), 20000);
        child.stdout!.on('data', (d) => {
          text += d;
          if (/^try /m.test(text)) {
            clearTimeout(timer);
            resolve(text);
          }
        });
      });
      const hint = /^console log\s+(\S.*) \((psd sim .*) shows it\)$/m.exec(out);
      expect(hint, out).to.not.equal(null);
      expect(hint![1]).to.equal(join(dir, 'own file.console.log'));
      expect(hint![2]).to.equal(`psd sim --board pico --flash-file '${flash}' --console`);
      // run as printed (the shell's single quotes taken off): it shows this board's file
      const words = hint![2].match(/'[^']*'|\S+/g)!.map((w) => w.replace(/^'(.*)'$/, '$1')).slice(1);
      const r = await runCli(words, { env });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`(${hint![1]}:`);
      await exitOf(child, 'SIGTERM');
    });
  });

  describe('psd ports', () => {
    it('lists running virtual boards beside the serial ports, and forgets them when they stop or die', async () => {
      const a = await startSim(['--board', 'pico', '--no-pty', '--flash-file', join(dir, 'ports-a.flash')], env);
      children.push(a.child);
      const b = await startSim(['--board', 'esp32', '--no-pty', '--flash-file', join(dir, 'ports-b.flash')], env);
      children.push(b.child);
      const r = await runCli(['--json', 'ports'], { env });
      expect(r.code, r.stderr).to.equal(0);
      const v = JSON.parse(r.stdout);
      expect(v.serial).to.be.an('array');
      const byPid = (pid: number) => v.running.find((e: any) => e.pid === pid);
      expect(byPid(a.child.pid!)).to.include({ kind: 'virtual', board: 'pico', tcp: a.info.tcp, flashFile: join(dir, 'ports-a.flash') });
      expect(byPid(b.child.pid!)).to.include({ kind: 'virtual', board: 'esp32', tcp: b.info.tcp });
      const h = await runCli(['ports'], { env });
      expect(h.stdout).to.match(new RegExp(`${a.info.tcp.replace(/[.:/]/g, '\\$&')}\\s+virtual\\s+virtual board pico, process ${a.child.pid}`));
      await exitOf(a.child, 'SIGTERM');
      await exitOf(b.child, 'SIGKILL');
      const after = JSON.parse((await runCli(['--json', 'ports'], { env })).stdout);
      expect(after.running).to.deep.equal([]);
    });

    it('lists a real-interpreter run; psd sim --real --console shows its console', async function () {
      if (realTargetUnavailable() || !hasSocat()) this.skip();
      const { runReal } = await import('../kit/real/run.ts');
      const realDir = join(dir, 'real');
      const real = await runReal({ image: imagePath('linux'), pty: true, dir: realDir });
      try {
        // psd sim --real --console: what the interpreter printed on its own console
        const cons = await runCli(['sim', '--real', '--dir', realDir, '--console'], { env });
        expect(cons.code, cons.stderr).to.equal(0);
        expect(cons.stdout).to.match(/-> LoopbackA/);
        expect(cons.stdout).to.include(`(${join(realDir, 'console.log')}:`);
        const v = JSON.parse((await runCli(['--json', 'ports'], { env })).stdout);
        const e = v.running.find((x: any) => x.pid === process.pid && x.kind === 'real');
        expect(e).to.include({ board: 'linux', tcp: real.tcpUrl, pty: real.ptyPath, dir: real.board.dir, console: real.board.consoleLog });
        const h = await runCli(['ports'], { env });
        expect(h.stdout).to.match(/real\s+real interpreter \(linux\)/);
      } finally {
        await real.close();
      }
      expect(listRunning().filter((x) => x.pid === process.pid)).to.deep.equal([]);
    });
  });

  describe('on a virtual board: the device as printed, Ctrl-C, replays', () => {
    let sim: RunningSim;
    let port: string;
    const psd = (args: string[], timeoutMs = 30000) => runCli(['--port', port, ...args], { env, timeoutMs });
    before(async () => {
      sim = await runSim({ board: 'pico', flashFile: join(dir, 'franking.flash'), pty: false, log: () => {} });
      port = sim.tcpUrl;
      for (const args of [
        ['provision', '--device', 'PSD-4711', '--device-key', KEY, '--kms-key', KMS],
        ['funds', '--amount', '100000000', '--kms-key', KMS]
      ]) {
        const r = await psd(args);
        expect(r.code, r.stderr).to.equal(0);
      }
    });
    after(async () => {
      if (sim) await sim.close();
    });

    it('psd store show PSD-4711 1 takes the device as every screen prints it', async () => {
      const f = await psd(['frank', '--customer', '1001', '--category', '1', '--weight', '20', '--postage', '85']);
      expect(f.code, f.stderr).to.equal(0);
      const x = await psd(['stats', 'extract']);
      expect(x.code, x.stderr).to.equal(0);
      const seq = Number(/^block\s+PSD-4711 #(\d+)$/m.exec(x.stdout)?.[1]);
      expect(seq, x.stdout).to.be.above(0);
      for (const device of ['PSD-4711', 'psd-4711', '4711']) {
        const r = await runCli(['store', 'show', device, String(seq)], { env });
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(new RegExp(`block\\s+PSD-4711 #${seq}`));
      }
      const bad = await runCli(['store', 'show', 'PSD-x', '1'], { env });
      expect(bad.code, 'a usage error').to.equal(2);
      expect(bad.stderr).to.match(/not a device: PSD-x \(give it as PSD-4711 or 4711/);
    });

    it('a frank --id replay says it is a replay, and charges nothing', async () => {
      const piece = ['frank', '--customer', '1002', '--category', '1', '--weight', '20', '--postage', '85', '--id', '424242'];
      const first = await psd(piece);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).not.to.match(/REPLAY/);
      expect(first.stdout).to.match(/^franked\s+1 piece/m);
      const again = await psd(piece);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.match(/^REPLAY\s+request id 424242 was franked before: the device answered from that commit, nothing was charged now/m);
      expect(again.stdout).to.match(/^franked before\s+1 piece/m);
      const pieces = (s: string) => /^pieces\s+(\d+)/m.exec(s)![1];
      expect(pieces(again.stdout)).to.equal(pieces(first.stdout));
      const j = JSON.parse((await psd(['--json', ...piece])).stdout);
      expect(j.replay).to.equal(true);
      const k = JSON.parse((await psd(['--json', 'frank', '--customer', '1002', '--category', '1', '--weight', '20', '--postage', '85'])).stdout);
      expect(k.replay).to.equal(false);
    });

    it('Ctrl-C during frank --count 1000000 prints how far it got, exits 130, and the device agrees', async () => {
      const open = await psd(['batch', 'start', '--customer', '1003', '--mode', 'batch', '--category', '1', '--weight', '20', '--postage', '85']);
      expect(open.code, open.stderr).to.equal(0);
      const before = JSON.parse((await psd(['--json', 'status'])).stdout).registers.pieces;
      // a million pieces (850,000.00 of the 1,000,000.00 loaded): far more than the virtual board
      // franks in the 4 s before Ctrl-C (50,000 it franked in under 4 s once the core was faster)
      const child = spawn(process.execPath, [PSD_BIN, '--port', port, 'frank', '--count', '1000000', '--chunk', '20'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (err += d));
      await new Promise((r) => setTimeout(r, 4000));
      const exit = await exitOf(child, 'SIGINT');
      expect(exit, err + out).to.deep.equal({ code: 130, signal: null });
      expect(err).to.match(/interrupted: finishing the request on the line, then stopping/);
      const m = /^INTERRUPTED\s+(\d+) of 1000000 pieces franked \(Ctrl-C\); the other (\d+) were not sent/m.exec(out);
      expect(m, out + err).to.not.equal(null);
      const n = Number(m![1]);
      expect(n).to.be.above(0).and.below(1000000);
      expect(n + Number(m![2])).to.equal(1000000);
      expect(n % 20, 'whole requests only').to.equal(0);
      const after = JSON.parse((await psd(['--json', 'status'])).stdout).registers.pieces;
      expect(after - before).to.equal(n);
      expect(Number(/^pieces\s+(\d+)/m.exec(out)![1])).to.equal(after);
      await psd(['batch', 'end']);
    });
  });

  describe('help and --json', () => {
    it('npx psd and npx pss run the project\'s own CLIs from inside the project, without the registry (README)', async () => {
      const { spawnSync } = await import('node:child_process');
      for (const [bin, cwd] of [['psd', ROOT], ['pss', ROOT], ['psd', join(ROOT, 'test')]]) {
        const r = spawnSync('npx', ['--no-install', bin, '--help'], { cwd, env: { ...env, npm_config_offline: 'true' }, encoding: 'utf8', timeout: 60000 });
        expect(r.status, `${bin} in ${cwd}: ${r.stderr}`).to.equal(0);
        expect(r.stdout).to.match(new RegExp(`^Usage: ${bin} `));
      }
    });

    it('psd config --help describes each of its options in its description', async () => {
      const r = await runCli(['config', '--help'], { env });
      expect(r.code).to.equal(0);
      const description = r.stdout.split('Options:')[0].replace(/\s+/g, ' ');
      for (const opt of ['--flush-period', '--flush-every', '--low-storage', '--lock-until-confirmed', '--fold-when-full', '--records-on-host']) {
        expect(description, opt).to.include(opt);
        expect(r.stdout, opt).to.include(opt + ' <');
      }
    });

    it('--json: argument errors are JSON (code 6), on stdout as well as stderr, before or after the command', async () => {
      for (const args of [
        ['--json', 'frank', '--count', 'abc'],
        ['store', 'show', 'x', '1', '--json'],
        ['--json', 'batch', 'start', '--customer', '1', '--mode', 'sideways'],
        ['--json', 'nosuchcommand']
      ]) {
        const r = await runCli(args, { env });
        const what = `psd ${args.join(' ')}: ${r.stdout} ${r.stderr}`;
        expect(r.code, `${what}: a usage error`).to.equal(2);
        const e = JSON.parse(r.stdout).error;
        expect(e.code, what).to.equal(6);
        expect(e.hint, what).to.match(/^run `psd( [a-z]+)* --help`$/);
        expect(e.message, what).to.match(/^bad argument: /);
        expect(JSON.parse(r.stderr).error).to.deep.equal(e);
      }
    });

    it('--json: device and store errors are JSON on stdout too; without --json they stay text on stderr only', async () => {
      const r = await runCli(['--json', '--port', '/dev/does-not-exist', 'status'], { env });
      expect(r.code).to.equal(1);
      expect(JSON.parse(r.stdout).error).to.include({ code: 100 });
      const s = await runCli(['--json', 'store', 'show', 'PSD-4711', '999'], { env });
      expect(JSON.parse(s.stdout).error).to.include({ code: 105 });
      const t = await runCli(['frank', '--count', 'abc'], { env });
      expect(t.code, 'a usage error').to.equal(2);
      expect(t.stdout).to.equal('');
      expect(t.stderr).to.match(/argument 'abc' is invalid\. not an integer: abc/);
      const h = await runCli(['--json', 'status', '--help'], { env });
      expect(h.code, 'help is not an error').to.equal(0);
    });
  });
});

