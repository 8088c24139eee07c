// What every fuzz target is: an input generator and a case runner that judges one input.
// Two runners share the targets: test/fuzz.test.ts (a short fc.assert run inside `npm test`)
// and tools/fuzz.ts (`npm run fuzz`: 100,000 cases per target, counts, then shrinks).
import fc from 'fast-check';

/** How a case can go wrong (the columns of the `npm run fuzz` summary). */
export type Failure = 'crash' | 'hang' | 'state' | 'unanswered';
export const FAILURES: Failure[] = ['crash', 'hang', 'state', 'unanswered'];

/** The verdict on one case: null when it passed. */
export interface Finding {
  kind: Failure;
  detail: string;
}

/** One live instance of a target (boards booted, files opened...), reused across cases. */
export interface TargetRun<T> {
  /** Runs one case and judges it; must not throw (a throw counts as a crash). */
  runCase(input: T): Promise<Finding | null>;
  close(): Promise<void>;
  /** what the cases reached so far (answers by kind, boards restored...), to show the run has teeth */
  coverage?(): { [what: string]: number };
}

export interface FuzzTarget<T> {
  name: string;
  /** one line for --help and the summary */
  description: string;
  arbitrary: fc.Arbitrary<T>;
  /** how to print an input so a person can read it */
  show(input: T): string;
  open(): Promise<TargetRun<T>>;
  /** wall-clock bound of one case, ms: longer counts as a hang */
  caseBoundMs: number;
  /** cases `npm run fuzz` runs when --cases is not given, if fewer than its default (slow targets) */
  defaultCases?: number;
}

/** Thrown by the strict property so fast-check shrinks it; carries the classification. */
export class FuzzFailure extends Error {
  constructor(public finding: Finding) {
    super(`${finding.kind}: ${finding.detail}`);
    this.name = 'FuzzFailure';
  }
}

/** Runs a case under the target's wall-clock bound; a throw is a crash, overtime a hang. */
export async function judge<T>(target: FuzzTarget<T>, run: TargetRun<T>, input: T): Promise<Finding | null> {
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<Finding>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang', detail: `case took longer than ${target.caseBoundMs} ms (wall clock)` }), target.caseBoundMs);
  });
  const started = performance.now();
  try {
    const f = await Promise.race([run.runCase(input), overtime]);
    // a synchronous stall also blows the bound, though the timer could not fire during it
    if (!f && performance.now() - started > target.caseBoundMs) return { kind: 'hang', detail: `case took ${Math.round(performance.now() - started)} ms (wall clock), bound ${target.caseBoundMs} ms` };
    return f;
  } catch (e) {
    return { kind: 'crash', detail: `the case runner threw: ${(e as Error)?.stack ?? String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The property fast-check checks and shrinks: a finding makes it fail. */
export function strictProperty<T>(target: FuzzTarget<T>, run: TargetRun<T>) {
  return fc.asyncProperty(target.arbitrary, async (input) => {
    const f = await judge(target, run, input);
    if (f) throw new FuzzFailure(f);
  });
}
