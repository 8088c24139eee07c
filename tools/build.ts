// `npm run build [-- --board <id>] [--serial-path <dev>] [--plain] [--quiet]`
// Builds dist/firmware/<board>.js (boot code) and <board>.modules.json (the Storage modules:
// resident core, on-demand modules) for every board (or one), checks each file against the
// measured Espruino 2v29 profile, pretokenises it for Storage (kit/flash/pretokenise.ts; not
// with --plain), and prints the size table of the stored bytes against each board's budget.
// Exits non-zero when an image breaks the profile or its budget.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { rollup } from 'rollup';
import { Command as Cli } from 'commander';
import { minify } from 'terser';
import { firmwareConfig, terserOptions, CORE_CHUNK } from '../rollup.config.js';
import { loadBoards, getBoard, type BoardDef } from '../board-defs/index.ts';
import { checkImage } from './profile/check.ts';
import { imageHash, modulesFile, storageBytes, placeFiles } from '../kit/flash/image.ts';
import { pretokenise } from '../kit/flash/pretokenise.ts';
import { flattenClassIifes } from './flatten-classes.ts';
import { coreExportsToGlobals, useCoreGlobals, rootName, bootOnlyRelease } from './core-exports.ts';
import { codeAreaLoader } from '../kit/flash/code-area.ts';
import { buildInfoFor, HASH_PLACEHOLDER } from '../kit/build-info.ts';

/** Where the linux image opens Serial1 unless told otherwise: a path relative to the
 * interpreter's working folder, where the real-interpreter runner links its pseudo-terminal. */
export const LINUX_SERIAL_PATH = 'psd.pty';
export const DIST = path.resolve(import.meta.dirname, '../dist/firmware');

export interface BuiltImage {
  board: BoardDef;
  /** the board whose features, code split and table sizes a linux image was built with */
  profile: BoardDef;
  /** the boot code (Storage .bootcde) */
  file: string;
  /** boot code + every Storage file, bytes */
  bytes: number;
  /** what stays in RAM's reach at every request: boot code + resident core, bytes */
  residentBytes: number;
  /** on-demand modules, bytes */
  onDemandBytes: number;
  /** Storage name -> code: the resident core and the on-demand modules (not the boot code) */
  modules: Record<string, string>;
  buildHash: string;
  errors: string[];
}

export { buildInfoFor, maxRecords } from '../kit/build-info.ts';

// where an image's modules are kept and what its files take in Storage: kit/flash/image.ts
export { modulesFile, storageBytes, STORAGE_FILE_HEADER_BYTES } from '../kit/flash/image.ts';

/** Bundles, minifies, hashes, checks and writes one board's image: the boot code as
 * <out>/<name>.js and its Storage modules as <out>/<name>.modules.json. */
export async function buildBoard(board: BoardDef, opts: { serialPath?: string | null; outDir?: string; profile?: BoardDef; plain?: boolean } = {}): Promise<BuiltImage> {
  const serialPath = opts.serialPath !== undefined ? opts.serialPath : board.id === 'linux' ? LINUX_SERIAL_PATH : null;
  const profile = opts.profile ?? board;
  const info = buildInfoFor(board, serialPath, profile);
  const config = firmwareConfig(info);
  const bundle = await rollup({ ...(config as any), onwarn: (w) => { throw new Error('rollup: ' + w.message); } });
  const { output } = await bundle.generate(config.output as any);
  await bundle.close();
  const raw = new Map<string, string>();
  for (const c of output) {
    if (c.type !== 'chunk') continue;
    const name = c.fileName.replace(/\.js$/, '');
    if (name.length > 28) throw new Error(`${c.fileName}: a Storage file name has at most 28 characters`);
    // Espruino's require() takes the Storage file's name
    // (a shared chunk is named after its module: firmware/ondemand/x-y.ts makes psd.xx-y)
    raw.set(name, c.code.replace(/require\('\.\/([\w.-]+)\.js'\)/g, (_, n) => `require(${JSON.stringify(n)})`));
  }
  // the core's exports become globals, read as such by the chunks that use them (tools/core-exports.ts)
  const core = coreExportsToGlobals(raw.get(CORE_CHUNK) ?? '');
  const coreGlobals = core.exports.map(rootName);
  const chunks = new Map<string, string>();
  const reads = new Map<string, string[]>();
  for (const [name, rawCode] of raw) {
    if (name === CORE_CHUNK) continue;
    const used = useCoreGlobals(rawCode, CORE_CHUNK, core.exports, core.constants);
    chunks.set(name, used.code);
    reads.set(name, used.reads);
  }
  const release = bootOnlyRelease(reads.get('boot') ?? [], [...reads].filter(([n]) => n !== 'boot').map(([, r]) => r));
  for (const [name, rawCode] of raw) {
    let code = name === CORE_CHUNK ? core.code : chunks.get(name)!;
    // the boot code runs in the global scope: its names must not become globals; what only it
    // uses of the core is released after it (tools/core-exports.ts bootOnlyRelease)
    if (name === 'boot') code = '(function(){' + code + '})();' + release;
    // classes out of their IIFEs: each method then costs 3 variables less (tools/flatten-classes.ts)
    else code = flattenClassIifes(code);
    chunks.set(name, code);
  }
  // one name cache for all files, so a property mangled in the core is the same name in
  // every module that uses it; the core first
  const nameCache: Record<string, unknown> = {};
  const order = [CORE_CHUNK, 'boot', ...[...chunks.keys()].filter((n) => n !== CORE_CHUNK && n !== 'boot').sort()];
  const minified = new Map<string, string>();
  // the core's exports keep their global names, and the core keeps them though it may not
  // call them itself
  const options = terserOptions() as any;
  options.mangle = { ...options.mangle, reserved: [...options.mangle.reserved, ...coreGlobals] };
  options.compress = { ...options.compress, top_retain: coreGlobals };
  for (const name of order) {
    const r = await minify(chunks.get(name)!, { ...options, nameCache });
    minified.set(name, r.code!);
  }
  // The boot code runs the resident core in the global scope first: from Storage, or on boards
  // with a code area from there (its loader checks the area and gives the core's code)
  minified.set('boot', coreAtRoot(board.codeArea ? codeAreaLoader(board.codeArea) : CORE_FROM_STORAGE) + minified.get('boot')!);
  // What Storage holds: each file pretokenised (unless --plain), one byte per character
  const stored = opts.plain ? minified : pretokeniseFiles(minified);
  // The hash names the image's content, so `psd status` tells exactly which build runs.
  const buildHash = imageHash(stored);
  const errors: string[] = [];
  const modules: Record<string, string> = {};
  let boot = '';
  let residentBytes = 0;
  let onDemandBytes = 0;
  for (const name of order) {
    const plain = minified.get(name)!.split(HASH_PLACEHOLDER).join(buildHash);
    const code = stored.get(name)!.split(HASH_PLACEHOLDER).join(buildHash);
    // a module runs in the scope Espruino's require gives it (exports, module: jspEvaluateModule)
    const check = checkImage(name === 'boot' ? plain : '(function(exports,module){' + plain + '\n})', { nativeCrypto: board.nativeCrypto });
    for (const e of check.errors) errors.push(`${name}: ${e.rule}: ${e.message}${e.line ? ` (line ${e.line}:${e.column})` : ''}`);
    const bytes = Buffer.byteLength(code, 'latin1');
    if (name === 'boot') boot = code;
    else modules[name] = code;
    if (name === 'boot' || name === CORE_CHUNK) residentBytes += bytes;
    else onDemandBytes += bytes;
  }
  const outDir = opts.outDir ?? DIST;
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, imageName(board, profile) + '.js');
  fs.writeFileSync(file, boot, 'latin1');
  fs.writeFileSync(modulesFile(file), JSON.stringify(modules, null, 1) + '\n');
  return { board, profile, file, bytes: residentBytes + onDemandBytes, residentBytes, onDemandBytes, modules, buildHash, errors };
}

/** Where the boot code reads the resident core on a board without a code area. */
export const CORE_FROM_STORAGE = `require("Storage").read(${JSON.stringify(CORE_CHUNK)})`;

/**
 * The boot code's first statement: the resident core's code (`source`, an expression giving it
 * as a string in flash) evaluated in the global scope.
 *
 * Why not require() it: Espruino runs a module inside a scope of its own (jspEvaluateModule),
 * and every function made there keeps a reference to that scope, one variable each
 * (src/jsparse.c jspeiGetScopesAsVar); a function made in the global scope keeps none. eval at
 * the top level of the boot code runs in the global scope (jswrap_eval: jspEvaluateVar with
 * the root as scope adds none), and a string in flash keeps the function bodies in flash as
 * require() does. Measured on the 2,630-variable build (tools/real/dump-variables.ts): the
 * Puck.js image after boot 1,354 variables with require(), 1,239 this way.
 * The core's top-level names become globals, which is why terser keeps them off every name
 * Espruino has (tools/reserved-names.js), and what it exports is read as globals
 * (tools/core-exports.ts).
 */
export function coreAtRoot(source: string): string {
  return `eval(${source});`;
}

/** Every file pretokenised (kit/flash/pretokenise.ts). The build hash's placeholder, a string
 * literal, becomes a raw string whose length byte already says 12, the hash's length, so that
 * putting the hash in its place (and back: findBuildHash) keeps the file valid. */
function pretokeniseFiles(files: Map<string, string>): Map<string, string> {
  const raw = (n: number) => '\xd1' + String.fromCharCode(n) + HASH_PLACEHOLDER;
  const hashBytes = 12;
  const out = new Map<string, string>();
  for (const [name, code] of files) {
    const t = pretokenise(code);
    const literals = t.split(raw(HASH_PLACEHOLDER.length)).length - 1;
    if (literals !== t.split(HASH_PLACEHOLDER).length - 1) throw new Error(`${name}: the build hash placeholder must be a whole string literal`);
    out.set(name, t.split(raw(HASH_PLACEHOLDER.length)).join(raw(hashBytes)));
  }
  return out;
}

/** dist/firmware/<board>.js, or <board>-<profile>.js for a linux image with another board's profile */
export function imageName(board: BoardDef, profile: BoardDef): string {
  return profile.id === board.id ? board.id : `${board.id}-${profile.id}`;
}

export function sizeTable(images: BuiltImage[]): string {
  const rows = [['image', 'resident', 'on demand', 'in Storage', 'budget', 'used', 'code in', 'stats flash', 'profile']];
  for (const i of images) {
    const placed = placeFiles(i.board, [{ name: 'boot', code: fs.readFileSync(i.file, 'latin1') }, ...Object.entries(i.modules).map(([name, code]) => ({ name, code }))]);
    const need = storageBytes(placed.storage.map((f) => f.code));
    const area = i.board.codeArea;
    const areaBytes = placed.codeArea ? placed.codeArea.bytes.length : 0;
    rows.push([
      imageName(i.board, i.profile),
      String(i.residentBytes),
      String(i.onDemandBytes),
      String(need),
      String(i.board.image.budgetBytes),
      ((100 * need) / i.board.image.budgetBytes).toFixed(1) + '%' + (need > i.board.image.budgetBytes ? ' OVER' : ''),
      area ? `code area 0x${area.addr.toString(16)}: ${areaBytes} of ${area.bytes}${areaBytes > area.bytes ? ' OVER' : ''}` : 'Storage',
      `${i.board.flash.dataPages} x ${i.board.flash.pageBytes / 1024} KB`,
      i.errors.length ? 'FAIL' : 'ok'
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 || c === 6 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

/** The linux images built besides the boards' own by default: a Pico's and a Puck.js's
 * profile, for the real interpreter with 5,100 and 2,630 variables. */
export const LINUX_PROFILES = ['pico', 'puckjs', 'original', 'mdbt42q'];

async function main() {
  const cli = new Cli('build')
    .description('Build one minified ES5 firmware image per board into dist/firmware/')
    .option('--board <id>', 'build only this board')
    .option('--serial-path <device>', 'linux board: device path Serial1 opens (default psd.pty in the working folder, the link kit/real/runner.ts makes)')
    .option('--profile <id>', 'linux board: build with this board\'s features, code split and table sizes (dist/firmware/linux-<id>.js); default: the linux image and linux-' + LINUX_PROFILES.join(', linux-'))
    .option('--out <dir>', 'write the images here instead of dist/firmware/')
    .option('--plain', 'store the files as plain minified source, not pretokenised (for comparison)')
    .option('--quiet', 'print only failures')
    .parse();
  const opts = cli.opts();
  const boards = opts.board ? [getBoard(opts.board)] : loadBoards();
  const images: BuiltImage[] = [];
  if (opts.profile && !(opts.board === 'linux')) throw new Error('--profile goes with --board linux (the real interpreter stands in for that board)');
  for (const board of boards) {
    const serialPath = board.id === 'linux' ? opts.serialPath ?? LINUX_SERIAL_PATH : null;
    if (opts.profile) {
      images.push(await buildBoard(board, { serialPath, outDir: opts.out, profile: getBoard(opts.profile), plain: opts.plain }));
      continue;
    }
    images.push(await buildBoard(board, { serialPath, outDir: opts.out, plain: opts.plain }));
    if (board.id === 'linux') for (const p of LINUX_PROFILES) images.push(await buildBoard(board, { serialPath, outDir: opts.out, profile: getBoard(p), plain: opts.plain }));
  }
  const failed = images.filter((i) => i.errors.length);
  if (!opts.quiet || failed.length) console.log(sizeTable(images));
  for (const i of failed) {
    console.error(`\n${imageName(i.board, i.profile)}: the image breaks the Espruino 2v29 profile or its budget:`);
    for (const e of i.errors) console.error('  ' + e);
  }
  if (failed.length) process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error('build failed:', e.message);
    process.exit(1);
  });
}
