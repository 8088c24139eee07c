/**
 * Virtual Espruino 2v29 board: runs a firmware image (plain ES5 script) in a node:vm
 * context that has only what the real interpreter has, plus emulations of Espruino's
 * APIs (serial devices and console/REPL, E, timers on a controllable clock, pins and
 * watches, require("Flash") byte-exact and persisted, require("Storage"), require("crypto")
 * per board). See kit/vboard/README.md.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import type { FlashStats, PowerCut } from './flash.ts';
import { stripScript } from './strip.ts';
import { transformImage, rootCoreSource } from './transform.ts';
import { MemoryModel, varLayout } from './memory.ts';

export type { FlashStats, PowerCut } from './flash.ts';
export type { BoardDef, VirtualBoardOptions, BoardMemory } from './state.ts';
import { BoardNatives } from './natives.ts';
import type { BoardMemory, Life, Runtime } from './state.ts';

let runtimeSource: string | null = null;
/**
 * The runtime's files as one script (the memory model counts one script of the board's own):
 * an object of the main function (`runtime`) and the parts it calls, each by its name.
 */
function runtimeSrc(): string {
  if (!runtimeSource) {
    const read = (f: string) => readFileSync(new URL(`./${f}`, import.meta.url), 'utf8');
    runtimeSource = `({\n${Object.entries(RUNTIME_PARTS).map(([name, f]) => `${name}:\n${read(f)}`).join(',\n')}\n})`;
  }
  return runtimeSource;
}
/** the runtime's files: runtime.js calls the parts by these names */
const RUNTIME_PARTS = { runtime: 'runtime.js', devices: 'runtime-devices.js', modules: 'runtime-modules.js', builtins: 'runtime-builtins.js' };
type RuntimeFactory = (native: object, cfgJson: string, lib: object, parts: object) => Runtime;
let libSource: string | null = null;
/**
 * Espruino's own conversions (number text, JSON, print, sort), evaluated in the context first:
 * its three files as one script (the memory model counts one script of the board's own), an
 * array of the three parts that libParts() calls in order.
 */
function libSrc(): string {
  if (!libSource) libSource = `[${LIB_PARTS.map((f) => readFileSync(new URL(f, import.meta.url), 'utf8')).join(',\n')}]`;
  return libSource;
}
/** the Espruino library's parts, in order: each builds on what the one before returned */
const LIB_PARTS = ['./espruino.js', './espruino-json.js', './espruino-parse.js'];
type LibPart = (built?: object) => object;
let stripSource: string | null = null;

/** What jsiInit prints when it loads no saved code (the Linux build running a file). */
const BANNER = ('\n ____                 _ \n|  __|___ ___ ___ _ _|_|___ ___ \n|  __|_ -| . |  _| | | |   | . |\n' +
  '|____|___|  _|_| |___|_|_|_|___|\n         |_| espruino.com\n 2v29 (c) 2025 G.Williams\n\n' +
  'Espruino is Open Source. Our work is supported\nonly by sales of official boards and donations:\n' +
  'http://espruino.com/Donate\n').replace(/\n/g, '\r\n');

/** the hidden global the boot script registers the image's modules with (runtime.js) */
const MODULE_HOOK = '\u0275vbModule';
/** the resident core's Storage name (rollup.config.js CORE_CHUNK) and the hidden global that
 * stands for the boot code's eval of it (runtime-modules.js) */
const CORE_MODULE = 'psd.core';
const ROOT_CORE_HOOK = '\u0275vbRootCore';

export class VirtualBoard extends BoardNatives {
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

  protected abandon(): void {
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

  protected boot(): void {
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
    // the first part makes the library's object, each later one adds to it, the last returns it
    const lib = (new vm.Script(libSrc(), { filename: 'vboard-espruino.js' }).runInContext(ctx) as LibPart[]).reduce<object | undefined>((built, part) => part(built), undefined)!;
    const parts = new vm.Script(runtimeSrc(), { filename: 'vboard-runtime.js' }).runInContext(ctx) as { runtime: RuntimeFactory };
    life.rt = parts.runtime(this.makeNative(life), JSON.stringify(cfg), lib, parts);
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
   * by its position in one source text. The resident core, which the boot code evaluates in the
   * global scope (tools/build.ts coreAtRoot), stands in the image's top level in place of that
   * eval (transform.ts rootCoreSource). */
  protected bootSource(): string {
    const image = transformImage(this.image);
    const core = this.modules[CORE_MODULE];
    const rooted = core !== undefined ? rootCoreSource(image, transformImage(core), ROOT_CORE_HOOK) : null;
    let prelude = '';
    for (const [name, code] of Object.entries(this.modules)) {
      if (rooted !== null && name === CORE_MODULE) continue;
      prelude += `${MODULE_HOOK}(${JSON.stringify(name)},function(exports,module){${transformImage(code)}\n});\n`;
    }
    return prelude + (rooted ?? image);
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

  protected memoryModel(l: Life): MemoryModel {
    if (!l.mem) {
      l.mem = new MemoryModel({
        global: l.global,
        builtins: l.builtins,
        // the source V8 runs (functions are matched with it by text and position)
        image: this.bootSource(),
        codeInRam: this.opts.boot === 'file',
        pretokenised: this.pretokenised,
        runtime: l.rt ?? {},
        layout: varLayout(this.board.espruinoBoard, this.board.variables),
        timers: () => [...l.timers].map(([id, t]) => ({ id, interval: t.interval > 0 }))
      });
    }
    return l.mem;
  }

  protected snapshot(root: object): Map<object, Set<string>> {
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
}
