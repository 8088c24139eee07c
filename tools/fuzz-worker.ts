// One fuzz target in a worker thread, so tools/fuzz.ts can stop it if a case never returns
// (a synchronous loop in the code under test stops the whole thread; no timer fires then).
//
// count: runs N cases without stopping at a failure, counting each kind of finding, then
//   replays the first failing case of each kind with fast-check's seed and path so
//   fast-check shrinks it, and reports the minimal input with the path to replay it.
// replay: runs the strict property from one seed and path (what the report printed).
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { targets } from '../testkit/fuzz/targets.ts';
import { judge, FuzzFailure, FAILURES, type Failure, type FuzzTarget, type TargetRun } from '../testkit/fuzz/framework.ts';

export interface WorkerJob {
  target: string;
  mode: 'count' | 'replay';
  cases: number;
  seed: number;
  path?: string;
  /** Int32Array over a SharedArrayBuffer: [0] = index of the case running now (-1 while
   * shrinking), [1] = cases started so far, shrinking included (the watchdog watches it move) */
  heartbeat: SharedArrayBuffer;
}

export type WorkerMessage =
  | { kind: 'progress'; done: number; counts: Record<Failure, number> }
  | { kind: 'finding'; index: number; failure: Failure; detail: string; input: string }
  | { kind: 'shrunk'; failure: Failure; detail: string; input: string; seed: number; path: string; shrinks: number }
  | { kind: 'unreproduced'; failure: Failure; index: number; detail: string }
  | { kind: 'done'; done: number; counts: Record<Failure, number>; seconds: number; coverage?: Record<string, number> }
  | { kind: 'error'; message: string }
  /** replay only: the input about to run, so a case that never returns is still shown */
  | { kind: 'trying'; input: string };

const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const clip = (s: string, n = 6000) => (s.length > n ? s.slice(0, n) + `... (${s.length} chars)` : s);

/** The strict property (a finding fails it), beating the heartbeat at each case. */
function beating<T>(target: FuzzTarget<T>, run: TargetRun<T>, beat: Int32Array, announce = false) {
  return fc.asyncProperty(target.arbitrary, async (input) => {
    Atomics.add(beat, 1, 1);
    if (announce) post({ kind: 'trying', input: clip(target.show(input)) });
    const f = await judge(target, run, input);
    if (f) throw new FuzzFailure(f);
  });
}

async function shrink<T>(target: FuzzTarget<T>, run: TargetRun<T>, beat: Int32Array, seed: number, path: string, failure: Failure, announce = false) {
  Atomics.store(beat, 0, -1);
  const r = await fc.check(beating(target, run, beat, announce), { seed, path, numRuns: 1 });
  const e = r.errorInstance;
  if (!r.failed || !r.counterexample || !(e instanceof FuzzFailure)) return null;
  return { failure: e.finding.kind ?? failure, detail: clip(e.finding.detail), input: clip(target.show(r.counterexample[0])), seed, path: r.counterexamplePath ?? path, shrinks: r.numShrinks };
}

async function count<T>(job: WorkerJob, target: FuzzTarget<T>, run: TargetRun<T>) {
  const beat = new Int32Array(job.heartbeat);
  const counts = Object.fromEntries(FAILURES.map((k) => [k, 0])) as Record<Failure, number>;
  const first = new Map<Failure, number>();
  let index = 0;
  let lastPost = 0;
  const started = performance.now();
  await fc.check(
    fc.asyncProperty(target.arbitrary, async (input) => {
      const i = index++;
      Atomics.store(beat, 0, i);
      Atomics.add(beat, 1, 1);
      const f = await judge(target, run, input);
      if (f) {
        counts[f.kind]++;
        if (!first.has(f.kind)) {
          first.set(f.kind, i);
          post({ kind: 'finding', index: i, failure: f.kind, detail: clip(f.detail), input: clip(target.show(input)) });
        }
      }
      if (performance.now() - lastPost > 1000) {
        lastPost = performance.now();
        post({ kind: 'progress', done: index, counts });
      }
      return true;
    }),
    { numRuns: job.cases, seed: job.seed }
  );
  const seconds = (performance.now() - started) / 1000;
  // shrink the first case of each kind: fast-check replays it from (seed, path) and shrinks
  for (const [failure, i] of first) {
    const s = await shrink(target, run, beat, job.seed, String(i), failure);
    if (s) post({ kind: 'shrunk', ...s });
    else post({ kind: 'unreproduced', failure, index: i, detail: 'the case passed when replayed (it depends on state left by earlier cases)' });
  }
  return { kind: 'done', done: index, counts, seconds, coverage: run.coverage?.() } as WorkerMessage;
}

async function replay<T>(job: WorkerJob, target: FuzzTarget<T>, run: TargetRun<T>) {
  const started = performance.now();
  const s = await shrink(target, run, new Int32Array(job.heartbeat), job.seed, job.path!, 'crash', true);
  const counts = Object.fromEntries(FAILURES.map((k) => [k, 0])) as Record<Failure, number>;
  if (s) {
    counts[s.failure]++;
    post({ kind: 'shrunk', ...s });
  } else post({ kind: 'unreproduced', failure: 'crash', index: -1, detail: 'the case at this seed and path passes' });
  return { kind: 'done', done: 1, counts, seconds: (performance.now() - started) / 1000 } as WorkerMessage;
}

async function main() {
  const job = workerData as WorkerJob;
  const make = targets[job.target];
  if (!make) throw new Error(`no fuzz target ${job.target}`);
  const target = make();
  const run = await target.open();
  let done: WorkerMessage;
  try {
    done = job.mode === 'replay' ? await replay(job, target, run) : await count(job, target, run);
  } finally {
    await run.close();
  }
  // `done` only after close(): the parent ends the worker on it, and targets clean up in close()
  post(done);
}

main().catch((e) => post({ kind: 'error', message: (e as Error)?.stack ?? String(e) }));
