// Espruino's pretokenisation of the image's Storage files (kit/flash/pretokenise.ts), measured:
// each file's bytes plain and pretokenised, and on the real interpreter (ESPRUINO_BIN, the
// 5,100- and 2,630-variable builds) the variables in use after boot and after a working day of
// franking, and the time the firmware spends handling that day's frames. Builds both variants
// of the images it needs into a temporary folder. Timings are printed, never asserted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBoard, type BoardDef } from '../../board-defs/index.ts';
import { buildBoard, imageName, type BuiltImage } from '../build.ts';
import { imageModules, storageBytes } from '../../kit/flash/image.ts';
import { findEspruino, type EspruinoMemory } from '../../kit/real/binary.ts';
import { frankingWorkload, realMemory } from '../real/memory.ts';
import { table, fmt, type Bench } from './common.ts';

/** the image every board of a profile shares, and the linux images of the fixed-variable builds */
const IMAGES: { board: string; profile?: string; memory?: EspruinoMemory }[] = [{ board: 'pico' }, { board: 'esp32' }, { board: 'linux', profile: 'pico', memory: '5100' }, { board: 'linux', profile: 'puckjs', memory: '2630' }];

const pct = (plain: number, tok: number) => `${tok <= plain ? '' : '+'}${fmt((100 * (tok - plain)) / plain, 1)} %`;

/** Put before the image: times the data port's listener (Espruino queues what Serial1.emit
 * hands it, so the time is taken inside the listener), ms in all, written to `out` after each call. */
function listenerTimer(out: string): string {
  return (
    `var __T=0,__N=0,__on=Serial1.on;Serial1.on=function(e,f){__on.call(Serial1,e,e!="data"?f:function(d){var t=getTime();f(d);__T+=getTime()-t;__N++;` +
    `require("fs").writeFileSync(${JSON.stringify(out)},JSON.stringify({ms:__T*1000,frames:__N}));});};\n`
  );
}

/** the reading, or null when the interpreter gave none (the error goes to `notes`) */
async function reading<T>(what: string, notes: string[], f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (e) {
    notes.push(`${what}: ${String((e as Error).message).split('\n')[0]}`);
    return null;
  }
}

/** Variables in use after boot and after the day's franking (null: no reading, e.g. out of variables). */
async function variables(binary: string, image: BuiltImage, label: string, notes: string[]): Promise<{ boot: number | null; franking: number | null }> {
  const code = readFileSync(image.file, 'latin1');
  const modules = imageModules(image.file);
  const boot = await reading(`${label} after boot`, notes, () => realMemory(binary, code, { modules }));
  const busy = await reading(`${label} after franking`, notes, () => realMemory(binary, code + frankingWorkload(), { modules }));
  return { boot: boot?.usage ?? null, franking: busy?.usage ?? null };
}

/** ms inside the data port's listener per frame of the day, for each image: the fastest of
 * three rounds, the images taking turns in each (the machine is shared: load comes and goes) */
async function frameTimes(binary: string, images: BuiltImage[], dir: string, label: string, notes: string[]): Promise<(number | null)[]> {
  const best: (number | null)[] = images.map(() => null);
  for (let round = 0; round < 3; round++) {
    for (const [k, image] of images.entries()) {
      const timeFile = join(dir, `time-${k}-${round}.json`);
      const ms = await reading(`${label} franking time`, notes, async () => {
        await realMemory(binary, listenerTimer(timeFile) + readFileSync(image.file, 'latin1') + frankingWorkload(), { modules: imageModules(image.file) });
        const t = JSON.parse(readFileSync(timeFile, 'utf8')) as { ms: number; frames: number };
        return t.ms / t.frames;
      });
      if (ms !== null) best[k] = Math.min(best[k] ?? Infinity, ms);
    }
    if (best.every((b) => b === null)) break;
  }
  return best;
}

const cell = (n: number | null, digits = 0) => (n === null ? 'no reading' : fmt(n, digits));

export const pretokenised: Bench = {
  id: 'pretokenise',
  title: "Espruino's pretokenisation of the Storage files: bytes, variables and franking time, plain vs pretokenised",
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'psd-bench-pretok-'));
    const out: string[] = [];
    try {
      const built: { plain: BuiltImage; tok: BuiltImage; memory?: EspruinoMemory }[] = [];
      for (const i of IMAGES) {
        const board = getBoard(i.board);
        const profile: BoardDef | undefined = i.profile ? getBoard(i.profile) : undefined;
        const plain = await buildBoard(board, { outDir: join(dir, 'plain'), profile, plain: true });
        const tok = await buildBoard(board, { outDir: join(dir, 'tok'), profile });
        built.push({ plain, tok, memory: i.memory });
      }
      const rows: (string | number)[][] = [];
      for (const { plain, tok } of built.slice(0, 2)) {
        const name = imageName(plain.board, plain.profile);
        const files: [string, string, string][] = [['.bootcde', readFileSync(plain.file, 'latin1'), readFileSync(tok.file, 'latin1')], ...Object.keys(plain.modules).map((n): [string, string, string] => [n, plain.modules[n], tok.modules[n]])];
        for (const [n, p, t] of files) rows.push([name, n, fmt(p.length), fmt(t.length), pct(p.length, t.length)]);
        const sp = storageBytes(files.map((f) => f[1]));
        const st = storageBytes(files.map((f) => f[2]));
        rows.push([name, 'in Storage (32-byte headers, 4-byte padding)', fmt(sp), fmt(st), pct(sp, st)]);
      }
      out.push(table(['image', 'Storage file', 'plain B', 'pretokenised B', 'change'], rows), '');

      const real: (string | number)[][] = [];
      const notes: string[] = [];
      for (const { plain, tok, memory } of built) {
        if (!memory) continue;
        const binary = findEspruino(memory);
        const name = imageName(plain.board, plain.profile);
        if (!binary) {
          real.push([name, memory, 'no interpreter (ESPRUINO_BIN)', '', '', '', '', '']);
          continue;
        }
        const p = await variables(binary, plain, `${name} plain`, notes);
        const t = await variables(binary, tok, `${name} pretokenised`, notes);
        const [pm, tm] = await frameTimes(binary, [plain, tok], dir, name, notes);
        real.push([name, `${memory} variables`, cell(p.boot), cell(t.boot), cell(p.franking), cell(t.franking), cell(pm, 1), cell(tm, 1)]);
      }
      out.push(
        table(['image', 'interpreter', 'after boot plain', 'pretokenised', 'after franking plain', 'pretokenised', 'ms/frame plain', 'pretokenised'], real),
        '',
        'Variables: process.memory().usage on Espruino 2v29 for Linux, the image booted from Storage (tools/real/memory.ts);',
        '"after franking": after the frames of frankingWorkload (provisioning, funds, 40 + 50-piece batch + 6 + 20 pieces, a flush).',
        'ms/frame: time inside the data port\'s listener per frame of that day, the fastest of three rounds (plain and pretokenised taking turns) on this shared machine: a rough comparison.',
        ...(notes.length ? ['no reading: the interpreter wrote none within 30 s (on 2,630 variables the Puck.js profile runs out of variables during that day: README, "Memory")'] : []),
        ...[...new Set(notes)].map((n) => '  ' + n)
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return out.join('\n');
  }
};
