// Franking throughput and latency of the built image in the virtual board, per board class:
// batch mode (one FRANK commits 250 pieces), single mode (one piece per request, no batch) and
// dynamic mode (a batch whose pieces each carry their own class and weight), beside what the
// reference workload needs (/work/shared/design.md: 5,000 pieces a day; a 250-piece batch
// franked within a minute).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DIST } from '../build.ts';
import { Command } from '../../protocol/commands.ts';
import { ImageDevice, TestKms, readyDevice } from '../../testkit/harness.ts';
import { table, fmt, type Bench } from './common.ts';

export const FRANK_BOARDS = ['pico', 'esp32', 'original', 'puckjs', 'wifi', 'banglejs2'];
/** 5,000 pieces a day, averaged over 24 h */
export const NEED_AVG_PER_S = 5000 / 86400;
/** a 250-piece batch in one minute */
export const NEED_BATCH_PER_S = 250 / 60;

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))];
}

interface Result {
  board: string;
  mode: string;
  requests: number;
  pieces: number;
  perSecond: number;
  meanMs: number;
  p95Ms: number;
}

async function measure(board: string, dir: string): Promise<Result[]> {
  const d = new ImageDevice({ board, flashFile: join(dir, board + '.flash') });
  const out: Result[] = [];
  let id = 1;
  try {
    await readyDevice(d, new TestKms(), 1e12);
    const run = async (mode: string, n: number, perReq: number, body: (i: number) => object) => {
      const lat: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const r = await d.call(Command.FRANK, { id: id++, ...body(i) });
        lat.push(performance.now() - t);
        if (r.count !== perReq) throw new Error(`${board} ${mode}: franked ${r.count}, asked ${perReq}`);
      }
      const ms = performance.now() - t0;
      const mean = ms / n;
      out.push({ board, mode, requests: n, pieces: n * perReq, perSecond: (n * perReq * 1000) / ms, meanMs: mean, p95Ms: p95(lat) });
    };
    // batch mode: one FRANK of 250 pieces per request
    await d.call(Command.BATCH_START, { mode: 'batch', customer: 1, category: 3, weight: 20, postage: 85 });
    await run('batch (250/request)', 200, 250, () => ({ count: 250 }));
    await d.call(Command.BATCH_END);
    // single mode: no batch open, one piece per request
    await run('single (1/request)', 2000, 1, (i) => ({ customer: 2, category: i % 7, weight: 20 + (i % 5) * 30, postage: 85 + (i % 7) }));
    // dynamic mode: a batch, each piece its own class and weight
    await d.call(Command.BATCH_START, { mode: 'dynamic', customer: 3 });
    await run('dynamic (1/request)', 2000, 1, (i) => ({ category: (i * 7) % 11, weight: 15 + ((i * 13) % 400), postage: 60 + ((i * 7) % 11) * 5 }));
    await d.call(Command.BATCH_END);
  } finally {
    d.close();
  }
  return out;
}

export const franking: Bench = {
  id: 'franking',
  title: 'Franking throughput and latency of the built image in the virtual board (manual clock, in-process frames)',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'psd-bench-frank-'));
    const results: Result[] = [];
    const notes: string[] = [];
    try {
      for (const b of FRANK_BOARDS) {
        if (!existsSync(join(DIST, b + '.js'))) {
          notes.push(`${b}: not built, skipped.`);
          continue;
        }
        results.push(...(await measure(b, dir)));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rows = results.map((r) => {
      const need = r.mode.startsWith('batch') ? NEED_BATCH_PER_S : NEED_AVG_PER_S;
      return [
        r.board,
        r.mode,
        fmt(r.requests),
        fmt(r.pieces),
        fmt(r.perSecond, 1),
        fmt(r.meanMs, 2),
        fmt(r.p95Ms, 2),
        `${fmt(need, need < 1 ? 3 : 1)} (${fmt(r.perSecond / need)}x)`
      ];
    });
    notes.unshift(
      'need pieces/s: batch rows against a 250-piece batch franked in 1 min (4.2 pieces/s); single and dynamic rows against the',
      'reference day averaged over 24 h (5,000 pieces/day = 0.058 pieces/s). "x" = measured / need on the virtual board.',
      'A FRANK answer carries up to 8 indicia (HMAC-SHA256 each); a 250-piece request writes one journal record (12 bytes when it follows the commit before closely: same customer, id and time at most 255 on; else 36: firmware/core/ledger-entries.ts).',
      'The virtual board runs the image on x86 V8 (JIT): a real board interprets it with Espruino, tens of times slower or more',
      '(Espruino Linux build: 10,000 trivial loop iterations = 58 ms; a Pico is slower still). Divide the "x" margin accordingly;',
      'the serial line is not in these numbers either (see roundtrip).'
    );
    return table(['board', 'mode', 'requests', 'pieces', 'pieces/s', 'mean ms/request', 'p95 ms', 'need pieces/s (margin)'], rows) + '\n' + notes.join('\n');
  }
};
