// `npm run soak:real -- [--cuts 1000] [--seed S] [--memory resizable|5100|2630] [--max-delay ms]`
// Power cuts (SIGKILL) at random moments of franking, extraction and confirmation on the real
// interpreter, each followed by a boot on the same flash file and a check of every invariant
// (tools/real/powercuts.ts). Prints progress and a summary; exits 1 on the first violation,
// with the seed that replays the schedule.
import { Command as Cli } from 'commander';
import { runReal } from '../../kit/real/run.ts';
import { runPowerCuts } from './powercuts.ts';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from '../../kit/real/binary.ts';

async function main() {
  const opts = new Cli('soak:real')
    .description('power cuts on the real Espruino interpreter running the linux image, invariants checked after each')
    .option('--cuts <n>', 'how many power cuts', '1000')
    .option('--seed <n>', 'schedule seed (printed; repeat a run with it)')
    .option('--memory <build>', 'resizable, 5100 or 2630 variables', 'resizable')
    .option('--max-delay <ms>', 'longest wait before a cut', '5000')
    .parse()
    .opts();
  const memory = opts.memory as EspruinoMemory;
  if (!findEspruino(memory)) {
    console.log(`soak:real skipped: ${noEspruinoReason(memory)}`);
    return 0;
  }
  const cuts = Number(opts.cuts);
  const sim = await runReal({ memory });
  const t0 = Date.now();
  try {
    const r = await runPowerCuts({
      board: sim.board,
      port: sim.ptyPath ?? sim.tcpUrl,
      cuts,
      seed: opts.seed ? Number(opts.seed) : undefined,
      maxDelayMs: Number(opts.maxDelay),
      onCut: (n, i) => {
        if (n % 10 === 0 || n === cuts) process.stdout.write(`\r  ${n}/${cuts} cuts, ${i.pieces} pieces, last: ${i.operation} cut after ${i.delayMs} ms${i.completed ? ' (answered)' : ''}      `);
      }
    });
    console.log(`\n\ncuts ${r.cuts}, interrupted before the answer ${r.interrupted}; frank ${r.byOperation.frank}, extract ${r.byOperation.extract}, confirm ${r.byOperation.confirm}; pieces ${r.pieces}; blocks confirmed ${r.blocksConfirmed}; ${((Date.now() - t0) / 1000).toFixed(0)} s; seed ${r.seed}`);
    if (r.violations.length) {
      console.log('VIOLATIONS:\n  ' + r.violations.join('\n  '));
      console.log(`interpreter console (${sim.board.consoleLog}):\n${sim.board.consoleTail()}`);
      return 1;
    }
    console.log('every invariant held after every cut');
    return 0;
  } finally {
    await sim.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error('soak:real failed: ' + (e?.stack ?? e));
    process.exit(1);
  }
);
