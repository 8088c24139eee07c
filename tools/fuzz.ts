// `npm run fuzz`: hostile input against every fuzz target (testkit/fuzz/targets.ts), 100,000
// cases each by default, then a summary table; exits non-zero if any case failed.
//
//   npm run fuzz -- [--cases N] [--target name[,name...]] [--seed S] [--path P] [--verbose]
//
// Each target runs in a worker thread watched from here: a case that never returns (even a
// synchronous loop, which no timer inside the worker can interrupt) is counted as a hang and
// ends that target's run. Failing cases are shrunk by fast-check and printed with the seed
// and path that replay them: `npm run fuzz -- --target T --seed S --path P`.
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { targets, targetNames } from '../testkit/fuzz/targets.ts';
import { FAILURES, type Failure } from '../testkit/fuzz/framework.ts';
import type { WorkerJob, WorkerMessage } from './fuzz-worker.ts';

const USAGE = `usage: npm run fuzz -- [--cases N] [--target ${targetNames.join('|')}[,...]] [--seed S] [--path P] [--verbose]
  --cases N    cases per target (default 100000; fewer for slow targets: model 20000, model-image 300)
  --target     which targets (default all: ${targetNames.join(', ')})
  --seed S     fast-check seed (default random; printed so a run can be repeated)
  --path P     with --seed and one --target: replay the case at that path and shrink it
  --verbose    print what the cases reached (answers by kind) after each target
  --stall S    seconds without a new case before a target counts as hung (default 120)`;

interface Row {
  target: string;
  cases: number;
  counts: Record<Failure, number>;
  seconds: number;
  note?: string;
}

function fail(message: string): never {
  console.error(`fuzz: ${message}\n${USAGE}`);
  process.exit(2);
}

function options() {
  let v;
  try {
    v = parseArgs({
      options: {
        cases: { type: 'string' },
        target: { type: 'string' },
        seed: { type: 'string' },
        path: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        stall: { type: 'string', default: '120' },
        help: { type: 'boolean', default: false }
      }
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const cases = Number(v.cases ?? 100000);
  if (!Number.isInteger(cases) || cases < 1) fail(`--cases must be a positive integer, not ${v.cases}`);
  const chosen = v.target ? v.target.split(',').map((s) => s.trim()) : targetNames;
  for (const t of chosen) if (!targetNames.includes(t)) fail(`no target "${t}" (targets: ${targetNames.join(', ')})`);
  const seed = v.seed === undefined ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0 : Number(v.seed);
  if (!Number.isInteger(seed)) fail(`--seed must be an integer, not ${v.seed}`);
  if (v.path !== undefined && (v.seed === undefined || chosen.length !== 1)) fail('--path needs --seed and exactly one --target');
  const stall = Number(v.stall);
  if (!(stall > 0)) fail(`--stall must be a positive number of seconds, not ${v.stall}`);
  // a slow target (a case is a device's life) runs fewer cases unless --cases says how many
  const casesFor = (t: string) => (v.cases === undefined ? Math.min(cases, targets[t]().defaultCases ?? cases) : cases);
  return { cases, casesFor, targets: chosen, seed, path: v.path, verbose: v.verbose, stallMs: stall * 1000 };
}

function runTarget(job: Omit<WorkerJob, 'heartbeat'>, stallMs: number, verbose: boolean): Promise<Row> {
  const heartbeat = new SharedArrayBuffer(8);
  const beat = new Int32Array(heartbeat);
  // the worker runs TypeScript: register tsx's loader in it first (execArgv does not carry --import)
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(new URL('./fuzz-worker.ts', import.meta.url).href)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { ...job, heartbeat } });
  const zero = () => Object.fromEntries(FAILURES.map((k) => [k, 0])) as Record<Failure, number>;
  const row: Row = { target: job.target, cases: 0, counts: zero(), seconds: 0 };
  const started = performance.now();
  let lastReport = started;
  let trying = '';
  return new Promise((resolve) => {
    let finished = false;
    const finish = (note?: string) => {
      if (finished) return;
      finished = true;
      clearInterval(watch);
      if (note) row.note = note;
      if (!row.seconds) row.seconds = (performance.now() - started) / 1000;
      void worker.terminate().then(() => resolve(row));
    };
    // watchdog: the case counter must keep moving
    let seen = -1;
    let since = performance.now();
    const watch = setInterval(() => {
      const n = Atomics.load(beat, 1);
      if (n !== seen) {
        seen = n;
        since = performance.now();
        return;
      }
      if (performance.now() - since > stallMs) {
        const i = Atomics.load(beat, 0);
        row.counts.hang++;
        console.log(`\n${job.target}: HANG: case ${i >= 0 ? i : '(while shrinking)'} has not returned for ${Math.round(stallMs / 1000)} s; the worker was stopped.`);
        if (trying) console.log(`  input: ${trying}`);
        else if (i >= 0) console.log(`  replay it (shows the input): npm run fuzz -- --target ${job.target} --seed ${job.seed} --path ${i}`);
        row.cases = Math.max(row.cases, i + 1);
        finish(`stopped at case ${i}: hung`);
      }
    }, 1000);
    worker.on('message', (m: WorkerMessage) => {
      switch (m.kind) {
        case 'progress':
          row.cases = m.done;
          row.counts = { ...m.counts };
          if (performance.now() - lastReport > 10000) {
            lastReport = performance.now();
            const s = (performance.now() - started) / 1000;
            console.error(`${job.target}: ${m.done}/${job.cases} cases, ${Math.round(m.done / s)}/s`);
          }
          break;
        case 'trying':
          trying = m.input;
          break;
        case 'finding':
          console.log(`\n${job.target}: first ${m.failure.toUpperCase()} at case ${m.index}: ${m.detail}\n  input: ${m.input}`);
          break;
        case 'shrunk':
          console.log(`\n${job.target}: ${m.failure.toUpperCase()}, shrunk ${m.shrinks} times to:\n  ${m.detail}\n  input: ${m.input}\n  replay: npm run fuzz -- --target ${job.target} --seed ${m.seed} --path ${m.path}`);
          break;
        case 'unreproduced':
          console.log(m.index < 0 ? `\n${job.target}: ${m.detail}` : `\n${job.target}: the ${m.failure} at case ${m.index} did not fail again when replayed alone: ${m.detail}`);
          break;
        case 'done':
          row.cases = m.done;
          row.counts = m.counts;
          row.seconds = m.seconds;
          if (verbose && m.coverage) console.log(`\n${job.target} reached:\n` + Object.entries(m.coverage).sort().map(([k, v]) => `  ${k}: ${v}`).join('\n'));
          finish();
          break;
        case 'error':
          console.log(`\n${job.target}: the runner failed: ${m.message}`);
          row.counts.crash++;
          finish('runner failed');
          break;
      }
    });
    worker.on('error', (e) => {
      console.log(`\n${job.target}: worker error: ${e.stack ?? e}`);
      row.counts.crash++;
      finish('worker died');
    });
    worker.on('exit', () => finish(finished ? undefined : 'worker exited early'));
  });
}

function table(rows: Row[]): string {
  const head = ['target', 'cases', 'crashes', 'hangs', 'state changes', 'unanswered', 'seconds'];
  const body = rows.map((r) => [r.target, String(r.cases), ...FAILURES.map((k) => String(r.counts[k])), r.seconds.toFixed(1)]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main() {
  const o = options();
  console.log(`fuzz: seed ${o.seed}, ${o.path ? `replaying path ${o.path}` : `${o.cases} cases per target`}: ${o.targets.join(', ')}`);
  const rows: Row[] = [];
  for (const target of o.targets) {
    rows.push(await runTarget({ target, mode: o.path ? 'replay' : 'count', cases: o.casesFor(target), seed: o.seed, path: o.path }, o.stallMs, o.verbose));
  }
  console.log('\n' + table(rows));
  for (const r of rows) if (r.note) console.log(`${r.target}: ${r.note}`);
  const bad = rows.some((r) => FAILURES.some((k) => r.counts[k] > 0) || r.note);
  console.log(bad ? `\nFAILED (seed ${o.seed})` : `\nno failures (seed ${o.seed})`);
  process.exitCode = bad ? 1 : 0;
}

await main();
