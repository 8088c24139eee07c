/**
 * The real interpreter as a board: boots a linux image on Espruino 2v29's Linux build the way
 * a board boots it, and offers its Serial1 to host programs.
 *
 * - The working folder (private, one per board) holds `espruino.flash` (the board's whole
 *   flash: Storage and the PSD's statistics pages), `psd.pty` (the pseudo-terminal the image
 *   opens as Serial1, see LINUX_SERIAL_PATH in tools/build.ts) and `console.log` (what the
 *   interpreter prints on its own console: banner, console moves, `Uncaught ...`).
 * - The interpreter runs under a small bash keeper (KEEPER) that holds its input open and
 *   never leaves it running after the runner is gone.
 * - The image is written to Storage as `.bootcde` by the interpreter itself (a loader script
 *   that copies it in 1 KB chunks, then reports length and CRC-32, which are checked here), and
 *   the binary is then started with no file argument, so it runs the boot code from Storage
 *   with function bodies kept in flash, as a board does. Its standard input stays open (at end
 *   of input it floods its event queue and never reads Serial1).
 * - `E.reboot()` exits the Linux build ("Not implemented"); the runner then boots it again on
 *   the same flash, as a board restarts.
 * - `powerCut()` is SIGKILL (the binary hooks SIGINT/SIGTERM; a kill between two flash writes
 *   is what a power cut is to a board); `start()` again boots on the same flash file.
 *
 * Serial1 side: socat links `psd.pty` to a TCP connection into this process, so the board's
 * output arrives as 'hostData' events and `hostWrite()` reaches its Serial1, the same shape as
 * the VirtualBoard; `exposeBoard()` then offers it to hosts as a pty and a tcp:// address.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { getBoard, type BoardDef } from '../../board-defs/index.ts';
import { REBOOT_NOTICE } from '../../firmware/espruino/binding.ts';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from './binary.ts';
import { readImage } from '../flash/image.ts';

export interface RealBoardOptions {
  /** the built linux image (it opens Serial1 on `psd.pty` in its working folder) */
  imagePath: string;
  /** which build: resizable (default), or fixed at 5,100 / 2,630 variables */
  memory?: EspruinoMemory;
  /** the binary (default: findEspruino(memory)) */
  binary?: string;
  /** working folder (default: a fresh one in the temp folder, removed by close()) */
  dir?: string;
  /** socat binary (default "socat") */
  socat?: string;
}

/** Why the interpreter stopped without being told to: exit status, and the end of its console. */
export interface Death {
  code: number | null;
  signal: NodeJS.Signals | null;
  consoleTail: string;
}

/** SHA-256 hex of all of an image's files: what the working folder's Storage holds. */
function imageDigest(imagePath: string): string {
  const h = createHash('sha256');
  for (const f of readImage(imagePath).files) h.update(f.name + '\0' + f.code + '\0');
  return h.digest('hex');
}

/** Serial1 pacing on the fixed-variable builds (see RealBoard.hostWrite). */
const SERIAL_PACE_BYTES = 8;
const SERIAL_PACE_MS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The loader the interpreter runs to write an image's Storage files (the boot code as
 * `.bootcde`, the resident core and the on-demand modules), each from a file in the working
 * folder a kilobyte at a time, so even a 2,630-variable build never holds a file whole in
 * RAM. Prints `LOADED <name> <length> <crc32>` per file. It erases the old image's files and
 * compacts Storage first: on the Linux build Storage spans the whole flash file, the
 * statistics pages included, so Storage must never grow towards them (images come and go,
 * one at a time, from the start of the file). */
const LOADER = `
var S = require("Storage"), files = %FILES%, i, f, off, d, stored;
for (i = 0; i < files.length; i++) S.erase(files[i].name);
S.compact();
for (i = 0; i < files.length; i++) {
  f = E.openFile(files[i].src, "r"); off = 0;
  while (off < files[i].size) { d = f.read(1024); S.write(files[i].name, d, off, files[i].size); off += d.length; }
  f.close();
  stored = S.read(files[i].name);
  print("LOADED " + files[i].name + " " + stored.length + " " + (E.CRC32(stored) >>> 0));
}
`;

/** Runs the interpreter ($0) in its own process group with its standard input held open (a
 * pipe from `sleep`: at end of input it would flood its event queue and never read Serial1),
 * notes its exit status in the console log, and takes the whole group down when it ends or
 * when the runner's end of fd 3 closes, however the runner died: no interpreter is left
 * behind holding a flash file. */
const KEEPER = `
"$0" < <(sleep 2147483647) &
child=$!
(cat >/dev/null; kill -9 $child 2>/dev/null) <&3 &
wait $child
echo "[runner] the interpreter exited with status $?"
kill -9 0
`;

export class RealBoard extends EventEmitter {
  readonly dir: string;
  readonly binary: string;
  readonly consoleLog: string;
  readonly memory: EspruinoMemory;
  /** the linux board: the only one whose image this interpreter boots */
  readonly board: BoardDef = getBoard('linux');
  private readonly ownDir: boolean;
  private readonly imagePath: string;
  private readonly socatBin: string;
  private proc: ChildProcess | null = null;
  private socat: ChildProcess | null = null;
  private server: Server | null = null;
  private link: Socket | null = null;
  private expectExit = false;
  private closed = false;

  constructor(opts: RealBoardOptions) {
    super();
    this.memory = opts.memory ?? 'resizable';
    const bin = opts.binary ?? findEspruino(this.memory);
    if (!bin) throw new Error(noEspruinoReason(this.memory));
    this.binary = bin;
    this.imagePath = resolve(opts.imagePath);
    this.socatBin = opts.socat ?? 'socat';
    this.ownDir = !opts.dir;
    this.dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'psd-real-'));
    mkdirSync(this.dir, { recursive: true });
    this.consoleLog = join(this.dir, 'console.log');
  }

  /** true while the interpreter runs */
  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The flash file (the board's whole flash). */
  get flashFile(): string {
    return join(this.dir, 'espruino.flash');
  }

  /** Writes the image's Storage files (boot code as `.bootcde`, its modules) and checks what
   * was stored (length, CRC-32 of each). Everything else in the flash file (Storage's other
   * files, the statistics pages) stays. */
  loadImage(imagePath = this.imagePath): void {
    if (this.running) throw new Error('RealBoard.loadImage: power the board off first');
    const files = readImage(imagePath).files.map((f, i) => ({ name: f.name, src: `image-${i}.bin`, data: Buffer.from(f.code, 'latin1') }));
    for (const f of files) writeFileSync(join(this.dir, f.src), f.data);
    writeFileSync(join(this.dir, 'loader.js'), LOADER.replace('%FILES%', JSON.stringify(files.map((f) => ({ name: f.name, src: f.src, size: f.data.length })))));
    const r = spawnSync(this.binary, ['loader.js'], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000, encoding: 'latin1' });
    for (const f of files) {
      const m = new RegExp(`LOADED ${f.name.replace(/\./g, '\\.')} (\\d+) (\\d+)`).exec(r.stdout ?? '');
      const want = `${f.data.length} ${crc32(f.data) >>> 0}`;
      if (!m || `${m[1]} ${m[2]}` !== want)
        throw new Error(`the interpreter did not store ${f.name} (want length and CRC-32 ${want}, got ${m ? m[1] + ' ' + m[2] : 'nothing'}): ${tail(r.stdout + r.stderr, 600)}`);
    }
    unlinkSync(join(this.dir, 'loader.js'));
    for (const f of files) unlinkSync(join(this.dir, f.src));
    writeFileSync(this.loadedFile, imageDigest(imagePath));
  }

  private get lockFile(): string {
    return join(this.dir, 'runner.pid');
  }

  /** One runner per working folder: two interpreters on one flash file would be one PSD twice. */
  private claimFolder(): void {
    if (existsSync(this.lockFile)) {
      const pid = Number(readFileSync(this.lockFile, 'latin1'));
      if (pid && pid !== process.pid && alive(pid)) throw new Error(`${this.dir} is in use by process ${pid} (another runner on the same flash file); stop it, or give another folder`);
    }
    writeFileSync(this.lockFile, String(process.pid));
  }

  /** Where the working folder records which image its Storage holds (SHA-256 hex). */
  private get loadedFile(): string {
    return join(this.dir, 'bootcde.sha256');
  }

  /** true when Storage holds exactly the image this board was made with */
  private imageLoaded(): boolean {
    return existsSync(this.flashFile) && existsSync(this.loadedFile) && readFileSync(this.loadedFile, 'latin1') === imageDigest(this.imagePath);
  }

  /** Boots the board: loads the image first unless Storage holds it already (a rebuilt
   * image replaces the old one; the statistics pages stay), links Serial1,
   * starts the interpreter and waits until it has opened Serial1. */
  async start(opts: { bootTimeoutMs?: number } = {}): Promise<void> {
    if (this.closed) throw new Error('RealBoard: closed');
    if (this.running) return;
    this.claimFolder();
    if (!this.imageLoaded()) this.loadImage();
    await this.startLink();
    const logStart = existsSync(this.consoleLog) ? statSync(this.consoleLog).size : 0;
    const out = openSync(this.consoleLog, 'a');
    this.expectExit = false;
    const p = spawn('bash', ['-c', KEEPER, this.binary], { cwd: this.dir, stdio: ['ignore', out, out, 'pipe'], detached: true });
    closeSync(out);
    this.proc = p;
    (p.stdio[3] as NodeJS.WritableStream & { on: Function }).on('error', () => {});
    p.on('exit', (code, signal) => {
      if (this.proc === p) this.proc = null;
      if (this.expectExit || this.closed) return;
      const said = readFileSync(this.consoleLog, 'latin1').slice(logStart);
      // E.reboot() on the Linux build exits 1 (targets/linux/jshardware.c, jshReboot); the
      // image says so first (REBOOT_NOTICE): a board would restart, so this one does.
      if (said.indexOf(REBOOT_NOTICE) >= 0) {
        this.emit('reboot');
        this.start().catch((e) => this.emit('died', { code, signal, consoleTail: String(e.message ?? e) }));
        return;
      }
      const death: Death = { code, signal, consoleTail: this.consoleTail() };
      this.emit('died', death);
    });
    // Booted once the image has moved its console off stdout (it opens Serial1 first).
    const t0 = Date.now();
    for (;;) {
      if (!this.running) throw new Error(`the interpreter exited at boot: ${this.consoleTail()}`);
      const text = readFileSync(this.consoleLog, 'latin1');
      if (text.indexOf('-> LoopbackA', logStart) >= 0) break;
      if (Date.now() - t0 > (opts.bootTimeoutMs ?? 20000)) throw new Error(`the interpreter did not boot within ${opts.bootTimeoutMs ?? 20000} ms: ${this.consoleTail()}`);
      await sleep(20);
    }
  }

  /** A power cut: SIGKILL, whatever the interpreter is doing (a flash write in progress is
   * either done or not: the Linux build writes each one with a single fwrite). */
  async powerCut(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      this.expectExit = true;
      await new Promise<void>((r) => {
        p.once('exit', () => r());
        // the whole group: the keeper, the interpreter and what holds its input open
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          p.kill('SIGKILL');
        }
      });
    }
    this.proc = null;
    await this.stopLink();
  }

  /** Power off and on again on the same flash file. */
  async powerCycle(): Promise<void> {
    await this.powerCut();
    await this.start();
  }

  /** Bytes to the board's Serial1 (dropped while it is off, as on a dead board). On the
   * fixed-variable builds they go SERIAL_PACE_BYTES at a time, SERIAL_PACE_MS apart: those
   * builds fail an assertion in their string iterator (src/jsvariterator.c:466, then spin)
   * when Serial1 input piles up between two turns of the interpreter's loop, before the
   * image's data handler runs (measured on the 5,100-variable build with ECHO frames: a
   * 41-byte frame in one write passes, a 61-byte one kills it; 16 bytes every 10 ms and
   * 8 every 4 ms kill it too; 8 bytes every 20 ms carry 200-byte frames, but once in a run of
   * the memory budget test on a quiet machine a provision frame got no answer, so 30 ms: more
   * room for a late turn of the loop). A defect of the interpreter build, fixed after 2v29
   * (README, "Espruino 2v29 loses serial input"), not of the image: the resizable build takes
   * the same frames whole. */
  hostWrite(bytes: Buffer): void {
    if (!this.link || this.link.destroyed) return;
    if (this.memory === 'resizable') {
      this.link.write(bytes);
      return;
    }
    this.paced.push(bytes);
    if (!this.pacing) this.pace();
  }

  private paced: Buffer[] = [];
  private pacing = false;

  private pace(): void {
    const link = this.link;
    if (!link || link.destroyed || !this.paced.length) {
      this.pacing = false;
      if (!link || link.destroyed) this.paced = [];
      return;
    }
    this.pacing = true;
    const head = this.paced[0];
    link.write(head.subarray(0, SERIAL_PACE_BYTES));
    if (head.length > SERIAL_PACE_BYTES) this.paced[0] = head.subarray(SERIAL_PACE_BYTES);
    else this.paced.shift();
    setTimeout(() => this.pace(), SERIAL_PACE_MS);
  }

  /** The last `chars` characters of the interpreter's own console output. */
  consoleTail(chars = 2000): string {
    return existsSync(this.consoleLog) ? tail(readFileSync(this.consoleLog, 'latin1'), chars) : '';
  }

  /** Powers off and removes the working folder if this board made it. */
  async close(): Promise<void> {
    await this.powerCut();
    this.closed = true;
    if (existsSync(this.lockFile) && readFileSync(this.lockFile, 'latin1') === String(process.pid)) unlinkSync(this.lockFile);
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** socat: `psd.pty` (what the image opens) <-> a TCP connection into this process. */
  private async startLink(): Promise<void> {
    await this.stopLink();
    const server = createServer((sock) => {
      if (this.link) this.link.destroy();
      this.link = sock;
      sock.setNoDelay(true);
      sock.on('data', (d) => this.emit('hostData', d));
      sock.on('close', () => {
        if (this.link === sock) this.link = null;
      });
      sock.on('error', () => {});
    });
    this.server = server;
    await new Promise<void>((r, j) => {
      server.once('error', j);
      server.listen(0, '127.0.0.1', () => r());
    });
    const port = (server.address() as { port: number }).port;
    const ptyLink = join(this.dir, 'psd.pty');
    if (isLink(ptyLink) || existsSync(ptyLink)) unlinkSync(ptyLink);
    const s = spawn(this.socatBin, [`pty,raw,echo=0,link=${ptyLink}`, `TCP:127.0.0.1:${port}`], { stdio: 'ignore' });
    s.on('error', () => {});
    this.socat = s;
    const t0 = Date.now();
    while (!(this.link && existsSync(ptyLink))) {
      if (s.exitCode !== null || Date.now() - t0 > 10000) {
        await this.stopLink();
        throw new Error(`socat did not link ${ptyLink} (is socat installed? apt-get install socat)`);
      }
      await sleep(10);
    }
  }

  private async stopLink(): Promise<void> {
    const s = this.socat;
    this.socat = null;
    if (s && s.exitCode === null && s.signalCode === null) {
      await new Promise<void>((r) => {
        s.once('exit', () => r());
        s.kill('SIGKILL');
      });
    }
    if (this.link) this.link.destroy();
    this.link = null;
    // a stale link would point at a terminal number the system hands out again
    const ptyLink = join(this.dir, 'psd.pty');
    if (existsSync(ptyLink) || isLink(ptyLink)) unlinkSync(ptyLink);
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}


function tail(s: string, n: number): string {
  return s.length > n ? '...' + s.slice(-n) : s;
}

