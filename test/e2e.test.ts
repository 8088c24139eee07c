// End to end: the built firmware image in the virtual board on a pseudo-terminal (or a real
// PSD when PSD_PORT is set), driven by the real `psd` CLI as a child process and by PsdClient
// through the real serialport path.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { startTarget, runCli, ptyPair, hasSocat, imagePath, imageBuildHash, ROOT, PSD_BIN, type Target } from '../testkit/target.ts';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

function expectStatus(s: any, t: Target) {
  expect(s.deviceId).to.be.a('string').and.not.empty;
  expect(s.board).to.equal(t.board);
  expect(s.firmwareVersion).to.equal(pkg.version);
  expect(s.buildHash).to.match(/^[0-9a-f]{12}$/);
  if (!t.real) expect(s.buildHash).to.equal(imageBuildHash(imagePath(t.board)));
  expect(s.uptime).to.be.a('number').and.at.least(0);
  expect(s.resetCause).to.be.a('string').and.not.empty;
  for (const k of ['ascending', 'descending', 'pieces', 'controlTotal']) expect(s.registers[k], 'registers.' + k).to.be.a('number');
  for (const k of ['used', 'free', 'total']) expect(s.storage[k], 'storage.' + k).to.be.a('number');
  expect(s.storage.used + s.storage.free).to.equal(s.storage.total);
  if (s.memory !== null) {
    expect(s.memory.used).to.be.a('number');
    expect(s.memory.total).to.be.a('number');
    expect(s.memory.used).to.be.at.most(s.memory.total);
  }
}

describe('end to end: psd CLI and host bridge against the PSD', function () {
  this.timeout(30000);
  let t: Target;

  before(async function () {
    t = await startTarget();
  });
  after(async () => {
    await t?.close();
  });

  it('psd status --json shows identity, firmware, uptime, registers, storage and memory', async () => {
    const r = await runCli(['--port', t.port, 'status', '--json']);
    expect(r.stderr, r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    const s = JSON.parse(r.stdout);
    expectStatus(s, t);
    if (!t.real) {
      expect(t.port, 'the virtual board is reached through a pseudo-terminal').to.satisfy((p: string) => !hasSocat() || !p.startsWith('tcp://'));
    }
  });

  it('psd status (human output) names the device', async () => {
    const json = JSON.parse((await runCli(['--port', t.port, 'status', '--json'])).stdout);
    const r = await runCli(['--port', t.port, 'status']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(json.deviceId);
    expect(r.stdout).to.include(json.buildHash);
    expect(r.stdout).to.match(/ascending\s+0\.00/);
  });

  it('PsdClient in-process over openLink (the serialport path for a pty)', async () => {
    const link = await openLink(t.port);
    const client = new PsdClient(link, { timeoutMs: 2000, retries: 2 });
    try {
      const s = await client.request(Command.STATUS);
      expectStatus(s, t);
      const e = await client.request(Command.ECHO, { data: 'hello \u00e9 PSD' });
      expect(e.data).to.equal('hello \u00e9 PSD');
      // an error answer has a code and a message
      let err: any = null;
      await client.request(Command.ECHO as number, { data: 42 }).catch((x) => (err = x));
      expect(err).to.be.an('error');
      expect(err.code).to.equal(ErrorCode.BAD_ARGUMENT);
      expect(err.message).to.match(/bad argument/);
      expect(client.stats.retransmits).to.equal(0);
    } finally {
      await client.close();
    }
  });

  describe('errors through the CLI', () => {
    it('a nonexistent port: exit 1, "no device"', async () => {
      const r = await runCli(['--port', '/dev/does-not-exist', 'status']);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(/error 100: no device at this port: \/dev\/does-not-exist does not exist/);
      expect(r.stderr).to.match(/hint: /);
    });

    it('--json errors are JSON on stderr', async () => {
      const r = await runCli(['--port', '/dev/does-not-exist', 'status', '--json']);
      expect(r.code).to.equal(1);
      const e = JSON.parse(r.stderr);
      expect(e.error.code).to.equal(ErrorCode.NO_DEVICE);
      expect(e.error.message).to.include('/dev/does-not-exist');
      expect(e.error.hint).to.be.a('string');
    });

    it('no --port at all: a clear error', async () => {
      const r = await runCli(['status']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/no port given/);
    });

    it('a pty where nothing answers: exit 1, "no answer"', async function () {
      if (!hasSocat()) this.skip();
      const pair = await ptyPair();
      try {
        const r = await runCli(['--port', pair.a, '--timeout', '300', '--retries', '1', 'status']);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.match(/error 101: no answer from the device: status: 2 tries, 300 ms each/);
        const j = await runCli(['--port', pair.a, '--timeout', '200', '--retries', '0', 'status', '--json']);
        expect(j.code).to.equal(1);
        expect(JSON.parse(j.stderr).error.code).to.equal(ErrorCode.NO_ANSWER);
      } finally {
        await pair.close();
      }
    });

    it('a pty with an Espruino REPL on it (no PSD firmware): exit 1, "does not speak this protocol"', async function () {
      if (!hasSocat()) this.skip();
      // a blank image leaves the console on the data port: the board echoes and evaluates
      const repl = await startTarget({ virtual: true, image: '// no PSD firmware\n' });
      try {
        const r = await runCli(['--port', repl.port, '--timeout', '300', '--retries', '1', 'status']);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.match(/error 102: the device does not speak this protocol/);
        expect(r.stderr).to.match(/hint: .*REPL/);
      } finally {
        await repl.close();
      }
    });
  });

  describe('help', () => {
    for (const args of [['--help'], ['status', '--help'], ['sim', '--help']]) {
      it(`psd ${args.join(' ')} exits 0 and shows usage`, async () => {
        const r = await runCli(args);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.match(/^Usage: psd /);
        expect(r.stdout).to.include('--port');
        if (args[0] === '--help') for (const c of ['ports', 'status', 'sim']) expect(r.stdout).to.include(c);
        if (args[0] === 'sim') expect(r.stdout).to.include('--board');
      });
    }
  });

  describe('psd sim as a child process', () => {
    let sim: ChildProcess | null = null;
    let dir = '';
    before(function () {
      if (t.real) this.skip();
    });
    afterEach(async () => {
      if (sim && sim.exitCode === null && sim.signalCode === null) {
        const p = sim;
        await new Promise<void>((r) => {
          p.once('exit', () => r());
          p.kill('SIGKILL');
        });
      }
      sim = null;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('offers tcp:// (and a pty), answers psd status over it, and stops on SIGTERM', async () => {
      dir = mkdtempSync(join(tmpdir(), 'psd-sim-'));
      const args = [PSD_BIN, 'sim', '--board', 'pico', '--tcp-port', '0', '--json', '--flash-file', join(dir, 'pico.flash')];
      if (!hasSocat()) args.push('--no-pty');
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      sim = child;
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const info = await new Promise<any>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error('psd sim printed nothing: ' + stderr)), 15000);
        child.stdout!.on('data', (d) => {
          out += d;
          try {
            const v = JSON.parse(out);
            clearTimeout(timer);
            resolve(v);
          } catch {
            /* not complete yet */
          }
        });
        child.once('exit', (code) => reject(new Error(`psd sim exited ${code}: ${stderr}`)));
      });
      expect(info.board).to.equal('pico');
      expect(info.tcp).to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(info.pid).to.equal(child.pid);
      const r = await runCli(['--port', info.tcp, 'status', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const s = JSON.parse(r.stdout);
      expectStatus(s, { port: info.tcp, board: 'pico', real: false, close: async () => {} });
      if (info.pty) {
        const p = await runCli(['--port', info.pty, 'status', '--json']);
        expect(p.code, p.stderr).to.equal(0);
        expect(JSON.parse(p.stdout).deviceId).to.equal(s.deviceId);
      }
      const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.kill('SIGTERM');
      });
      expect(exit).to.deep.equal({ code: 0, signal: null });
    });
  });
});
