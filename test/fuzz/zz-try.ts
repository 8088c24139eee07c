import fc from 'fast-check';
import { targets } from './targets.ts';
import { strictProperty } from './framework.ts';
const name = process.argv[2]; const n = Number(process.argv[3] ?? 300);
const t = targets[name]();
let t0 = performance.now();
const run = await t.open();
console.log('open ms', performance.now() - t0);
t0 = performance.now();
const r = await fc.check(strictProperty(t, run), { numRuns: n, seed: process.argv[4] ? Number(process.argv[4]) : undefined });
console.log((performance.now()-t0)/r.numRuns, 'ms/case', 'runs', r.numRuns, 'failed', r.failed, 'seed', r.seed, 'path', r.counterexamplePath);
if (r.failed) { console.log(String(r.errorInstance).slice(0, 3000)); console.log(t.show(r.counterexample![0])); }
await run.close();
console.log(Object.entries(run.coverage?.() ?? {}).sort().map(([k,v]) => k + ': ' + v).join('\n'));
