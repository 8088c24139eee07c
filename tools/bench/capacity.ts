// How long each board's statistics flash holds the reference workload (/work/shared/design.md:
// 3 customers, 120 categories, 20 batches and 5,000 pieces a day, 80% of pieces in batch mode,
// the rest dynamic; one upload a day, 30 days the longest gap) and how fast it wears the
// flash: simulated day by day on the built image in the virtual board (manual clock), with no
// upload, until STORAGE_FULL / CATEGORY_LIMIT or a time budget; beyond that, extrapolated.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadBoards, type BoardDef } from '../../board-defs/index.ts';
import { DIST, maxRecords } from '../build.ts';
import { Command } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { WEIGHT_BANDS_G, weightBand } from '../../protocol/records.ts';
import { PACKED_MAX, PACK_BYTES } from '../../firmware/core/table.ts';
import { ImageDevice, TestKms, readyDevice, DeviceError } from '../../testkit/harness.ts';
import { table, fmt, type Bench } from './common.ts';
import { extractBlock } from '../../host-bridge/extract.ts';

export const GOAL_DAYS = 30;
/** days simulated at most per board, and wall time per board */
const MAX_DAYS = 120;
const BUDGET_MS = 12_000;
/** Journal bytes a record takes at most: packed (firmware/core/table.ts: PACKED_MAX bytes at
 * most, some 7-9 at this workload) in chunks of whole records up to PACK_BYTES, each chunk a
 * journal record (length u16 | type u8 | mark u8 | data padded to the write unit | CRC-32). */
export function bytesPerRecord(b: BoardDef): number {
  const perChunk = Math.floor((PACK_BYTES - PACKED_MAX) / PACKED_MAX) + 1;
  const data = perChunk * PACKED_MAX;
  const padded = Math.ceil((4 + data) / b.flash.writeAlignBytes) * b.flash.writeAlignBytes;
  return (padded + 4) / perChunk;
}

/** mulberry32: deterministic workload */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf over the 120 categories: P(rank k) ~ 1/k^s */
function zipf(s: number) {
  const w = Array.from({ length: 120 }, (_, k) => 1 / (k + 1) ** s);
  const sum = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  const cdf = w.map((x) => (acc += x / sum));
  return (r: () => number) => {
    const u = r();
    const k = cdf.findIndex((c) => u <= c);
    return k < 0 ? 119 : k;
  };
}
/** two category skews: a concentrated one (Zipf s=2: top 3 carry 85%) and a broad one (Zipf s=1: top 10 carry 55%) */
export const SCENARIOS: { name: string; category: (r: () => number) => number; uploadDaily?: boolean }[] = [
  { name: 'zipf s=2', category: zipf(2) },
  { name: 'zipf s=1', category: zipf(1) },
  // the reference workload's normal case: one upload (extract + confirmation) a day
  { name: 'zipf s=2 + daily upload', category: zipf(2), uploadDaily: true },
  { name: 'zipf s=1 + daily upload', category: zipf(1), uploadDaily: true }
];
function weight(r: () => number) {
  return Math.round(10 + 1990 * r() ** 4);
}
/** the tariff: one price per (category, weight band), so the record key is (customer, category, band) */
function postage(cat: number, grams: number) {
  return 60 + (cat % 12) * 15 + weightBand(grams) * 40;
}

export interface Run {
  board: BoardDef;
  scenario: string;
  pieces: number;
  days: number;
  stoppedBy: string;
  recordsPerDay: number[];
  usedDay1: number;
  recordsDay1: number;
  capacity: number;
  erasesPerPage: number[];
  /** bytes the image wrote to its statistics flash (first-boot format excluded) */
  bytesWritten: number;
  ms: number;
}

/** `budgetMs`: wall time at most (BUDGET_MS by default) */
export async function simulate(board: BoardDef, dir: string, scenario: (typeof SCENARIOS)[number], budgetMs = BUDGET_MS): Promise<Run> {
  const category = scenario.category;
  const d = new ImageDevice({ board: board.id, flashFile: join(dir, board.id + scenario.name.replace(/\W/g, '') + '.flash') });
  const rnd = prng(0x5eed);
  let now = Date.UTC(2026, 0, 5, 7);
  const advance = (s: number) => {
    d.vb.advanceTime(s);
    now += s * 1000;
  };
  let id = 1;
  const run: Run = { board, scenario: scenario.name, pieces: 0, days: 0, stoppedBy: 'time budget', recordsPerDay: [], usedDay1: 0, recordsDay1: 0, capacity: 0, erasesPerPage: [], bytesWritten: 0, ms: 0 };
  const t0 = performance.now();
  try {
    const kms = new TestKms();
    await readyDevice(d, kms, 1e13, now);
    const base = d.vb.flashStats().erasesPerPage.slice(); // first-boot format erases are not wear of the workload
    const baseBytes = d.vb.flashStats().bytesWritten;
    for (let day = 0; day < (scenario.uploadDaily ? GOAL_DAYS : MAX_DAYS); day++) {
      if (performance.now() - t0 > budgetMs) break;
      await d.call(Command.CLOCK, { now }); // the host sets the clock each morning
      try {
        for (let b = 0; b < 20; b++) {
          advance(60); // one batch every ~24 min over the 8-hour shift
          const customer = (b % 3) + 1;
          if (b % 5 !== 4) {
            const cat = category(rnd);
            const g = weight(rnd);
            await d.call(Command.BATCH_START, { mode: 'batch', customer, category: cat, weight: g, postage: postage(cat, g) });
            await d.call(Command.FRANK, { id: id++, count: 250 });
            run.pieces += 250;
          } else {
            await d.call(Command.BATCH_START, { mode: 'dynamic', customer });
            for (let p = 0; p < 250; p++) {
              const cat = category(rnd);
              const g = weight(rnd);
              await d.call(Command.FRANK, { id: id++, category: cat, weight: g, postage: postage(cat, g) });
              run.pieces++;
            }
          }
          await d.call(Command.BATCH_END);
          advance(23 * 60);
        }
        await d.call(Command.STATS_FLUSH);
        if (scenario.uploadDaily) {
          const x = await extractBlock((t, b) => d.call(t, b));
          await d.call(Command.CONFIRM, kms.confirm(x.block.header.seq, x.digest));
        }
      } catch (e) {
        if (e instanceof DeviceError && (e.code === ErrorCode.STORAGE_FULL || e.code === ErrorCode.CATEGORY_LIMIT)) {
          run.stoppedBy = (e.code === ErrorCode.STORAGE_FULL ? 'STORAGE_FULL' : 'CATEGORY_LIMIT') + ` on day ${day + 1}`;
          break;
        }
        throw e;
      }
      const st = (await d.call(Command.STATUS)).storage;
      run.days = day + 1;
      run.recordsPerDay.push(st.records);
      run.capacity = st.recordCapacity;
      if (day === 0) {
        run.usedDay1 = st.used;
        run.recordsDay1 = st.records;
      }
      advance(86400 - 20 * 24 * 60); // to the next morning
    }
    if (run.days >= MAX_DAYS) run.stoppedBy = `${MAX_DAYS}-day cap`;
    if (scenario.uploadDaily && run.days >= GOAL_DAYS) run.stoppedBy = `${GOAL_DAYS} days done`;
    run.erasesPerPage = d.vb.flashStats().erasesPerPage.map((e, i) => e - (base[i] ?? 0));
    run.bytesWritten = d.vb.flashStats().bytesWritten - baseBytes;
  } finally {
    d.close();
  }
  run.ms = performance.now() - t0;
  return run;
}

/** days until the records reach capacity, from the growth over the last measured days */
export function extrapolateDays(r: Run): number {
  const n = r.recordsPerDay.length;
  const last = r.recordsPerDay[n - 1];
  const window = Math.min(7, n - 1);
  const growth = window > 0 ? (last - r.recordsPerDay[n - 1 - window]) / window : last;
  if (growth <= 0) return Infinity;
  return n + (r.capacity - last) / growth;
}

/** What a run shows: the days the statistics held (measured, or extrapolated when the run
 * stopped first; Infinity when the records stopped growing) and the wear: erases per page per
 * day of pieces (mean and the most-erased page) and the years to the board's erase cycles. */
export function verdict(r: Run): { full: boolean; okDays: number; meanPerDay: number; maxPerDay: number; years: number } {
  const full = r.stoppedBy.startsWith('STORAGE_FULL') || r.stoppedBy.startsWith('CATEGORY_LIMIT');
  const okDays = full ? r.days : extrapolateDays(r);
  const maxE = Math.max(...r.erasesPerPage);
  const meanE = r.erasesPerPage.reduce((a, b) => a + b, 0) / r.erasesPerPage.length;
  const simDays = r.pieces / 5000;
  const maxPerDay = simDays ? maxE / simDays : 0;
  return { full, okDays, meanPerDay: simDays ? meanE / simDays : 0, maxPerDay, years: maxPerDay ? r.board.flash.eraseCycles / maxPerDay / 365 : Infinity };
}

export const capacity: Bench = {
  id: 'capacity',
  title: 'Statistics flash per board under the reference workload (simulated days on the built image: no upload for 30 days, the longest gap, and one upload a day)',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'psd-bench-cap-'));
    const runs: Run[] = [];
    const skipped: string[] = [];
    try {
      // CAPACITY_BOARDS=pico,esp32 limits the run (the whole table takes minutes)
      const only = process.env.CAPACITY_BOARDS?.split(',');
      for (const b of loadBoards().filter((x) => !only || only.includes(x.id))) {
        if (!existsSync(join(DIST, b.id + '.js'))) {
          skipped.push(b.id);
          continue;
        }
        for (const sc of SCENARIOS) runs.push(await simulate(b, dir, sc));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rows1 = runs.filter((r) => r.scenario === SCENARIOS[0].name).map((r) => {
      const bpr = bytesPerRecord(r.board);
      return [
        r.board.id,
        `${r.board.flash.dataPages} x ${fmt(r.board.flash.pageBytes)}`,
        fmt(bpr, 2),
        fmt(r.recordsDay1),
        fmt(r.recordsDay1 * bpr),
        fmt(r.usedDay1),
        `${fmt(r.capacity)} (${fmt(maxRecords(r.board))})`
      ];
    });
    const rows2 = runs.map((r) => {
      const { full, okDays, meanPerDay, maxPerDay: perDay, years } = verdict(r);
      return [
        r.board.id,
        r.scenario,
        fmt(r.days) + ` (${fmt(r.pieces / 5000, 2)} d of pieces)`,
        r.stoppedBy,
        fmt(r.recordsPerDay[r.recordsPerDay.length - 1] ?? 0),
        r.stoppedBy === `${GOAL_DAYS} days done` ? `>= ${GOAL_DAYS} (measured)` : full ? `${fmt(r.days)} (measured)` : okDays === Infinity ? `> ${fmt(r.days)} (no growth)` : `~${fmt(okDays)} (extrapolated)`,
        `${okDays >= GOAL_DAYS ? 'ok' : 'SHORT'} (>= ${GOAL_DAYS})`,
        fmt(meanPerDay, 2),
        fmt(perDay, 2),
        years === Infinity ? 'no erases' : fmt(years, 1),
        fmt(r.ms / 1000, 1)
      ];
    });
    const notes = [
      'Workload per day: 20 batches, customer rotating 1..3; 16 batch-mode batches of 250 pieces (one category/weight each) and',
      '4 dynamic batches of 250 one-piece requests; category drawn Zipf over 120 (two skews), weight skewed 10 g..2 kg (u^4), postage',
      'a function of (category, weight band), seeded PRNG; then `stats flush`. The host sets the clock each morning. No upload/release.',
      `B/record: the most a record takes in the journal (packed, ${PACKED_MAX} B at most, some 7-9 B here, in chunks of up to ${PACK_BYTES} B`,
      'with a 4 B header and a 4 B CRC each). live stats B: measured records x B/record (a bound). journal used B: measured (STATUS), includes the day\'s FRANK records',
      'and the checkpoint state, reclaimed at the next checkpoint. capacity: STATUS recordCapacity (build maxRecords).',
      `days held: "measured" = the day STORAGE_FULL/CATEGORY_LIMIT happened in the simulation; "extrapolated" = the simulation`,
      `stopped (budget ${BUDGET_MS / 1000} s or ${MAX_DAYS}-day cap) first and the distinct-record growth of the last 7 measured days`,
      'is extended linearly to the record capacity (new (customer, category, band) keys get rarer with time, so this is conservative).',
      'records = flash-tier records after the last completed day. Wear (first-boot format erases excluded): measured erases per page over the pieces franked (in days of 5,000 pieces) (mean and the most-erased page), years = eraseCycles / (max per day x 365).'
    ];
    if (skipped.length) notes.push('not built, skipped: ' + skipped.join(', '));
    return (
      table(['board (' + SCENARIOS[0].name + ')', 'stats flash', 'B/record (at most)', 'records day 1', 'live stats B day 1', 'journal used B day 1', 'capacity (build)'], rows1) +
      '\n\n' +
      table(['board', 'categories', 'full days done', 'stopped by', 'records', 'days held', 'goal', 'erases/page/day mean', 'max', 'years to 10k erases', 'wall s'], rows2) +
      '\n' +
      notes.join('\n')
    );
  }
};
