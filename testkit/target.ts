// The device the end-to-end tests talk to.
//
//   PSD_PORT unset: the built image dist/firmware/<board>.js (the test command builds first)
//   runs in the VirtualBoard, offered on a pseudo-terminal (socat) that the serialport
//   package opens exactly like a USB board; its flash lives in a fresh temp dir.
//   PSD_PORT=/dev/ttyACM0 [PSD_BOARD=pico]: the tests talk to that real device (or any
//   tcp://host:port) instead, and skip what only a virtual board can show.
import { findBuildHash, imageFiles } from '../kit/flash/image.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getBoard } from '../board-defs/index.ts';
import { VirtualBoard } from '../kit/vboard/board.ts';
import { exposeBoard } from '../kit/vboard/expose.ts';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from '../kit/real/binary.ts';
import { runReal } from '../kit/real/run.ts';
import type { RealBoard } from '../kit/real/runner.ts';

export const ROOT = resolve(import.meta.dirname, '..');
export const PSD_BIN = join(ROOT, 'bin/psd.js');

export interface Target {
  /** pty path, real serial path, or tcp://host:port */
  port: string;
  board: string;
  /** true when PSD_PORT points at a real device */
  real: boolean;
  /** the virtual board, when there is one */
  vb?: VirtualBoard;
  /** the real interpreter, when the target is one (kind 'real') */
  rb?: RealBoard;
  /** the TCP address of the virtual board or interpreter (always offered beside the pty) */
  tcpUrl?: string;
  close(): Promise<void>;
}

export interface TargetOptions {
  /** 'virtual' (default): the image in the VirtualBoard; 'real': the linux image on Espruino's
   * Linux build (ESPRUINO_BIN), booted from Storage (kit/real/runner.ts) */
  kind?: 'virtual' | 'real';
  /** kind 'real': which build (default resizable) */
  memory?: EspruinoMemory;
  /** board id (default PSD_BOARD or pico) */
  board?: string;
  /** offer a pty (default true); falls back to TCP when socat is missing */
  pty?: boolean;
  /** a different image file than dist/firmware/<board>.js */
  imagePath?: string;
  /** or image source text (e.g. a blank image that leaves the REPL on the data port) */
  image?: string;
  /** a virtual board even when PSD_PORT is set (for tests that need one) */
  virtual?: boolean;
  /** logs of the virtual board's other devices (default: dropped) */
  log?: (s: string) => void;
}

export function realPort(): string | undefined {
  return process.env.PSD_PORT || undefined;
}

export function targetBoard(): string {
  return process.env.PSD_BOARD || 'pico';
}

let socatKnown: boolean | null = null;
export function hasSocat(): boolean {
  if (socatKnown === null) socatKnown = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
  return socatKnown;
}

export function imagePath(board: string): string {
  return join(ROOT, 'dist/firmware', board + '.js');
}

/** The build hash baked into a built image (its boot code and Storage modules: see
 * kit/flash/image.ts). */
export function imageBuildHash(file: string): string {
  const h = findBuildHash(imageFiles(file));
  if (!h) throw new Error(`${file}: no build hash found`);
  return h;
}

/** Why the real interpreter cannot be a target here, or null when it can. */
export function realTargetUnavailable(memory: EspruinoMemory = 'resizable'): string | null {
  if (!findEspruino(memory)) return noEspruinoReason(memory);
  if (!hasSocat()) return 'no socat: the real interpreter opens its Serial1 on a pseudo-terminal (apt-get install socat)';
  return null;
}

/** The target kinds a suite runs on here: the virtual board always, the real interpreter
 * when this machine has it (tests that need it say why they skip, once per run). */
export function targetKinds(): ('virtual' | 'real')[] {
  // against a device on PSD_PORT (npm run test:hil) the suite runs once, on that device
  if (realPort()) return ['virtual'];
  return realTargetUnavailable() ? ['virtual'] : ['virtual', 'real'];
}

/** How a suite names its target in its title. */
export function targetTitle(kind: 'virtual' | 'real'): string {
  if (kind === 'real') return 'linux image on the real Espruino interpreter';
  return realPort() ? `the device on ${realPort()}` : 'virtual board';
}

let skipSaid = false;
/** Prints, once per run, why the real-interpreter suites are skipped. */
export function sayRealSkipped(): void {
  if (realPort()) return;
  const why = realTargetUnavailable();
  if (why && !skipSaid) {
    skipSaid = true;
    console.log(`    (real interpreter suites skipped: ${why})`);
  }
}

/** Starts the device under test: a real port when PSD_PORT is set, the real interpreter for
 * kind 'real', else a virtual board. */
export async function startTarget(opts: TargetOptions = {}): Promise<Target> {
  if (opts.kind === 'real') {
    const why = realTargetUnavailable(opts.memory);
    if (why) throw new Error(why);
    const r = await runReal({ image: opts.imagePath ?? imagePath('linux'), memory: opts.memory, pty: opts.pty !== false });
    return { port: r.ptyPath ?? r.tcpUrl, board: 'linux', real: false, rb: r.board, tcpUrl: r.tcpUrl, close: () => r.close() };
  }
  const port = realPort();
  if (port && !opts.virtual) return { port, board: opts.board ?? targetBoard(), real: true, close: async () => {} };
  const board = getBoard(opts.board ?? 'pico');
  const image = opts.imagePath ?? imagePath(board.id);
  if (opts.image === undefined && !existsSync(image)) throw new Error(`${image} is missing: run \`npm run build\` first (npm test does)`);
  const dir = mkdtempSync(join(tmpdir(), 'psd-target-'));
  const vb = new VirtualBoard({ board, ...(opts.image !== undefined ? { image: opts.image } : { imagePath: image }), flashFile: join(dir, 'flash.bin'), clock: 'real', log: opts.log ?? (() => {}) });
  vb.start();
  let ex;
  try {
    ex = await exposeBoard(vb, { pty: opts.pty !== false && hasSocat(), ptyLink: join(dir, 'tty') });
  } catch (e) {
    vb.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port: ex.ptyPath ?? ex.tcpUrl!,
    board: board.id,
    real: false,
    vb,
    tcpUrl: ex.tcpUrl,
    close: async () => {
      await ex.close();
      if (vb.running) vb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/psd.js ...args` asynchronously (a virtual board in this process keeps
 * running meanwhile), killing it after timeoutMs. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const env = { ...process.env, ...opts.env };
    delete env.PSD_PORT; // tests always say --port
    const child = spawn(process.execPath, [PSD_BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}

/** A pair of linked pseudo-terminals (socat pty <-> pty): open `a`, and whatever is written
 * there waits unread at `b`: a port where nothing answers. */
export async function ptyPair(): Promise<{ a: string; b: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'psd-ptypair-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const p: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  const t0 = Date.now();
  while (!(existsSync(a) && existsSync(b))) {
    if (p.exitCode !== null || Date.now() - t0 > 5000) {
      p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error('socat did not create a pty pair');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    a,
    b,
    close: async () => {
      if (p.exitCode === null && p.signalCode === null) {
        await new Promise<void>((r) => {
          p.once('exit', () => r());
          p.kill('SIGTERM');
          setTimeout(r, 2000).unref();
        });
      }
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
