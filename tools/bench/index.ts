// `npm run bench [-- <id>...]`: builds first (see package.json), then runs every benchmark
// (or the named ones) in order and prints each one's table. Add a benchmark: a module in
// this folder exporting a Bench (see common.ts), listed below.
import { sizes } from './sizes.ts';
import { roundtrip } from './roundtrip.ts';
import { franking } from './franking.ts';
import { capacity } from './capacity.ts';
import { crypto } from './crypto.ts';
import { pss, pssReport } from './pss.ts';
import { memory } from './memory.ts';
import { boards } from './boards.ts';
import { wear } from './wear.ts';
import { pretokenised } from './pretokenise.ts';
import { memoryCore } from './memory-core.ts';
import type { Bench } from './common.ts';

export const benches: Bench[] = [sizes, roundtrip, franking, capacity, crypto, pss, pssReport, memory, memoryCore, pretokenised, boards, wear];

async function main() {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = only.filter((id) => !benches.some((b) => b.id === id));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${benches.map((b) => b.id).join(', ')}`);
  for (const b of benches) {
    if (only.length && !only.includes(b.id)) continue;
    console.log(`\n== ${b.title} ==\n`);
    console.log(await b.run());
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error('bench failed: ' + (e?.message ?? e));
      process.exit(1);
    }
  );
}
