// `npm run build [-- --board <id>] [--serial-path <dev>] [--quiet]`
// Builds dist/firmware/<board>.js for every board (or one), checks each image against the
// measured Espruino 2v29 profile, and prints the size table against each board's budget.
// Exits non-zero when an image breaks the profile or its budget.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { rollup } from 'rollup';
import { Command as Cli } from 'commander';
import { firmwareConfig } from '../rollup.config.js';
import { loadBoards, getBoard, type BoardDef } from '../board-defs/index.ts';
import { checkImage } from './profile/check.ts';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const HASH_PLACEHOLDER = '@@BUILD_HASH@@';
/** Where the linux image opens Serial1 unless told otherwise: a path relative to the
 * interpreter's working folder, where the real-interpreter runner links its pseudo-terminal. */
export const LINUX_SERIAL_PATH = 'psd.pty';
export const DIST = path.resolve(import.meta.dirname, '../dist/firmware');

export interface BuiltImage {
  board: BoardDef;
  file: string;
  bytes: number;
  buildHash: string;
  errors: string[];
}

export function buildInfoFor(board: BoardDef, serialPath: string | null) {
  return {
    board: board.id,
    firmwareVersion: pkg.version,
    buildHash: HASH_PLACEHOLDER,
    dataPort: board.dataPort,
    serialPath,
    flash: {
      dataStart: board.flash.dataStart,
      pageBytes: board.flash.pageBytes,
      dataPages: board.flash.dataPages,
      writeAlignBytes: board.flash.writeAlignBytes
    },
    nativeCrypto: board.nativeCrypto,
    seal: board.seal,
    naclBuild: board.naclBuild ?? 'fast',
    tamper: board.tamper,
    leds: board.leds,
    maxRecords: maxRecords(board)
  };
}

/** Records per tier: two Uint32Array tables of 24 bytes a record must stay a small share of
 * the board's variables (~14 variables per record for both), and a checkpoint of all
 * records must fit a third of the statistics flash (two checkpoints are kept writable). */
export function maxRecords(board: BoardDef): number {
  const byVariables = Math.floor(board.variables / 14);
  const byFlash = Math.floor(((board.flash.pageBytes * board.flash.dataPages) / 3 - 1024) / 24);
  return Math.min(480, byVariables, byFlash);
}

/** Bundles, hashes, checks and writes one board's image. */
export async function buildBoard(board: BoardDef, opts: { serialPath?: string | null; outDir?: string } = {}): Promise<BuiltImage> {
  const serialPath = opts.serialPath !== undefined ? opts.serialPath : board.id === 'linux' ? LINUX_SERIAL_PATH : null;
  const config = firmwareConfig(buildInfoFor(board, serialPath));
  const bundle = await rollup({ ...(config as any), onwarn: (w) => { throw new Error('rollup: ' + w.message); } });
  const { output } = await bundle.generate(config.output as any);
  await bundle.close();
  let code = output[0].code;
  // The hash names the image's content, so `psd status` tells exactly which build runs.
  const buildHash = crypto.createHash('sha256').update(code).digest('hex').slice(0, 12);
  code = code.split(HASH_PLACEHOLDER).join(buildHash);
  const check = checkImage(code, { nativeCrypto: board.nativeCrypto });
  const errors = check.errors.map((e) => `${e.rule}: ${e.message}${e.line ? ` (line ${e.line}:${e.column})` : ''}`);
  const bytes = Buffer.byteLength(code);
  const outDir = opts.outDir ?? DIST;
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, board.id + '.js');
  fs.writeFileSync(file, code);
  return { board, file, bytes, buildHash, errors };
}

export function sizeTable(images: BuiltImage[]): string {
  const rows = [['board', 'image bytes', 'budget', 'used', 'stats flash', 'profile']];
  for (const i of images) {
    const flash = i.board.flash.dataPages * i.board.flash.pageBytes;
    rows.push([
      i.board.id,
      String(i.bytes),
      String(i.board.image.budgetBytes),
      ((100 * i.bytes) / i.board.image.budgetBytes).toFixed(1) + '%' + (i.bytes > i.board.image.budgetBytes ? ' OVER' : ''),
      `${i.board.flash.dataPages} x ${i.board.flash.pageBytes / 1024} KB`,
      i.errors.length ? 'FAIL' : 'ok'
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

async function main() {
  const cli = new Cli('build')
    .description('Build one minified ES5 firmware image per board into dist/firmware/')
    .option('--board <id>', 'build only this board')
    .option('--serial-path <device>', 'linux board: device path Serial1 opens (default psd.pty in the working folder, the link tools/real/runner.ts makes)')
    .option('--out <dir>', 'write the images here instead of dist/firmware/')
    .option('--quiet', 'print only failures')
    .parse();
  const opts = cli.opts();
  const boards = opts.board ? [getBoard(opts.board)] : loadBoards();
  const images: BuiltImage[] = [];
  for (const board of boards) {
    images.push(await buildBoard(board, { serialPath: board.id === 'linux' ? opts.serialPath ?? LINUX_SERIAL_PATH : null, outDir: opts.out }));
  }
  const failed = images.filter((i) => i.errors.length);
  if (!opts.quiet || failed.length) console.log(sizeTable(images));
  for (const i of failed) {
    console.error(`\n${i.board.id}: the image breaks the Espruino 2v29 profile or its budget:`);
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
