// A built firmware image (dist/firmware/<board>.js, the boot code, and <board>.modules.json,
// its other Storage files) as the flasher sees it: its files and bytes, the build
// hash tools/build.ts embedded, and the build info (board, firmware version) it carries.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { getBoard, BOARD_IDS } from '../../board-defs/index.ts';
import { layOutCodeArea, type CodeAreaImage } from './code-area.ts';

/** What tools/build.ts hashes in place of the hash (see buildBoard there). */
import { HASH_PLACEHOLDER } from '../build-info.ts';
import { detokenise, isPretokenised } from './pretokenise.ts';

export interface FirmwareImage {
  /** the boot code's file (dist/firmware/<board>.js) */
  file: string;
  /** the boot code (Storage .bootcde) */
  code: string;
  /** every Storage file of the image, the boot code first as `.bootcde`, then the resident
   * core and the on-demand modules (<board>.modules.json beside the boot code); pretokenised
   * (kit/flash/pretokenise.ts): one character per byte, write them as latin1 */
  files: { name: string; code: string }[];
  /** all files' bytes */
  bytes: number;
  /** the files that go to Storage: all of them, or only the boot code on a board with a code
   * area (board-defs codeArea) */
  storageFiles: { name: string; code: string }[];
  /** the code-area image of the other files (null: the board has no code area) */
  codeArea: CodeAreaImage | null;
  /** 12 hex digits: sha256 of the image with the hash put back to the placeholder */
  buildHash: string;
  /** the board id and firmware version baked into the image's build info */
  board: string | null;
  firmwareVersion: string | null;
}

/** The Storage name of the boot code (Espruino runs it at every boot). */
export const BOOT_FILE = '.bootcde';

/** The build hash of an image's files (boot code as 'boot', modules by Storage name) with the
 * placeholder in place: tools/build.ts names each build with it. Core first, then the boot
 * code, then the rest by name. */
export function imageHash(files: Map<string, string>): string {
  const names = [...files.keys()];
  const order = [...names.filter((n) => n === 'psd.core'), ...names.filter((n) => n === 'boot'), ...names.filter((n) => n !== 'psd.core' && n !== 'boot').sort()];
  const h = createHash('sha256');
  for (const n of order) h.update(n + '\0' + files.get(n) + '\0');
  return h.digest('hex').slice(0, 12);
}

/** The build hash h such that imageHash(files with h put back to the placeholder) is h, or
 * null when no candidate verifies (not one of our builds, or edited after the build). */
export function findBuildHash(files: Map<string, string>): string | null {
  const all = [...files.values()].join('\n');
  const candidates = new Set(all.match(/[0-9a-f]{12}/g) ?? []);
  for (const h of candidates) {
    const original = new Map([...files].map(([n, c]) => [n, c.split(h).join(HASH_PLACEHOLDER)]));
    if (imageHash(original) === h) return h;
  }
  return null;
}

/** Where a built image's Storage files besides the boot code are kept: beside it. */
export function modulesFile(bootFile: string): string {
  return bootFile.replace(/\.js$/, '') + '.modules.json';
}

/** Bytes Espruino's Storage spends per file besides its content (JsfFileHeader: size and a
 * 28-character name, 32 bytes; contents padded to 4 bytes: src/jsflash.h). */
export const STORAGE_FILE_HEADER_BYTES = 32;

/** Bytes an image's files take in Storage, headers and padding included. */
export function storageBytes(files: string[]): number {
  let n = 0;
  for (const f of files) n += STORAGE_FILE_HEADER_BYTES + Math.ceil(Buffer.byteLength(f, 'latin1') / 4) * 4;
  return n;
}

/** The image's files by name ('boot' for the boot code): the boot code file and the
 * <name>.modules.json beside it. */
export function imageFiles(file: string): Map<string, string> {
  const files = new Map<string, string>([['boot', readFileSync(file, 'latin1')]]);
  const sidecar = modulesFile(file);
  if (existsSync(sidecar)) for (const [n, c] of Object.entries(JSON.parse(readFileSync(sidecar, 'utf8')) as Record<string, string>)) files.set(n, c);
  return files;
}

/** The image's Storage modules (name -> code), for a board given the boot code as text. */
export function imageModules(file: string): Record<string, string> {
  return Object.fromEntries([...imageFiles(file)].filter(([n]) => n !== 'boot'));
}

/** Where an image's files go on a board: all in Storage, or, on a board with a code area, the
 * boot code (`.bootcde` or 'boot') in Storage and the others laid out as a code-area image. */
export function placeFiles(board: { codeArea?: unknown }, files: { name: string; code: string }[]): { storage: { name: string; code: string }[]; codeArea: CodeAreaImage | null } {
  if (!board.codeArea) return { storage: files, codeArea: null };
  const isBoot = (n: string) => n === BOOT_FILE || n === 'boot';
  return { storage: files.filter((f) => isBoot(f.name)), codeArea: layOutCodeArea(Object.fromEntries(files.filter((f) => !isBoot(f.name)).map((f) => [f.name, f.code]))) };
}

export class ImageError extends Error {}

export function readImage(file: string): FirmwareImage {
  if (!existsSync(file)) throw new ImageError(`${file} does not exist: run \`npm run build\` first (or give --image)`);
  const byName = imageFiles(file);
  const code = byName.get('boot')!;
  const buildHash = findBuildHash(byName);
  if (!buildHash) throw new ImageError(`${file} carries no valid build hash: it is not an image \`npm run build\` made, or it was edited afterwards`);
  // The build info object rollup inlines: {board:"pico",firmwareVersion:"0.1.0",buildHash:"<h>",...}
  const files = [...byName].map(([name, c]) => ({ name: name === 'boot' ? BOOT_FILE : name, code: c }));
  const text = files.map((f) => (isPretokenised(f.code) ? detokenise(f.code) : f.code)).join('\n');
  const info = new RegExp(`board:"([^"]*)",(?:profile:"[^"]*",)?firmwareVersion:"([^"]*)",buildHash:"${buildHash}"`).exec(text);
  const board = info && (BOARD_IDS as readonly string[]).includes(info[1]) ? getBoard(info[1]) : null;
  const placed = board ? placeFiles(board, files) : { storage: files, codeArea: null };
  return {
    file,
    code,
    files,
    storageFiles: placed.storage,
    codeArea: placed.codeArea,
    bytes: files.reduce((n, f) => n + Buffer.byteLength(f.code, 'latin1'), 0),
    buildHash,
    board: info ? info[1] : null,
    firmwareVersion: info ? info[2] : null
  };
}
