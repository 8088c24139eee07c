/**
 * Virtual Espruino 2v29 board: runs a firmware image (plain ES5 script) in a node:vm
 * context that has only what the real interpreter has, plus emulations of Espruino's
 * APIs (serial devices and console/REPL, E, timers on a controllable clock, pins and
 * watches, require("Flash") byte-exact and persisted, require("Storage"), require("crypto")
 * per board). See kit/vboard/README.md.
 */
import { EventEmitter } from 'node:events';
import { randomBytes, createHash, createCipheriv, createDecipheriv, pbkdf2Sync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { crc32 as zcrc32 } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import { FlashError, FlashSim, PowerCutError, type FlashStats, type PowerCut } from './flash.ts';
import { StorageError, StorageSim } from './storage.ts';
import { stripScript } from './strip.ts';
import { transformImage } from './transform.ts';
import { modulesFile } from '../flash/image.ts';
import { MemoryModel, varLayout } from './memory.ts';

export type { FlashStats, PowerCut } from './flash.ts';

/** The board facts the virtual board needs (structurally compatible with board-defs' BoardDef). */
export interface BoardDef {
  id: string;
  name: string;
  espruinoBoard: string;
  variables: number;
  flashKB: number;
  flash: { dataStart: number; pageBytes: number; dataPages: number; writeAlignBytes: number; eraseCycles: number };
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

interface Timer { due: number; interval: number }
interface Watch { pin: string; edge: 'rising' | 'falling' | 'both'; repeat: boolean; debounce: number; lastTime: number }
interface Runtime {
  drain(): void;
  timer(id: number, keep: boolean): void;
  data(dev: string, s: string): void;
  watch(id: number, state: number, time: number, lastTime: number, keep: boolean): void;
  init(): void;
  repl(code: string): number;
  uncaught(e: unknown): void;
}

/** Everything that lives for one power-up. */
interface Life {
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

let runtimeSource: string | null = null;
function runtimeSrc(): string {
  if (!runtimeSource) runtimeSource = readFileSync(new URL('./runtime.js', import.meta.url), 'utf8');
  return runtimeSource;
}
let libSource: string | null = null;
/** Espruino's own conversions (number text, JSON, print, sort), evaluated in the context first */
function libSrc(): string {
  if (!libSource) libSource = readFileSync(new URL('./espruino.js', import.meta.url), 'utf8');
  return libSource;
}
let stripSource: string | null = null;

/** What jsiInit prints when it loads no saved code (the Linux build running a file). */
const BANNER = ('\n ____                 _ \n|  __|___ ___ ___ _ _|_|___ ___ \n|  __|_ -| . |  _| | | |   | . |\n' +
  '|____|___|  _|_| |___|_|_|_|___|\n         |_| espruino.com\n 2v29 (c) 2025 G.Williams\n\n' +
  'Espruino is Open Source. Our work is supported\nonly by sales of official boards and donations:\n' +
  'http://espruino.com/Donate\n').replace(/\n/g, '\r\n');

function bin(b: Buffer | Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
/** the hidden global the boot script registers the image's modules with (runtime.js) */
const MODULE_HOOK = '\u0275vbModule';

/** A Storage module's code as the virtual board runs it: a function of (exports, module). */
function moduleSource(code: string): string {
  return '(function(exports,module){' + transformImage(code) + '\n})';
}

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export class VirtualBoard extends EventEmitter {
  readonly board: BoardDef;
  readonly flash: FlashSim;
  readonly storage: StorageSim;
  /** true after a power cut (until powerCycle()) */
  dead = false;
  running = false;
  private image: string;
  private imageName: string;
  private modules: Record<string, string>;
  private opts: VirtualBoardOptions;
  private gen = 0;
  private life: Life | null = null;
  private devices: string[];
  private logBuf = new Map<string, string>();

  constructor(opts: VirtualBoardOptions) {
    super();
    this.opts = opts;
    this.board = opts.board;
    if (opts.image === undefined && !opts.imagePath) throw new Error('VirtualBoard: image or imagePath required');
    this.image = opts.image !== undefined ? opts.image : readFileSync(opts.imagePath!, 'utf8');
    this.imageName = opts.imagePath || `${opts.board.id}-image.js`;
    this.flash = new FlashSim(opts.board.flash, opts.flashFile);
    this.storage = new StorageSim(opts.storageFile || `${opts.flashFile}.storage.json`, opts.storageBytes ?? (opts.board as { storageBytes?: number }).storageBytes ?? 32768);
    const sidecar = opts.imagePath ? modulesFile(opts.imagePath) : '';
    this.modules = opts.modules ?? (sidecar && existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as Record<string, string>) : {});

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

  // ------------------------------------------------------------------ lifecycle

  /** Power the board up: fresh context, run the image's top level, then E.on('init') handlers. */
  start(): this {
    if (this.life) throw new Error('VirtualBoard already started');
    this.dead = false;
    this.running = true;
    this.boot();
    return this;
  }

  /** Pull and replug power: abandon the context and boot again from the same flash file and image. */
  powerCycle(): this {
    this.abandon();
    this.dead = false;
    this.running = true;
    this.boot();
    this.emit('powercycle');
    return this;
  }

  /** Power off for good (closes the flash file). */
  stop(): void {
    this.abandon();
    this.running = false;
    this.flushLog();
    this.flash.close();
    this.emit('stop');
  }

  /** Arm (or disarm with null) a power cut counted from now (next flash op = 1). */
  armPowerCut(cut: PowerCut | null): void {
    this.flash.armPowerCut(cut);
  }

  private abandon(): void {
    const l = this.life;
    if (!l) return;
    l.abandoned = true;
    if (l.hostTimer) clearTimeout(l.hostTimer);
    if (l.immediate) clearImmediate(l.immediate);
    l.hostTimer = null;
    l.immediate = null;
    l.timers.clear();
    l.watches.clear();
    l.rx = [];
    l.rt = null;
    this.life = null;
    this.gen++;
  }

  private boot(): void {
    const b = this.board;
    const gen = ++this.gen;
    const ctx = vm.createContext({}, { name: `vboard:${b.id}:${gen}` });
    const CtxError = vm.runInContext('Error', ctx) as ErrorConstructor;
    const life: Life = {
      gen,
      ctx,
      rt: null,
      CtxError,
      global: vm.runInContext('globalThis', ctx) as object,
      builtins: new Map(),
      mem: null,
      abandoned: false,
      timers: new Map(),
      nextTimer: 1,
      hostTimer: null,
      immediate: null,
      watches: new Map(),
      nextWatch: 1,
      console: this.defaultConsole(),
      echo: true,
      rx: [],
      rxPending: 0,
      rxScheduled: false,
      replLine: '',
      replCont: '',
      lastCR: false,
      inputRemoved: false,
      errorFlags: new Set(),
      levels: new Map(),
      modes: new Map(),
      clockBase: performance.now(),
      skip: 0,
      manual: 0,
      offset: this.opts.startTime ?? 0
    };
    if (b.tamper) life.levels.set(b.tamper.pin, b.tamper.activeLevel ? 0 : 1);
    this.life = life;
    const pins = new Set<string>(b.leds);
    if (b.tamper) pins.add(b.tamper.pin);
    if (!stripSource) stripSource = stripScript();
    const cfg = {
      devices: this.devices,
      pins: [...pins],
      crypto: b.nativeCrypto,
      version: '2v29',
      // jswrap_process_env's keys, in its order (SPIFLASH only where the build has it)
      env: {
        VERSION: '2v29',
        GIT_COMMIT: 'ca5fc93',
        BOARD: b.espruinoBoard,
        RAM: ((b as { ramKB?: number }).ramKB ?? 0) * 1024,
        FLASH: b.flashKB * 1024,
        ...(b.espruinoBoard === 'LINUX' ? { SPIFLASH: b.flashKB * 1024 } : {}),
        STORAGE: b.espruinoBoard === 'LINUX' ? b.flashKB * 1024 : this.opts.storageBytes ?? 32768,
        SERIAL: this.serialNumber(),
        CONSOLE: life.console ?? 'null',
        MODULES: ['Flash', 'Storage'].concat(b.nativeCrypto.length ? ['crypto'] : []).join(','),
        EXPTR: 0
      },
      strip: stripSource
    };
    const lib = (new vm.Script(libSrc(), { filename: 'vboard-espruino.js' }).runInContext(ctx) as () => object)();
    const factory = new vm.Script(runtimeSrc(), { filename: 'vboard-runtime.js' }).runInContext(ctx) as (n: object, c: string, lib: object) => Runtime;
    life.rt = factory(this.makeNative(life), JSON.stringify(cfg), lib);
    life.builtins = this.snapshot(life.global);

    // 'file': jsiInit prints the banner and a new line before the file runs (targets/linux/main.c)
    const fileBoot = this.opts.boot === 'file';
    if (fileBoot) {
      if (this.chrome()) this.consoleWrite(life, BANNER + '\r\n');
      life.inputRemoved = true;
    }
    // the image's top level, as Espruino runs saved code at boot
    let script: vm.Script | null = null;
    try {
      script = new vm.Script(this.bootSource(), { filename: this.imageName });
    } catch (e) {
      this.consoleWrite(life, `Uncaught ${(e as Error).name}: ${(e as Error).message}\r\n`);
    }
    let topError = false;
    if (script) {
      try {
        script.runInContext(ctx, { timeout: this.opts.bootTimeoutMs ?? 60000 });
      } catch (e) {
        topError = true;
        if (this.alive(life)) life.rt?.uncaught(e);
      }
    }
    if (fileBoot && topError && this.alive(life)) {
      // targets/linux/main.c handleErrors: the exception flag is still set, the exception
      // itself already reported; the interpreter says so and exits without running timers
      this.consoleWrite(life, 'Uncaught undefined\r\n');
      life.timers.clear();
      life.watches.clear();
      return;
    }
    if (this.alive(life)) life.rt?.drain();
    if (this.alive(life)) life.rt?.init();
    // saved code runs inside jsiSoftInit, before jsiInit's new line (src/jsinteractive.c)
    if (!fileBoot && this.alive(life) && life.echo) {
      if (this.chrome()) this.consoleWrite(life, '\r\n');
      life.inputRemoved = true;
    }
    // the first jsiLoop handles what arrived meanwhile (e.g. loopback bytes), then prompts
    while (this.alive(life) && life.rx.length) this.deliverRx(life);
    if (this.alive(life)) this.idle(life);
    if (this.alive(life)) this.schedule(life);
  }

  /** What runs at power-up: the image's Storage modules registered (each a function of
   * exports and module, run by require() as jspEvaluateModule runs a Storage file), then the
   * image. One script, so the memory model finds every function of the image and its modules
   * by its position in one source text. */
  private bootSource(): string {
    let prelude = '';
    for (const [name, code] of Object.entries(this.modules)) prelude += `${MODULE_HOOK}(${JSON.stringify(name)},function(exports,module){${transformImage(code)}\n});\n`;
    return prelude + transformImage(this.image);
  }

  private chrome(): boolean {
    return this.opts.consoleChrome !== false;
  }

  /** jsiConsoleRemoveInputLine: before output, take the prompt and the input line away. */
  private removeInputLine(l: Life): void {
    if (l.inputRemoved) return;
    l.inputRemoved = true;
    if (!l.echo || !this.chrome()) return;
    const lines = (l.replCont + l.replLine).split('\n');
    this.consoleWrite(l, '\x1b[D'.repeat(lines[lines.length - 1].length) + '\x1b[A'.repeat(lines.length - 1) + '\r\x1b[J');
  }

  /** End of a jsiLoop: give the prompt and the input line back if they were taken away. */
  private idle(l: Life): void {
    if (!this.alive(l) || !l.inputRemoved) return;
    l.inputRemoved = false;
    if (l.echo && this.chrome()) this.consoleWrite(l, '>' + (l.replCont + l.replLine).replace(/\n/g, '\r\n:'));
  }

  private defaultConsole(): string {
    const c = this.board.consoleDefault;
    // the Linux build's console (stdin/stdout) is its USB device (EV_USBSERIAL)
    if (c === 'stdio') return 'USB';
    return this.devices.includes(c) ? c : 'stdio';
  }

  private serialNumber(): string {
    if (this.opts.serialNumber) return this.opts.serialNumber;
    const h = createHash('sha256').update(`vboard:${this.board.id}:${this.opts.flashFile}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 16)}`.toUpperCase();
  }

  private alive(l: Life): boolean {
    return !this.dead && !l.abandoned && l.gen === this.gen && !!l.rt;
  }

  private kill(l: Life, reason: string): void {
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

  // ------------------------------------------------------------------ clock and timers

  private uptime(l: Life): number {
    if (this.opts.clock === 'manual') return l.manual;
    return (performance.now() - l.clockBase) / 1000 + l.skip;
  }

  private setUptime(l: Life, t: number): void {
    const cur = this.uptime(l);
    if (t <= cur) return;
    if (this.opts.clock === 'manual') l.manual = t;
    else l.skip += t - cur;
  }

  /** getTime() of the running board (seconds) */
  getTime(): number {
    const l = this.life;
    return l ? this.uptime(l) + l.offset : 0;
  }

  /**
   * Seconds until the next pending timer falls due (0 when one is already due), or null when
   * no timer is pending or the board is off: what "would the interpreter keep running" asks.
   */
  nextTimerIn(): number | null {
    const l = this.life;
    if (!l || !this.alive(l) || !l.timers.size) return null;
    let min = Infinity;
    for (const t of l.timers.values()) if (t.due < min) min = t.due;
    return Math.max(0, min - this.uptime(l));
  }

  /** true while bytes wait in the receive buffer (delivered on a later macrotask) */
  rxPending(): boolean {
    const l = this.life;
    return !!l && this.alive(l) && l.rx.length > 0;
  }

  /**
   * Jump the board clock forward by `seconds`, firing every timer that falls due on the way
   * (in order, with getTime() at each timer's due time). Works with both clock modes.
   */
  advanceTime(seconds: number): void {
    const l = this.life;
    if (!l || !this.alive(l)) return;
    const target = this.uptime(l) + seconds;
    this.fireDue(l, target);
    if (this.alive(l)) {
      this.setUptime(l, target);
      this.schedule(l);
    }
  }

  private fireDue(l: Life, upTo: number): void {
    let guard = 0;
    while (this.alive(l)) {
      let best = -1;
      let bt: Timer | null = null;
      for (const [id, t] of l.timers) if (t.due <= upTo && (!bt || t.due < bt.due)) { best = id; bt = t; }
      if (!bt) return;
      this.setUptime(l, bt.due);
      const keep = bt.interval > 0;
      if (keep) bt.due += bt.interval;
      else l.timers.delete(best);
      l.rt!.timer(best, keep);
      // timers due at the same moment run in one jsiLoop; the prompt comes back after them
      let more = false;
      for (const t of l.timers.values()) if (t.due <= bt.due) more = true;
      if (!more) this.idle(l);
      if (++guard > 1e6) throw new Error('VirtualBoard: timer storm (more than 1e6 callbacks in one step)');
    }
  }

  private schedule(l: Life): void {
    if (!this.alive(l)) return;
    if (l.hostTimer) clearTimeout(l.hostTimer);
    l.hostTimer = null;
    let min = Infinity;
    for (const t of l.timers.values()) if (t.due < min) min = t.due;
    if (min === Infinity) return;
    const now = this.uptime(l);
    if (this.opts.clock === 'manual') {
      // the clock stands still, but what is due now still runs (e.g. setTimeout(fn, 0))
      if (min <= now && !l.immediate)
        l.immediate = setImmediate(() => {
          l.immediate = null;
          this.fireDue(l, this.uptime(l));
          this.idle(l);
          this.schedule(l);
        });
      return;
    }
    const delay = Math.max(0, Math.min((min - now) * 1000, 0x7fffffff));
    l.hostTimer = setTimeout(() => {
      l.hostTimer = null;
      this.fireDue(l, this.uptime(l));
      this.idle(l);
      this.schedule(l);
    }, delay);
  }

  // ------------------------------------------------------------------ serial

  /** Bytes from the host side of the data port (what a USB/serial host would send). */
  hostWrite(data: Buffer | Uint8Array | string): void {
    this.inject(this.board.dataPort, typeof data === 'string' ? bytes(data) : Buffer.from(data));
  }

  /** Bytes arriving at any serial device of the board (e.g. 'Serial1'). */
  inject(dev: string, data: Buffer): void {
    const l = this.life;
    if (!l || !this.alive(l) || !data.length) return;
    const cap = this.opts.rxBufferBytes ?? 1024;
    const room = cap - l.rxPending;
    if (data.length > room) {
      l.errorFlags.add('UART_OVERFLOW');
      this.emit('overflow', { dev, dropped: data.length - Math.max(0, room) });
      data = data.subarray(0, Math.max(0, room));
    }
    if (!data.length) return;
    l.rx.push({ dev, data: Buffer.from(data) });
    l.rxPending += data.length;
    if (!l.rxScheduled) {
      l.rxScheduled = true;
      setImmediate(() => this.drainRx(l));
    }
  }

  private drainRx(l: Life): void {
    l.rxScheduled = false;
    if (!this.alive(l) || !l.rx.length) return;
    this.deliverRx(l);
    this.idle(l);
    if (this.alive(l) && l.rx.length && !l.rxScheduled) {
      l.rxScheduled = true;
      setImmediate(() => this.drainRx(l));
    }
  }

  /** Hand the oldest chunk (one device, at most rxChunkBytes) to the REPL or the device. */
  private deliverRx(l: Life): void {
    const dev = l.rx[0].dev;
    const max = this.opts.rxChunkBytes ?? 256;
    const parts: Buffer[] = [];
    let n = 0;
    while (l.rx.length && l.rx[0].dev === dev && n < max) {
      const e = l.rx[0];
      const take = Math.min(max - n, e.data.length);
      parts.push(e.data.subarray(0, take));
      n += take;
      if (take === e.data.length) l.rx.shift();
      else e.data = e.data.subarray(take);
    }
    l.rxPending -= n;
    const chunk = Buffer.concat(parts);
    if (dev === l.console) this.replInput(l, chunk);
    else l.rt!.data(dev, bin(chunk));
  }

  private out(l: Life, dev: string | null, data: Buffer): void {
    if (!this.alive(l) || dev === null || dev === 'null' || !data.length) return;
    this.emit('output', dev, data);
    if (dev === this.board.dataPort) {
      this.emit('hostData', data);
      return;
    }
    if (dev === 'LoopbackA') this.inject('LoopbackB', data);
    else if (dev === 'LoopbackB') this.inject('LoopbackA', data);
    this.logOut(dev, data);
  }

  private consoleWrite(l: Life, s: string): void {
    this.out(l, l.console, bytes(s));
  }

  private logOut(dev: string, data: Buffer): void {
    const log = this.opts.log;
    if (!log) return;
    let s = (this.logBuf.get(dev) || '') + data.toString('latin1');
    let i: number;
    while ((i = s.indexOf('\n')) >= 0) {
      log(`[${dev}] ${s.slice(0, i).replace(/\r$/, '')}`);
      s = s.slice(i + 1);
    }
    this.logBuf.set(dev, s);
  }

  private flushLog(): void {
    const log = this.opts.log;
    for (const [dev, s] of this.logBuf) if (s && log) log(`[${dev}] ${s}`);
    this.logBuf.clear();
  }

  /** Espruino's REPL on the console device: echo, line editing, evaluate on Enter. */
  private replInput(l: Life, chunk: Buffer): void {
    for (const c of chunk) {
      if (!this.alive(l)) return;
      if (c === 10 && l.lastCR) { l.lastCR = false; continue; }
      l.lastCR = c === 13;
      if (c === 13 || c === 10) {
        if (l.echo && !l.inputRemoved) this.consoleWrite(l, '\r\n');
        const code = l.replCont + l.replLine;
        l.replLine = '';
        l.inputRemoved = true;
        if (!code.trim()) { l.replCont = ''; this.idle(l); continue; }
        const more = l.rt!.repl(code);
        if (!this.alive(l)) return;
        if (more) { l.replCont = code + '\n'; this.consoleWrite(l, ':'); l.inputRemoved = false; }
        else { l.replCont = ''; this.idle(l); }
        this.schedule(l);
      } else if (c === 8 || c === 127) {
        if (l.replLine.length) {
          l.replLine = l.replLine.slice(0, -1);
          if (l.echo && !l.inputRemoved) this.consoleWrite(l, '\x08 \x08');
        }
      } else if (c === 3) {
        this.removeInputLine(l);
        l.replLine = '';
        l.replCont = '';
        this.idle(l);
      } else if (c >= 32 || c === 9) {
        l.replLine += String.fromCharCode(c);
        if (l.echo && !l.inputRemoved) this.out(l, l.console, Buffer.from([c]));
      }
    }
  }

  // ------------------------------------------------------------------ pins

  /** Drive an input pin from outside (e.g. the tamper switch); fires matching watches. */
  setPin(name: string, level: 0 | 1 | boolean): void {
    const l = this.life;
    if (!l || !this.alive(l)) return;
    const v = level ? 1 : 0;
    const old = l.levels.get(name) ?? 0;
    l.levels.set(name, v);
    if (old === v) return;
    const time = this.getTime();
    for (const [id, w] of l.watches) {
      if (w.pin !== name) continue;
      if (w.edge === 'rising' && !v) continue;
      if (w.edge === 'falling' && v) continue;
      const last = w.lastTime;
      w.lastTime = time;
      if (!w.repeat) l.watches.delete(id);
      setImmediate(() => {
        if (!this.alive(l)) return;
        l.rt!.watch(id, v, time, last, w.repeat);
        this.idle(l);
        this.schedule(l);
      });
    }
  }

  /** Current level of a pin (what digitalRead would give). */
  getPin(name: string): number {
    return this.life?.levels.get(name) ?? 0;
  }

  // ------------------------------------------------------------------ stats

  flashStats(): FlashStats {
    return this.flash.stats();
  }

  /** process.memory() of the running board (usage is an estimate, see README). */
  memory(): BoardMemory {
    const l = this.life;
    const total = this.board.variables;
    const usage = l ? this.memoryModel(l).usage() : 0;
    const blocksize = varLayout(this.board.espruinoBoard, total).blocksize;
    return { free: Math.max(0, total - usage), usage, total, history: 0, gc: 0, gctime: 0, blocksize };
  }

  private memoryModel(l: Life): MemoryModel {
    if (!l.mem) {
      l.mem = new MemoryModel({
        global: l.global,
        builtins: l.builtins,
        // the source V8 runs (functions are matched with it by text and position)
        image: this.bootSource(),
        codeInRam: this.opts.boot === 'file',
        runtime: l.rt ?? {},
        layout: varLayout(this.board.espruinoBoard, this.board.variables),
        timers: () => [...l.timers].map(([id, t]) => ({ id, interval: t.interval > 0 }))
      });
    }
    return l.mem;
  }

  /** Error flags pending (not cleared), for tests. */
  errorFlags(): string[] {
    return this.life ? [...this.life.errorFlags] : [];
  }

  /** Run code in the board's context (test/debug helper; the REPL without the serial port). */
  evaluate(code: string): unknown {
    const l = this.life;
    if (!l || !this.alive(l)) throw new Error('board is not running');
    const r = vm.runInContext(code, l.ctx);
    l.rt!.drain();
    this.schedule(l);
    return r;
  }

  // ------------------------------------------------------------------ memory estimate

  private snapshot(root: object): Map<object, Set<string>> {
    const m = new Map<object, Set<string>>();
    const stack: unknown[] = [root];
    while (stack.length) {
      const o = stack.pop();
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || m.has(o)) continue;
      let names: string[];
      try { names = Object.getOwnPropertyNames(o); } catch { continue; }
      m.set(o, new Set(names));
      for (const k of names) {
        let d: PropertyDescriptor | undefined;
        try { d = Object.getOwnPropertyDescriptor(o, k); } catch { continue; }
        if (!d) continue;
        stack.push(d.value, d.get, d.set);
      }
      stack.push(Object.getPrototypeOf(o));
    }
    return m;
  }

  // ------------------------------------------------------------------ the native side of the runtime

  private makeNative(l: Life): object {
    const E = (msg: string) => new l.CtxError(msg);
    const check = () => {
      if (this.dead) throw E('Board has no power');
      if (l.abandoned || l.gen !== this.gen) throw E('Board was reset');
    };
    const wrap = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A): R => {
      check();
      return f(...a);
    };
    const flashCall = <R>(f: () => R): R => {
      try {
        return f();
      } catch (e) {
        if (e instanceof PowerCutError) {
          this.kill(l, e.message);
          throw E('Power cut: ' + e.message);
        }
        if (e instanceof FlashError) throw E(e.message);
        throw e;
      }
    };
    const storeCall = <R>(f: () => R): R => {
      try {
        return f();
      } catch (e) {
        if (e instanceof StorageError) throw E(e.message);
        throw e;
      }
    };
    const devOk = (d: string) => {
      if (!this.devices.includes(d)) throw E(`Unknown device ${d}`);
      return d;
    };
    const aesName = (key: Buffer, mode: string) => {
      if (![16, 24, 32].includes(key.length)) throw E('Invalid key length');
      return `aes-${key.length * 8}-${mode}`;
    };
    return {
      u8ToBin: (u: Uint8Array) => bin(u),
      out: wrap((dev: string, data: string) => this.out(l, devOk(dev), bytes(data))),
      consoleOut: wrap((s: string) => {
        this.removeInputLine(l);
        this.consoleWrite(l, s);
      }),
      inject: wrap((dev: string, s: string) => this.inject(devOk(dev), bytes(s))),
      setup: wrap((dev: string, _baud: number) => { devOk(dev); }),
      // jsiSetConsoleDevice: '-> new' on the old console, '<- old' on the new one
      setConsole: wrap((dev: string) => {
        const to = dev === '' ? this.defaultConsole() : dev === 'null' ? null : devOk(dev);
        if (to === l.console) return;
        const tell = l.echo && this.chrome();
        if (l.echo) this.removeInputLine(l);
        if (tell) this.consoleWrite(l, `-> ${to ?? 'null'}\r\n`);
        const from = l.console;
        l.console = to;
        if (tell) this.consoleWrite(l, `<- ${from ?? 'null'}\r\n`);
      }),
      getConsole: wrap(() => l.console ?? ''),
      echo: wrap((on: number) => { l.echo = !!on; }),
      getTime: wrap(() => this.uptime(l) + l.offset),
      setTime: wrap((t: number) => { l.offset = t - this.uptime(l); }),
      timerAdd: wrap((ms: number, interval: number) => {
        const id = l.nextTimer++;
        const sec = Math.max(0, ms) / 1000;
        l.timers.set(id, { due: this.uptime(l) + sec, interval: interval ? Math.max(sec, 0.001) : 0 });
        this.schedule(l);
        return id;
      }),
      timerClear: wrap((id: number) => {
        if (id === -1) l.timers.clear();
        else l.timers.delete(id);
        this.schedule(l);
      }),
      timerChange: wrap((id: number, ms: number) => {
        const t = l.timers.get(id);
        if (!t) throw E('Unknown Interval');
        const sec = Math.max(0.001, ms / 1000);
        t.interval = t.interval ? sec : 0;
        t.due = this.uptime(l) + sec;
        this.schedule(l);
      }),
      hwRand: wrap(() => randomBytes(4).readInt32LE(0)),
      crc32: wrap((s: string) => zcrc32(bytes(s)) >>> 0),
      errorFlags: wrap(() => {
        const s = [...l.errorFlags].join(',');
        l.errorFlags.clear();
        return s;
      }),
      getSerial: wrap(() => this.serialNumber()),
      btoa: wrap((s: string) => bytes(s).toString('base64')),
      atob: wrap((s: string) => Buffer.from(s, 'base64').toString('latin1')),
      memory: wrap(() => JSON.stringify(this.memory())),
      sizeOf: wrap((v: unknown) => this.memoryModel(l).sizeOf(v)),
      reboot: wrap(() => {
        l.abandoned = true;
        setImmediate(() => {
          if (this.gen === l.gen && !this.dead) {
            this.emit('reboot');
            this.powerCycle();
          }
        });
        throw E('Rebooting');
      }),
      // pins
      pinRead: wrap((p: string) => l.levels.get(p) ?? 0),
      pinWrite: wrap((p: string, v: number) => {
        l.levels.set(p, v ? 1 : 0);
        this.emit('pin', p, v ? 1 : 0);
      }),
      pinMode: wrap((p: string, m: string) => {
        l.modes.set(p, m);
        if (m === 'input_pullup' && !l.levels.has(p)) l.levels.set(p, 1);
      }),
      pinGetMode: wrap((p: string) => l.modes.get(p) ?? 'input'),
      watchAdd: wrap((p: string, edge: Watch['edge'], repeat: number, debounce: number) => {
        const id = l.nextWatch++;
        l.watches.set(id, { pin: p, edge, repeat: !!repeat, debounce, lastTime: this.getTime() });
        return id;
      }),
      watchClear: wrap((id: number) => {
        if (id === -1) l.watches.clear();
        else l.watches.delete(id);
      }),
      // Flash
      flashGetPage: wrap((addr: number) => {
        const p = this.flash.getPage(addr);
        return p ? JSON.stringify(p) : '';
      }),
      flashGetFree: wrap(() => JSON.stringify(this.flash.getFree())),
      flashRead: wrap((len: number, addr: number) => flashCall(() => bin(this.flash.read(len, addr)))),
      flashWrite: wrap((data: string, addr: number) => flashCall(() => this.flash.write(bytes(data), addr))),
      flashErase: wrap((addr: number) => flashCall(() => this.flash.erasePage(addr))),
      // Storage
      stWrite: wrap((name: string, data: string, offset: number, size: number) =>
        storeCall(() => this.storage.write(name, bytes(data), offset, size))),
      // jspEvaluateModule: a Storage file run in a scope of its own with exports and module
      evalModule: wrap((name: string, code: string) => new vm.Script(moduleSource(code), { filename: name }).runInContext(l.ctx) as (e: object, m: object) => void),
      stRead: wrap((name: string, offset: number, length: number) => {
        const b = this.storage.read(name, offset, length);
        return b ? bin(b) : null;
      }),
      stErase: wrap((name: string) => this.storage.erase(name)),
      stEraseAll: wrap(() => this.storage.eraseAll()),
      stList: wrap(() => JSON.stringify(this.storage.list())),
      stFree: wrap(() => this.storage.free()),
      stStats: wrap(() => JSON.stringify(this.storage.stats())),
      // crypto (only reachable through require("crypto") members the board has)
      sha: wrap((alg: string, s: string) => createHash(alg.toLowerCase()).update(bytes(s)).digest().toString('latin1')),
      pbkdf2: wrap((pass: string, salt: string, keyBytes: number, iter: number, hasher: string) => {
        if (!['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'].includes(hasher)) throw E(`Unknown Hasher "${hasher}"`);
        return pbkdf2Sync(bytes(pass), bytes(salt), iter, keyBytes, hasher.toLowerCase()).toString('latin1');
      }),
      // jswrap_crypto_AEScrypt: mbedtls errors are printed (`ERROR: ...`) and give undefined;
      // returned here as '\u0100' + the message. CTR starts from a zero counter (the iv is not
      // used), OFB is not built in.
      aes: wrap((enc: number, msg: string, keyS: string, ivS: string, mode: string) => {
        const key = bytes(keyS);
        const iv = Buffer.alloc(16);
        bytes(ivS).copy(iv, 0, 0, 16);
        const m = bytes(msg);
        if (!['CBC', 'CFB', 'CTR', 'OFB', 'ECB'].includes(mode)) throw E(`Unknown Crypto mode "${mode}"`);
        if (![16, 24, 32].includes(key.length)) return '\u0100Unknown error: -0x20';
        if (mode === 'OFB') return '\u0100Feature unavailable';
        const mk = (name: string, withIv: boolean, ivOf: Buffer = iv) => {
          const c = enc ? createCipheriv(name, key, withIv ? ivOf : null) : createDecipheriv(name, key, withIv ? ivOf : null);
          c.setAutoPadding(false);
          return c;
        };
        let out: Buffer;
        switch (mode) {
          case 'CBC': {
            if (m.length % 16) return '\u0100Invalid input length';
            const c = mk(aesName(key, 'cbc'), true);
            out = Buffer.concat([c.update(m), c.final()]);
            break;
          }
          case 'ECB': {
            out = Buffer.alloc(m.length);
            const full = m.length - (m.length % 16);
            const c = mk(aesName(key, 'ecb'), false);
            Buffer.concat([c.update(m.subarray(0, full)), c.final()]).copy(out);
            break;
          }
          case 'CFB':
          case 'CTR': {
            const c = mk(aesName(key, mode === 'CFB' ? 'cfb8' : 'ctr'), true, mode === 'CTR' ? Buffer.alloc(16) : iv);
            out = Buffer.concat([c.update(m), c.final()]);
            break;
          }
          default:
            throw E(`Unknown Crypto mode "${mode}"`);
        }
        return out.toString('latin1');
      }),
      ccm: wrap((enc: number, msg: string, keyS: string, ivS: string, tagLen: number, tagS: string) => {
        const key = bytes(keyS);
        const name = aesName(key, 'ccm') as 'aes-128-ccm';
        const tag = bytes(tagS);
        try {
          if (enc) {
            const c = createCipheriv(name, key, bytes(ivS), { authTagLength: tagLen });
            const data = Buffer.concat([c.update(bytes(msg)), c.final()]);
            return JSON.stringify({ data: data.toString('base64'), tag: c.getAuthTag().toString('base64') });
          }
          const d = createDecipheriv(name, key, bytes(ivS), { authTagLength: tag.length });
          d.setAuthTag(tag);
          const data = Buffer.concat([d.update(bytes(msg)), d.final()]);
          return JSON.stringify({ data: data.toString('base64') });
        } catch (e) {
          throw E(`AES-CCM: ${(e as Error).message}`);
        }
      })
    };
  }
}
