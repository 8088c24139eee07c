// process.memory() of a program on the real interpreter and on the virtual board, measured
// the same way on both (tools/bench/memory.ts, test/memory-fidelity.test.ts).
//
// The program is booted as a board boots its saved code: the interpreter itself writes it to
// Storage as `.bootcde` (a loader run as a file argument copies it in 512-byte chunks, so even
// the smallest builds never hold it whole), then the binary starts with no file argument in that
// folder, standard input held open, and runs it from flash (function bodies stay in flash).
// `from: 'file'` runs it as `espruino file.js` instead (code copied into RAM).
//
// Reading memory: an interval appended to the program writes `JSON.stringify(process.memory())`
// to mem.json in the working folder (the Linux build has require("fs")); the first one is
// taken and the interpreter is then ended with SIGKILL (it hooks SIGINT/SIGTERM). An interval,
// not a timeout: it stays in the timer list while it runs, on the interpreter as on the
// virtual board, so both count the same timer. While `global.__BUSY__` is set (a workload
// running, see frankingWorkload) it waits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { VirtualBoard, type BoardDef, type BoardMemory } from '../../kit/vboard/board.ts';
import { encodeFrame } from '../../protocol/frame.ts';
import { crc32 } from '../../protocol/crc32.ts';
import { Command } from '../../protocol/commands.ts';
import { fundsMessage } from '../../protocol/auth.ts';
import { detokenise, isPretokenised } from '../../kit/flash/pretokenise.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The reader appended to the program on the interpreter. */
const REAL_READER = 'if(!global.__BUSY__)require("fs").writeFileSync("mem.json",JSON.stringify(process.memory()))';
const VIRTUAL_READER = 'if(!global.__BUSY__&&!global.__MEMORY__)global.__MEMORY__=process.memory()';

export function realDump(afterMs: number): string {
  return `\nsetInterval(function(){${REAL_READER}},${afterMs});\n`;
}

/** The same reader on the virtual board (same shape: an interval whose body stays in flash). */
export function virtualDump(afterMs: number): string {
  // as long as the interpreter's reader, for programs whose code is kept in RAM
  const pad = ' '.repeat(Math.max(0, REAL_READER.length - VIRTUAL_READER.length));
  return `\nsetInterval(function(){${VIRTUAL_READER.replace('if(', 'if(' + pad)}},${afterMs});\n`;
}

export interface RealMemoryOptions {
  /** 'storage' (default): booted from Storage like a board; 'file': `espruino file.js` */
  from?: 'storage' | 'file';
  /** when the reading is taken, ms after boot (default 300) */
  afterMs?: number;
  /** give up after (default 30000 ms) */
  timeoutMs?: number;
  /** Storage modules the program requires (a built image's resident core and on-demand
   * modules: kit/flash/image.ts imageModules), written to Storage before it boots */
  modules?: Record<string, string>;
}

/** process.memory() of `code` on the interpreter `binary` (see the file comment). */
/** Writes `program` (already in dir/program.js) to Storage as `.bootcde` with the interpreter
 * itself, and runs `moduleLoader` (code that stores the modules) in the same go, so the next
 * start of the binary in `dir` boots it from flash as a board does. Throws when the stored
 * length is not the program's. */
export function storeBootCode(binary: string, dir: string, program: string, moduleLoader: string): void {
  const size = Buffer.byteLength(program, 'latin1');
  writeFileSync(
    join(dir, 'loader.js'),
    `var S=require("Storage"),f=E.openFile("program.js","r"),size=${size},off=0,d;S.erase(".bootcde");` +
      `while(off<size){d=f.read(512);S.write(".bootcde",d,off,size);off+=d.length;}f.close();` +
      moduleLoader +
      `print("LOADED "+S.read(".bootcde").length);`
  );
  const r = spawnSync(binary, ['loader.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000, killSignal: 'SIGKILL', encoding: 'latin1' });
  if (!new RegExp(`LOADED ${size}\\b`).test(r.stdout ?? '')) throw new Error(`the interpreter did not store the program: ${(r.stdout ?? '').slice(-400)}`);
}

/** Code for the loader that copies each module file (dir/module-<i>.bin, written here) into
 * Storage under its name. */
export function writeModules(dir: string, modules: Record<string, string>): string {
  return Object.entries(modules)
    .map(([name, m], i) => {
      writeFileSync(join(dir, `module-${i}.bin`), m, 'latin1');
      return `(function(){var f=E.openFile("module-${i}.bin","r"),n=${Buffer.byteLength(m, 'latin1')},o=0,d;while(o<n){d=f.read(512);S.write(${JSON.stringify(name)},d,o,n);o+=d.length;}f.close();})();`;
    })
    .join('');
}

/** The three calls of an image's boot code (tools/build.ts writes `c=$X($B());try{$S(c,$B)}`, the
 * core's exports as globals, tools/core-exports.ts; `try` one byte when pretokenised): the
 * binding, the build facts (a function: firmware/build-info.ts buildInfo) and the start, as the
 * global names a program calls. */
export function bootCalls(boot: string): { bind: string; build: string; start: string } {
  const m = /=(\$\w+)\((\$\w+)\(\)\);[^{]*\{(\$\w+)\(/.exec(boot);
  if (!m) throw new Error('the boot code is not the shape tools/build.ts writes: ' + boot.slice(0, 120));
  return { bind: m[1], build: m[2], start: m[3] };
}

/** The statement an image's boot code ends with that releases what only it uses of the core
 * (tools/core-exports.ts bootOnlyRelease), or ''. */
export function bootRelease(boot: string): string {
  const m = /(\$\w+(?:=\$\w+)*=void 0;)\s*$/.exec(isPretokenised(boot) ? detokenise(boot) : boot);
  return m ? m[1] : '';
}

export async function realMemory(binary: string, code: string, o: RealMemoryOptions = {}): Promise<BoardMemory> {
  const dir = mkdtempSync(join(tmpdir(), 'espruino-mem-'));
  try {
    const program = code + realDump(o.afterMs ?? 300);
    writeFileSync(join(dir, 'program.js'), program, 'latin1');
    const args: string[] = [];
    // the modules go to Storage in any case (require finds them there)
    const moduleLoader = writeModules(dir, o.modules ?? {});
    if ((o.from ?? 'storage') === 'storage') {
      storeBootCode(binary, dir, program, moduleLoader);
    } else {
      if (moduleLoader) {
        writeFileSync(join(dir, 'modules.js'), 'var S=require("Storage");' + moduleLoader + 'print("MODULES");');
        spawnSync(binary, ['modules.js'], { cwd: dir, stdio: 'ignore', timeout: 60000, killSignal: 'SIGKILL' });
      }
      args.push('program.js');
    }
    const p = spawn(binary, args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out = (out + d.toString('latin1')).slice(-4000)));
    p.stderr!.on('data', (d: Buffer) => (out = (out + d.toString('latin1')).slice(-4000)));
    p.stdin!.on('error', () => {});
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    const file = join(dir, 'mem.json');
    const t0 = Date.now();
    try {
      while (Date.now() - t0 < (o.timeoutMs ?? 30000)) {
        await sleep(25);
        if (existsSync(file)) {
          try {
            return JSON.parse(readFileSync(file, 'utf8')) as BoardMemory;
          } catch {
            /* being written */
          }
        }
        if (p.exitCode !== null || p.signalCode !== null) break;
      }
      throw new Error(`no memory reading from the interpreter (${p.exitCode !== null ? 'exit code ' + p.exitCode : p.signalCode ? 'killed by ' + p.signalCode : 'still running after ' + (o.timeoutMs ?? 30000) + ' ms'}): ${out.slice(-800)}`);
    } finally {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface VirtualMemoryOptions {
  /** as RealMemoryOptions.from: 'storage' (default) or 'file' (code kept in RAM) */
  from?: 'storage' | 'file';
  /** when the reading is taken, ms after boot (default 300) */
  afterMs?: number;
  /** more to do on the running board before the reading (the clock is manual) */
  before?: (vb: VirtualBoard) => void | Promise<void>;
  /** as RealMemoryOptions.modules */
  modules?: Record<string, string>;
}

/** process.memory() of `code` on the virtual board `board`, read like realMemory does. */
export async function virtualMemory(board: BoardDef, code: string, o: VirtualMemoryOptions = {}): Promise<BoardMemory> {
  const dir = mkdtempSync(join(tmpdir(), 'vboard-mem-'));
  const afterMs = o.afterMs ?? 300;
  const vb = new VirtualBoard({ board, image: code + virtualDump(afterMs), modules: o.modules, flashFile: join(dir, 'flash.bin'), clock: 'manual', boot: o.from, log: () => {} });
  try {
    vb.start();
    if (o.before) await o.before(vb);
    let m: BoardMemory | undefined;
    for (let i = 0; i < 1000 && !m; i++) {
      vb.advanceTime(afterMs / 1000);
      m = vb.evaluate('global.__MEMORY__') as BoardMemory | undefined;
    }
    if (!m) throw new Error('no memory reading from the virtual board (did the program stop?)');
    return { ...m };
  } finally {
    vb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A PSD's working day, driven from inside the program: the frames a host would send, handed to
 * the firmware's data port listener with `Serial1.emit` (`port`: the board's data port, default
 * Serial1 as on the linux board; its answers go to that port and are not read). Provisioning, clock, a funds reset, single, batch and dynamic franking (`pieces`
 * pieces over a spread of customers, categories and weights), a flush to flash, and more
 * franking after it. Deterministic: same keys, ids and times on every run. `global.__BUSY__` is
 * set until the last frame is handled (the memory reader waits for it). `lazy`: the frames are
 * made one at a time as they are sent (for the smallest builds). */
export function frankingWorkload(o: { startMs?: number; pieces?: number; port?: string; lazy?: boolean } = {}): string {
  const device = 901234;
  const deviceKey = Buffer.alloc(32, 0x11);
  const kmsKey = Buffer.alloc(32, 0x22);
  const frames: string[] = [];
  let seq = 0;
  const req = (type: number, body: object) => frames.push(encodeFrame(type, ++seq, JSON.stringify(body), crc32));
  const amount = 10000000;
  req(Command.PROVISION, { device, deviceKey: deviceKey.toString('hex'), kmsKey: kmsKey.toString('hex') });
  req(Command.CLOCK, { now: 1764460800000 });
  req(Command.FUNDS, { counter: 1, amount, mac: createHmac('sha256', kmsKey).update(Buffer.from(fundsMessage(device, 1, amount), 'latin1')).digest('hex') });
  let id = 1000;
  const pieces = o.pieces ?? 40;
  for (let i = 0; i < pieces; i++) req(Command.FRANK, { id: ++id, customer: 10 + (i % 7), category: 1 + (i % 5), weight: 20 + 10 * (i % 9), postage: 85 + 5 * (i % 4) });
  req(Command.BATCH_START, { customer: 12, mode: 'batch', category: 2, weight: 40, postage: 95 });
  req(Command.FRANK, { id: ++id, count: 50 });
  req(Command.BATCH_END, {});
  req(Command.BATCH_START, { customer: 13, mode: 'dynamic' });
  for (let i = 0; i < 6; i++) req(Command.FRANK, { id: ++id, category: 3 + (i % 2), weight: 15 + 50 * i, postage: 85 + 40 * i });
  req(Command.BATCH_END, {});
  req(Command.STATS_FLUSH, {});
  for (let i = 0; i < pieces / 2; i++) req(Command.FRANK, { id: ++id, customer: 20 + (i % 3), category: 1, weight: 20, postage: 85 });
  req(Command.STATUS, {});
  const lit = (s: string) => '"' + s.replace(/[^ -!#-[\]-~]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')) + '"';
  // one timer per frame, so each is a task of its own as when it arrives on the line
  // lazy: each frame is a literal returned by a switch, made only when sent (an array of them
  // all would take more variables than the smallest builds have)
  const list = o.lazy ? `function(i){switch(i){${frames.map((f, i) => `case ${i}:return ${lit(f)};`).join('')}}}` : `[${frames.map(lit).join(',')}]`;
  const frame = o.lazy ? 'F(i++)' : 'F[i++]';
  return `\nglobal.__BUSY__=1;setTimeout(function(){var F=${list},i=0;function next(){${o.port ?? 'Serial1'}.emit("data",${frame});if(i<${frames.length})setTimeout(next,5);else delete global.__BUSY__;}next();},${o.startMs ?? 100});\n`;
}
