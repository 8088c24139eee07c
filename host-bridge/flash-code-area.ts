// `psd flash` on a board with a code area (board-defs codeArea: the Pico, the Original): the
// resident core and the on-demand modules go to free flash that Flash.getFree() hands out, as
// one code-area image (kit/flash/code-area.ts); Storage keeps only the boot code. These are
// the REPL expressions (ES5, run on the board) and the writing loop flasher.ts uses.
import type { CodeAreaImage } from '../kit/flash/code-area.ts';

type Area = { addr: number; bytes: number; pageBytes: number };
type Repl = { evaluate<T>(expr: string, timeoutSeconds?: number): Promise<T | undefined> };

/** What Flash.getFree() reports on the board (read-only). */
export function freeFlashExpr(): string {
  return `require("Flash").getFree()`;
}

/** Whether free flash `free` (Flash.getFree()'s answer) covers the whole area. */
export function covers(free: { addr: number; length: number }[] | undefined, area: Area): boolean {
  return (free ?? []).some((f) => f.addr <= area.addr && f.addr + f.length >= area.addr + area.bytes);
}

/** Erases every page of the area; answers whether it then reads erased (its first and last 256 bytes). */
export function eraseCodeAreaExpr(area: Area): string {
  return `(function(a,n,p){var F=require("Flash"),i,ff="";for(i=0;i<n;i+=p)F.erasePage(a+i);for(i=0;i<256;i++)ff+="\\xff";` +
    `return E.toString(F.read(256,a))===ff&&E.toString(F.read(256,a+n-256))===ff;})(${area.addr},${area.bytes},${area.pageBytes})`;
}

/** Bytes of the code-area image per REPL write (one line of base64, 4-byte aligned: Flash.write's unit) */
const CHUNK_BYTES = 2048;

/** Writes the code-area image at the area's address through the REPL, a chunk at a time
 * (Flash.write of atob(...)), each chunk acknowledged before the next. */
export async function writeCodeArea(session: Repl, area: Area, image: CodeAreaImage, onChunk: (bytes: number) => void): Promise<boolean> {
  for (let off = 0; off < image.bytes.length; off += CHUNK_BYTES) {
    const chunk = image.bytes.subarray(off, off + CHUNK_BYTES);
    const ok = await session.evaluate<number>(`(function(){require("Flash").write(atob(${JSON.stringify(chunk.toString('base64'))}),${area.addr + off});return 1;})()`, 10);
    if (ok !== 1) return false;
    onChunk(chunk.length);
  }
  return true;
}

/** Length and CRC-32 of each directory file as the board reads it back from flash
 * (E.memoryArea), and the header's first 16 bytes. */
export function verifyCodeAreaExpr(area: Area, image: CodeAreaImage): string {
  const ranges = image.directory.map((e) => [e[1], e[2]]);
  return `(function(a,r){var o=[],i;for(i=0;i<r.length;i++)o.push(E.CRC32(E.memoryArea(a+r[i][0],r[i][1]))>>>0);return {head:E.toString(E.memoryArea(a,16)),crc:o};})(${area.addr},${JSON.stringify(ranges)})`;
}

/** What differs between the image and what the board read back ('' when nothing). */
export function codeAreaMismatch(image: CodeAreaImage, got: { head: string; crc: number[] } | undefined): string {
  if (!got) return 'no answer to the read-back';
  const head = image.bytes.subarray(0, 16).toString('latin1');
  const bad: string[] = [];
  if (got.head !== head) bad.push(`header ${JSON.stringify(got.head)} for ${JSON.stringify(head)}`);
  image.directory.forEach((e, i) => {
    if (got.crc[i] >>> 0 !== e[3]) bad.push(`${e[0]}: CRC-32 ${(got.crc[i] >>> 0).toString(16)} for ${e[3].toString(16)}`);
  });
  return bad.join('; ');
}
