// What wears the statistics flash: the capacity bench's reference workload with one upload a
// day (capacity.ts simulate), with a probe on the virtual board's NOR flash that sorts every
// program operation by the journal record it writes (firmware/core/journal.ts: a record is
// length u16 | type u8 | 0x5A | data | CRC-32, written in one operation; a page header starts
// 'PJ'). Prints writes and KB a day per entry type, and the years to the erase cycles.
// `WEAR_BOARDS=pico,banglejs2 WEAR_SECONDS=40 npm run bench -- wear` (default: pico, 40 s of
// simulation per board and skew).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoards } from '../../board-defs/index.ts';
import { DIST } from '../build.ts';
import { NorFlash } from '../../kit/vboard/flash.ts';
import { Entry } from '../../firmware/core/entries.ts';
import { CKPT_BEGIN, CKPT_END, TORN, CKPT_ABORT, RECORD_MARK } from '../../firmware/core/journal.ts';
import { SCENARIOS, simulate, verdict } from './capacity.ts';
import { table, fmt, type Bench } from './common.ts';

const NAMES: Record<number, string> = { [CKPT_BEGIN]: 'CKPT_BEGIN', [CKPT_END]: 'CKPT_END', [TORN]: 'TORN', [CKPT_ABORT]: 'CKPT_ABORT' };
for (const [name, n] of Object.entries(Entry)) NAMES[n] = name;

/** Bytes and operations per kind of write, while `run` runs (the probe wraps NorFlash.program
 * on the prototype, so it sees every virtual board's statistics flash). */
export async function probeWrites<T>(run: () => Promise<T>): Promise<{ result: T; byKind: Map<string, { writes: number; bytes: number }> }> {
  const byKind = new Map<string, { writes: number; bytes: number }>();
  const original = NorFlash.prototype.program;
  NorFlash.prototype.program = function (this: NorFlash, offset: number, data: Uint8Array) {
    const kind = data[0] === 0x50 && data[1] === 0x4a ? 'page header' : data.length >= 8 && data[3] === RECORD_MARK ? (NAMES[data[2]] ?? 'type ' + data[2]) : 'other';
    const k = byKind.get(kind) ?? { writes: 0, bytes: 0 };
    k.writes++;
    k.bytes += data.length;
    byKind.set(kind, k);
    return original.call(this, offset, data);
  };
  try {
    return { result: await run(), byKind };
  } finally {
    NorFlash.prototype.program = original;
  }
}

export const wear: Bench = {
  id: 'wear',
  title: 'What wears the statistics flash: bytes written a day by journal entry type (reference workload, one upload a day)',
  async run() {
    const only = (process.env.WEAR_BOARDS ?? 'pico').split(',');
    // more simulated days than the capacity bench's budget: the erase counts are whole numbers
    const budgetMs = Number(process.env.WEAR_SECONDS ?? 40) * 1000;
    const dir = mkdtempSync(join(tmpdir(), 'psd-bench-wear-'));
    const out: string[] = [];
    try {
      for (const b of loadBoards().filter((x) => only.includes(x.id))) {
        if (!existsSync(join(DIST, b.id + '.js'))) {
          out.push(`${b.id}: not built, skipped`);
          continue;
        }
        for (const sc of SCENARIOS.filter((s) => s.uploadDaily)) {
          // the byKind map is empty until the first-boot format is done: count from there on
          const { result: r, byKind } = await probeWrites(() => simulate(b, dir, sc, budgetMs));
          const days = r.pieces / 5000;
          const v = verdict(r);
          const rows = [...byKind.entries()]
            .sort((x, y) => y[1].bytes - x[1].bytes)
            .map(([kind, k]) => [kind, fmt(k.writes / days), fmt(k.bytes / days / 1024, 1), fmt(k.bytes / k.writes, 1)]);
          const total = [...byKind.values()].reduce((a, k) => a + k.bytes, 0);
          rows.push(['total', fmt([...byKind.values()].reduce((a, k) => a + k.writes, 0) / days), fmt(total / days / 1024, 1), '']);
          const flashBytes = b.flash.pageBytes * b.flash.dataPages;
          out.push(
            `${b.id} (${b.flash.dataPages} x ${fmt(b.flash.pageBytes / 1024)} KB), ${sc.name}: ${fmt(days, 2)} days of pieces, ${r.stoppedBy}; ` +
              `wear ${v.years === Infinity ? 'no erases' : fmt(v.years, 1) + ' years'} (erases/page/day max ${fmt(v.maxPerDay, 2)}); ` +
              `20 years allow ${fmt((flashBytes * b.flash.eraseCycles) / (20 * 365) / 1024, 1)} KB a day\n` +
              table(['entry', 'writes/day', 'KB/day', 'B/write'], rows)
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return out.join('\n\n') + '\nCounted from the first flash write (the first-boot format included, a few hundred bytes).';
  }
};
