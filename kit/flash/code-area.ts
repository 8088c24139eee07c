// The code-area image: on boards whose Storage cannot hold the code (board-defs codeArea: the
// Pico, the Original), the resident core and the on-demand modules live in free flash that
// Flash.getFree() hands out, written by `psd flash` only. One layout, used by the build (the
// image and its loader), the flasher (what it writes and verifies) and the virtual board
// (what it finds in its flash).
//
// Layout at the area's address (all offsets from there):
//   0   "PSDCODE"  magic, 7 bytes
//   7   "1"        format
//   8   4 hex digits: file count
//   12  4 hex digits: directory bytes (D)
//   16  directory, JSON: [[name, offset, length, crc32, [names it requires]], ...]
//   then each file at a 4-byte aligned offset: the module's final bytes, exactly as its
//   Storage file would hold them (Espruino's Modules.addCached(name, E.memoryArea(a, n)) runs
//   it as require() runs a Storage file: jspEvaluateModule on a string in flash, so its
//   function bodies stay in flash, src/jsparse.c jspeFunctionDefinitionInternal).
import { crc32 } from 'node:zlib';
import { isPretokenised, detokenise } from './pretokenise.ts';

export const CODE_AREA_MAGIC = 'PSDCODE';
export const CODE_AREA_FORMAT = '1';
export const CODE_AREA_HEADER_BYTES = 16;

/** One file of the directory: Storage-like name, offset from the area's start, length, zlib
 * CRC-32 (what E.CRC32 gives), and the names of the shared chunks it requires (loaded first). */
export type CodeAreaEntry = [name: string, offset: number, length: number, crc32: number, requires: string[]];

export interface CodeAreaImage {
  /** the bytes to write at the area's address (a multiple of 4 bytes, padded with 0xFF) */
  bytes: Buffer;
  directory: CodeAreaEntry[];
}

/** The Storage names a module's code requires (rollup's CommonJS output, tools/build.ts
 * renames them to Storage names): the shared chunks the loader must cache first. Pretokenised
 * code is read back to source first (its string literals are length-prefixed bytes). */
export function requiredNames(code: string): string[] {
  const names = new Set<string>();
  if (isPretokenised(code)) code = detokenise(code);
  for (const m of code.matchAll(/require\("([\w.]+)"\)/g)) names.add(m[1]);
  return [...names];
}

/** Lays out modules (Storage name -> final code, latin1 bytes) as a code-area image. */
export function layOutCodeArea(modules: Record<string, string>): CodeAreaImage {
  const names = Object.keys(modules);
  const align = (n: number) => Math.ceil(n / 4) * 4;
  // the directory's length depends on the offsets it holds: grow it until it is stable
  let dirBytes = 0;
  let directory: CodeAreaEntry[] = [];
  for (let pass = 0; pass < 4; pass++) {
    let offset = align(CODE_AREA_HEADER_BYTES + dirBytes);
    directory = names.map((n) => {
      const b = Buffer.from(modules[n], 'latin1');
      const e: CodeAreaEntry = [n, offset, b.length, crc32(b) >>> 0, requiredNames(modules[n]).filter((r) => r !== n && r in modules && r !== 'psd.core')];
      offset = align(offset + b.length);
      return e;
    });
    const len = Buffer.byteLength(JSON.stringify(directory));
    if (len === dirBytes) break;
    dirBytes = len;
  }
  const dir = JSON.stringify(directory);
  if (dirBytes > 0xffff || names.length > 0xffff) throw new Error('code area: directory too large');
  const last = directory[directory.length - 1];
  const total = align(last ? last[1] + last[2] : CODE_AREA_HEADER_BYTES + dirBytes);
  const bytes = Buffer.alloc(total, 0xff);
  bytes.write(CODE_AREA_MAGIC + CODE_AREA_FORMAT + hex4(names.length) + hex4(dirBytes) + dir, 0, 'latin1');
  for (const e of directory) bytes.write(modules[e[0]], e[1], 'latin1');
  return { bytes, directory };
}

/** The directory of a code-area image, or null when the bytes do not start with one. */
export function readCodeArea(bytes: Buffer): CodeAreaEntry[] | null {
  const head = bytes.subarray(0, CODE_AREA_HEADER_BYTES).toString('latin1');
  if (head.slice(0, 8) !== CODE_AREA_MAGIC + CODE_AREA_FORMAT) return null;
  const count = parseInt(head.slice(8, 12), 16);
  const dirBytes = parseInt(head.slice(12, 16), 16);
  try {
    const dir = JSON.parse(bytes.subarray(CODE_AREA_HEADER_BYTES, CODE_AREA_HEADER_BYTES + dirBytes).toString('latin1')) as CodeAreaEntry[];
    return Array.isArray(dir) && dir.length === count ? dir : null;
  } catch {
    return null;
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * The boot code's loader (ES5, an expression the boot code evaluates first): checks that
 * Flash.getFree() reports free flash covering the whole area (the flash may be outside the
 * chip's datasheet: it is read only when Espruino says it is there), checks the header, the
 * directory and the core's CRC-32, and gives the resident core's code, a string in flash
 * (E.memoryArea), which the boot code runs in the global scope (tools/build.ts coreAtRoot).
 * A failed check throws an Error that says what and what to do; Espruino prints it on the
 * console, which is still on the data port (nothing moved it), so the board stays at its REPL
 * for `psd flash`.
 */
export function codeAreaLoader(area: { addr: number; bytes: number }, core = 'psd.core'): string {
  return (
    `(function(A,N){var g=require("Flash").getFree()||[],i,d,e,c,h,` +
    `x=function(m){throw new Error("PSD code area 0x"+A.toString(16)+": "+m+"; run psd flash")};` +
    `for(i=0;i<g.length&&!(g[i].addr<=A&&g[i].addr+g[i].length>=A+N);i++);` +
    `if(i==g.length)x("not free flash here (Flash.getFree: "+JSON.stringify(g)+")");` +
    `h=E.memoryArea(A,${CODE_AREA_HEADER_BYTES});` +
    `if(h.substr(0,8)!=${JSON.stringify(CODE_AREA_MAGIC + CODE_AREA_FORMAT)})x("no PSD code there");` +
    `d=JSON.parse(E.memoryArea(A+${CODE_AREA_HEADER_BYTES},parseInt(h.substr(12,4),16)));` +
    `if(d.length!=parseInt(h.substr(8,4),16))x("directory damaged");` +
    `for(i=0;i<d.length;i++)if(d[i][0]==${JSON.stringify(core)})e=d[i];` +
    `if(!e)x("no ${core}");` +
    `c=E.memoryArea(A+e[1],e[2]);` +
    `if(E.CRC32(c)>>>0!=e[3])x("${core} fails its CRC-32");` +
    `return c})(${area.addr},${area.bytes})`
  );
}
