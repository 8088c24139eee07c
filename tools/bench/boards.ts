// The build table of issue 10, one row per board: where its code and statistics live, how big
// the image is against its Storage, the variables it uses on the real interpreter with that
// board's variables (after boot and at the peak of a working day), how many days its
// statistics hold the reference workload with one upload a day, and the years of flash wear.
//
// Variables: the linux image built with the board's profile (its features, code split and
// table sizes) on Espruino 2v29's fixed-variable build matching the board: 5,100 (Pico) and
// 2,630 (Puck.js; also the Original's 2,756 and the MDBT42Q's 2,950, measured on 2,630: a
// little harsher than the board). Boards with more variables have no matching build here:
// their cell says so. Needs ESPRUINO_BIN and socat; without them those cells say why.
// Capacity and wear: the daily-upload scenarios of the capacity benchmark (capacity.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBoard, loadBoards, type BoardDef } from '../../board-defs/index.ts';
import { DIST, buildBoard } from '../build.ts';
import { CORE_CHUNK } from '../../rollup.config.js';
import { readImage, storageBytes, placeFiles, BOOT_FILE } from '../../kit/flash/image.ts';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from '../../kit/real/binary.ts';
import { realMemory } from '../real/memory.ts';
import { peakDay } from '../real/peak-day.ts';
import { hasSocat } from '../../testkit/target.ts';
import { GOAL_DAYS, SCENARIOS, simulate, verdict } from './capacity.ts';
import { table, fmt, type Bench } from './common.ts';

/** the fixed-variable interpreter standing in for a board's memory, if one matches it */
function memoryFor(b: BoardDef): EspruinoMemory | null {
  if (b.variables === 5100) return '5100';
  if (b.variables >= 2630 && b.variables <= 2950) return '2630';
  return null;
}

const hex = (n: number) => '0x' + n.toString(16);
const pct = (used: number, total: number) => `${fmt(used)} (${fmt((100 * used) / total, 1)} %)`;

function days(d: number): string {
  return d === Infinity ? 'no growth' : d >= GOAL_DAYS ? `>= ${GOAL_DAYS}` : fmt(d, 1);
}

export const boards: Bench = {
  id: 'boards',
  title: 'Every board: code, statistics flash, variables on the real interpreter, capacity and wear (issue 10)',
  async run() {
    const only = process.env.BOARDS?.split(',');
    const list = loadBoards().filter((b) => b.id !== 'linux' && (!only || only.includes(b.id)));
    const dir = mkdtempSync(join(tmpdir(), 'psd-bench-boards-'));
    const rows: string[][] = [];
    const notes: string[] = [];
    try {
      for (const b of list) {
        const file = join(DIST, b.id + '.js');
        if (!existsSync(file)) {
          notes.push(`${b.id}: not built (npm run build)`);
          continue;
        }
        const image = readImage(file);
        const sizeOf = (names: string[]) => image.files.filter((f) => names.includes(f.name)).reduce((n, f) => n + Buffer.byteLength(f.code, 'latin1'), 0);
        const resident = sizeOf([BOOT_FILE, CORE_CHUNK]);
        const onDemand = image.files.reduce((n, f) => n + Buffer.byteLength(f.code, 'latin1'), 0) - resident;
        // boards with a code area keep only the boot code in Storage (kit/flash/code-area.ts)
        const placed = placeFiles(b, image.files);
        const need = storageBytes(placed.storage.map((f) => f.code));
        const codeArea = b.codeArea;
        const codeIn = codeArea && placed.codeArea ? `code area ${hex(codeArea.addr)}: ${fmt(placed.codeArea.bytes.length)} / ${fmt(codeArea.bytes)}` : 'Storage';
        const stats = `${b.flash.dataPages} x ${fmt(b.flash.pageBytes / 1024)} KB at ${hex(b.flash.dataStart)}`;

        // variables on the matching interpreter, with the linux image built to this board's profile
        let afterBoot = '-';
        let peak = '-';
        const memory = memoryFor(b);
        const binary = memory ? findEspruino(memory) : null;
        if (!memory) afterBoot = peak = `no ${fmt(b.variables)}-variable build`;
        else if (!binary) afterBoot = peak = noEspruinoReason(memory);
        else {
          const linux = await buildBoard(getBoard('linux'), { outDir: dir, profile: b, serialPath: 'psd.pty' });
          const m = await realMemory(binary, readImage(linux.file).files[0].code, { modules: linux.modules });
          afterBoot = pct(m.usage, m.total) + ` of ${fmt(m.total)}`;
          if (!hasSocat()) peak = 'needs socat';
          else {
            // a failed day is a finding of this board's row, not the end of the table
            try {
              const day = await peakDay(memory, linux.file);
              peak = day.outOfVariables !== null ? `out of variables after ${day.franked} of ${day.capacity} records` : pct(day.peak!, day.total!) + ` (${day.franked} records)`;
            } catch (e) {
              peak = 'failed: ' + (e as Error).message.slice(0, 80);
            }
          }
        }

        // capacity and wear with one upload a day
        const held: string[] = [];
        let years = Infinity;
        for (const sc of SCENARIOS.filter((s) => s.uploadDaily)) {
          const run = await simulate(b, dir, sc);
          const v = verdict(run);
          held.push(v.full ? run.stoppedBy : days(v.okDays));
          years = Math.min(years, v.years);
        }
        rows.push([
          b.id,
          fmt(resident),
          fmt(onDemand),
          codeIn,
          `${fmt(need)} / ${fmt(b.image.budgetBytes)}${need > b.image.budgetBytes ? ' OVER' : ''}`,
          stats,
          afterBoot,
          peak,
          held.join(' / '),
          years === Infinity ? 'no erases' : fmt(years, 1)
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    notes.push(
      'resident: boot code + psd.core bytes; on demand: the other Storage modules; need / budget: bytes in Storage with file headers against the board\'s image budget (board-defs).',
      'variables: real Espruino 2v29 with the board\'s variables (5,100 or 2,630), linux image built with the board\'s profile; budgets 40 % after boot, 75 % at the peak (test/real-memory-budget.test.ts).',
      `peak: a day franking one distinct record per piece until the table or the linux build's statistics flash is full, then the whole table extracted and confirmed (tools/real/peak-day.ts).`,
      `days: the statistics hold the reference workload with one upload a day, Zipf s=2 / s=1 (capacity benchmark; goal ${GOAL_DAYS} / 7); years: to the board's erase cycles at the most-erased page (goal 20).`
    );
    return table(['board', 'resident B', 'on demand B', 'code in', 'Storage need / budget', 'statistics flash', 'variables after boot', 'variables at peak', 'days s=2 / s=1', 'wear years'], rows) + '\n' + notes.join('\n');
  }
};
