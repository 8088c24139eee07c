// The virtual board's state: the board facts and options it is made with, what lives for one
// power-up (Life), and the wiring its constructor does (flash, Storage, serial devices). The
// board is built up in rooms, each a class over the one before: state, clock (clock.ts),
// console and serial (console.ts), the natives the runtime calls (natives.ts), and the board
// itself: power, boot, pins, memory (board.ts).
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type vm from 'node:vm';
import { FlashSim, type PowerCut } from './flash.ts';
import { StorageSim } from './storage.ts';
import { CodeAreaSim, type CodeAreaGeometry } from './code-area.ts';
import { placeFiles } from '../flash/image.ts';
import { transformImage } from './transform.ts';
import { modulesFile } from '../flash/image.ts';
import { detokenise, isPretokenised } from '../flash/pretokenise.ts';

/** The source the sandbox runs for code a board stores: pretokenised code read back to plain. */
export function plainSource(code: string): string {
  return isPretokenised(code) ? detokenise(code) : code;
}
import type { MemoryModel } from './memory.ts';

/** The board facts the virtual board needs (structurally compatible with board-defs' BoardDef). */
export interface BoardDef {
  id: string;
  name: string;
  espruinoBoard: string;
  variables: number;
  flashKB: number;
  flash: { dataStart: number; pageBytes: number; dataPages: number; writeAlignBytes: number; eraseCycles: number; inStorage?: boolean };
  /** free flash where `psd flash` puts the code (board-defs codeArea) */
  codeArea?: CodeAreaGeometry;
  dataPort: 'USB' | 'Serial1' | 'Bluetooth';
  consoleDefault: string;
  serial: { baud: number; rx: string | null; tx: string | null };
  nativeCrypto: string[];
  seal: 'hmac' | 'ed25519';
  tamper: { pin: string; activeLevel: 0 | 1 } | null;
  leds: string[];
}

export interface VirtualBoardOptions {
  board: BoardDef;
  /** image source text (a plain ES5 script) */
  image?: string;
  /** or a path to it */
  imagePath?: string;
  /** the image's Storage modules, name -> code (its resident core and on-demand modules,
   * tools/build.ts): require() finds them as a flashed board finds its Storage files. Like the
   * image itself they are not counted in the simulated Storage (the build's budget table
   * checks that they fit the board's). Default: the <image>.modules.json beside imagePath,
   * if there is one */
  modules?: Record<string, string>;
  /** flash data region file (created filled with 0xFF) */
  flashFile: string;
  /** Storage file; default `${flashFile}.storage.json` */
  storageFile?: string;
  /** Storage capacity in bytes (default: the board's Storage, board-defs storageBytes) */
  storageBytes?: number;
  /** power cut at the atOp-th flash operation (write/erasePage) after start() */
  powerCut?: PowerCut;
  /** 'real' (default): getTime follows the host clock; 'manual': it only moves with advanceTime() */
  clock?: 'real' | 'manual';
  /** value of getTime() at power-up, seconds (default 0, like a board without a battery-backed RTC) */
  startTime?: number;
  /** output to devices other than the data port (stdio console, LoopbackA, Serial2...), line by line */
  log?: (s: string) => void;
  /** receive buffer shared by all devices (default 1024, as Espruino's input buffer) */
  rxBufferBytes?: number;
  /** max bytes handed to one 'data' callback (default 256) */
  rxChunkBytes?: number;
  /** CPU time allowed to the image's top-level code, ms (default 60000) */
  bootTimeoutMs?: number;
  /** getSerial() result */
  serialNumber?: string;
  /**
   * How the image runs at power-up: 'storage' (default) as a board runs its saved code;
   * 'file' as the Linux build runs `espruino file.js` (the start-up banner first, then the code).
   */
  boot?: 'storage' | 'file';
  /**
   * Espruino's console furniture: the new line after boot, the `>` prompt whenever the board
   * goes idle (taken away with `\r\x1b[J` before later output), `-> X` / `<- Y` when the
   * console moves. Default true, as the real interpreter; tests that compare a console byte
   * for byte may turn it off.
   */
  consoleChrome?: boolean;
}

export interface BoardMemory {
  free: number;
  usage: number;
  total: number;
  history: number;
  gc: number;
  gctime: number;
  blocksize: number;
}

export interface Timer { due: number; interval: number }
export interface Watch { pin: string; edge: 'rising' | 'falling' | 'both'; repeat: boolean; debounce: number; lastTime: number }
export interface Runtime {
  drain(): void;
  timer(id: number, keep: boolean): void;
  data(dev: string, s: string): void;
  watch(id: number, state: number, time: number, lastTime: number, keep: boolean): void;
  init(): void;
  repl(code: string): number;
  uncaught(e: unknown): void;
}

/** Everything that lives for one power-up. */
export interface Life {
  gen: number;
  ctx: vm.Context;
  rt: Runtime | null;
  CtxError: ErrorConstructor;
  global: object;
  builtins: Map<object, Set<string>>;
  /** process.memory()'s model (kit/vboard/memory.ts), made at the first call */
  mem: MemoryModel | null;
  abandoned: boolean;
  timers: Map<number, Timer>;
  nextTimer: number;
  hostTimer: NodeJS.Timeout | null;
  immediate: NodeJS.Immediate | null;
  watches: Map<number, Watch>;
  nextWatch: number;
  console: string | null;
  echo: boolean;
  rx: { dev: string; data: Buffer }[];
  rxPending: number;
  rxScheduled: boolean;
  replLine: string;
  replCont: string;
  lastCR: boolean;
  /** Espruino's inputLineRemoved: the prompt and input line are not on the console now */
  inputRemoved: boolean;
  errorFlags: Set<string>;
  levels: Map<string, number>;
  modes: Map<string, string>;
  clockBase: number; // perf ms at power-up
  skip: number; // seconds added by advanceTime (real clock)
  manual: number; // manual clock uptime, seconds
  offset: number; // getTime() - uptime
}

export function bin(b: Buffer | Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A Storage module's code as the virtual board runs it: a function of (exports, module). */
export function moduleSource(code: string): string {
  return '(function(exports,module){' + transformImage(plainSource(code)) + '\n})';
}

export abstract class BoardState extends EventEmitter {
  readonly board: BoardDef;
  readonly flash: FlashSim;
  readonly storage: StorageSim;
  /** the board's code area (board-defs codeArea), null on boards without one */
  readonly codeArea: CodeAreaSim | null;
  /** true after a power cut (until powerCycle()) */
  dead = false;
  running = false;
  protected image: string;
  /** the image was given pretokenised, as the build stores it */
  protected pretokenised: boolean;
  protected imageName: string;
  protected modules: Record<string, string>;
  /** the modules as stored (pretokenised where the build made them so): what the code area holds */
  protected storedModules: Record<string, string>;
  protected opts: VirtualBoardOptions;
  protected gen = 0;
  protected life: Life | null = null;
  protected devices: string[];
  protected logBuf = new Map<string, string>();

  constructor(opts: VirtualBoardOptions) {
    super();
    this.opts = opts;
    this.board = opts.board;
    if (opts.image === undefined && !opts.imagePath) throw new Error('VirtualBoard: image or imagePath required');
    // a built image is pretokenised (kit/flash/pretokenise.ts); the sandbox runs it as the plain
    // source Espruino's lexer reads in its bytes
    const image = opts.image !== undefined ? opts.image : readFileSync(opts.imagePath!, 'latin1');
    this.pretokenised = isPretokenised(image);
    this.image = plainSource(image);
    this.imageName = opts.imagePath || `${opts.board.id}-image.js`;
    this.flash = new FlashSim(opts.board.flash, opts.flashFile);
    this.storage = new StorageSim(opts.storageFile || `${opts.flashFile}.storage.json`, opts.storageBytes ?? (opts.board as { storageBytes?: number }).storageBytes ?? 32768);
    const sidecar = opts.imagePath ? modulesFile(opts.imagePath) : '';
    const modules = opts.modules ?? (sidecar && existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as Record<string, string>) : {});
    this.storedModules = modules;
    this.modules = Object.fromEntries(Object.entries(modules).map(([n, c]) => [n, plainSource(c)]));

    this.codeArea = opts.board.codeArea ? new CodeAreaSim(opts.board.codeArea) : null;
    // an image's modules are found where psd flash would have put them
    const placed = this.codeArea && Object.keys(this.modules).length ? placeFiles(opts.board, Object.entries(this.storedModules).map(([name, code]) => ({ name, code }))).codeArea : null;
    if (placed) this.codeArea!.flashWith(placed.bytes);
    // ... and on a board without a code area in Storage, where the boot code reads the resident
    // core (tools/build.ts coreAtRoot) and require() the others: written when absent or different
    if (!this.codeArea) for (const [name, code] of Object.entries(this.storedModules)) {
      const data = Buffer.from(code, 'latin1');
      const have = this.storage.read(name, 0, -1);
      if (have && have.equals(data)) continue;
      this.storage.erase(name);
      try {
        this.storage.write(name, data, 0, -1);
      } catch (e) {
        throw new Error(`VirtualBoard: the image's module ${name} does not fit the ${opts.board.id}'s Storage (${this.storage.capacity} bytes; psd flash would refuse the image): ${(e as Error).message}`);
      }
    }
    if (opts.powerCut) this.flash.armPowerCut(opts.powerCut);
    const b = opts.board;
    const devs = new Set<string>();
    if (b.dataPort === 'USB' || b.consoleDefault === 'USB' || b.consoleDefault === 'stdio') devs.add('USB');
    devs.add('Serial1');
    devs.add('Serial2');
    // the Linux build has six serial devices and a Telnet console
    if (b.espruinoBoard === 'LINUX') for (const d of ['Serial3', 'Serial4', 'Serial5', 'Serial6', 'Telnet']) devs.add(d);
    if (b.dataPort === 'Bluetooth' || b.consoleDefault === 'Bluetooth') devs.add('Bluetooth');
    devs.add('LoopbackA');
    devs.add('LoopbackB');
    this.devices = [...devs];
  }

  protected serialNumber(): string {
    if (this.opts.serialNumber) return this.opts.serialNumber;
    const h = createHash('sha256').update(`vboard:${this.board.id}:${this.opts.flashFile}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 16)}`.toUpperCase();
  }

  protected alive(l: Life): boolean {
    return !this.dead && !l.abandoned && l.gen === this.gen && !!l.rt;
  }

  protected kill(l: Life, reason: string): void {
    if (this.dead) return;
    this.dead = true;
    if (l.hostTimer) clearTimeout(l.hostTimer);
    if (l.immediate) clearImmediate(l.immediate);
    l.hostTimer = null;
    l.timers.clear();
    l.watches.clear();
    l.rx = [];
    l.rxPending = 0;
    l.abandoned = true;
    process.nextTick(() => {
      l.rt = null;
      this.emit('powercut', { reason, ops: this.flash.ops });
    });
  }
}
