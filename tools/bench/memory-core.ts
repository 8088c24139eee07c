// Where the variables of a booted PSD go, on the real interpreter with a board's variables
// (`npm run bench -- memory-core`): the linux image built with the Puck.js's and the Pico's
// profiles (dist/firmware/linux-puckjs.js, linux-pico.js) booted from Storage on the
// 2,630- and 5,100-variable builds. Each stage of the boot code is read with
// process.memory(true) (after a garbage collection) inside one boot: the interpreter alone,
// the resident core loaded (require of psd.core: its function objects, constants and
// exports), the board bound (espruinoBoard's closures), the PSD started (ledger state,
// record tables, journal, protocol front, device log). Then each on-demand module loaded alone
// and dropped (with the psd.x* chunks it pulls in), and a working day: 96 distinct records
// franked and flushed to flash (tools/real/memory.ts frankingWorkload), then psd.seal (the
// extraction) loaded on top: what the peak is made of.
// Needs the interpreter (ESPRUINO_BIN, kit/real/binary.ts); without it the table is not made.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from '../../kit/real/binary.ts';
import { imageModules } from '../../kit/flash/image.ts';
import { detokenise, isPretokenised } from '../../kit/flash/pretokenise.ts';
import { bootCalls, bootRelease, frankingWorkload, realMemory } from '../real/memory.ts';
import { coreAtRoot, CORE_FROM_STORAGE } from '../build.ts';
import { table, fmt, type Bench } from './common.ts';

const PROFILES: { profile: string; memory: EspruinoMemory; variables: number }[] = [
  { profile: 'puckjs', memory: '2630', variables: 2630 },
  { profile: 'pico', memory: '5100', variables: 5100 }
];

/** Distinct records of the working day (the linux build's statistics flash takes 96). */
const DAY_RECORDS = 96;

/** Function objects made when a module's code is evaluated (top level and IIFEs: class
 * bodies, prototype methods), and their parameters: each costs variables while it is loaded. */
export function functionsAtLoad(code: string): { functions: number; params: number } {
  const ast = acorn.parse(code, { ecmaVersion: 5, allowReturnOutsideFunction: true }) as any;
  let functions = 0;
  let params = 0;
  const walk = (node: any, live: boolean) => {
    if (!node || typeof node.type !== 'string') return;
    const isFn = node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression';
    if (isFn && live) {
      functions++;
      params += node.params.length;
    }
    for (const k of Object.keys(node)) {
      const v = node[k];
      if (isFn && k === 'body') {
        walk(v, live && node.iife);
        continue;
      }
      for (const c of Array.isArray(v) ? v : [v]) {
        if (!c || typeof c.type !== 'string') continue;
        // an immediately invoked function runs at load: what it makes is made then
        if (node.type === 'CallExpression' && k === 'callee' && c.type === 'FunctionExpression') c.iife = true;
        walk(c, live);
      }
    }
  };
  walk(ast, true);
  return { functions, params };
}

interface Breakdown {
  stages: number[];
  modules: Record<string, number>;
  day: number;
  daySeal: number;
}

/** The boot code with its three calls read apart (tools/real/memory.ts bootCalls). */
function stagedBoot(boot: string, onDemand: string[]): string {
  const { bind, build, start } = bootCalls(boot);
  return (
    // names a program adds at the top level start with __: the core's own are globals there
    `var __R={stages:[],modules:{}};function __u(){return process.memory(true).usage}__R.stages.push(__u());` +
    `${coreAtRoot(CORE_FROM_STORAGE)}__R.stages.push(__u());var __c=${bind}(${build}());__R.stages.push(__u());global.__P=${start}(__c,${build});__c=void 0;${bootRelease(boot)}__R.stages.push(__u());` +
    `${JSON.stringify(onDemand)}.forEach(function(n){var b=__u();require(n);__R.modules[n]=__u()-b;Modules.removeCached(n);var k=Modules.getCached();for(var i=0;i<k.length;i++)if(k[i].substr(0,5)==="psd.x")Modules.removeCached(k[i]);});` +
    `global.__BUSY__=1;require("fs").writeFileSync("mem.json",JSON.stringify(__R));`
  );
}

/** A working day, then psd.seal loaded on top, read once the day's frames are handled. */
function dayProgram(boot: string): string {
  const day = frankingWorkload({ pieces: DAY_RECORDS, lazy: true }).replace('delete global.__BUSY__', 'global.__DAY__=1');
  return (
    boot +
    day +
    `setInterval(function(){if(!global.__DAY__||global.__READ__)return;global.__READ__=1;var m=process.memory(true).usage;var s=require("psd.seal");` +
    `require("fs").writeFileSync("mem.json",JSON.stringify({day:m,daySeal:process.memory(true).usage}));},200);`
  );
}

async function measure(binary: string, image: string): Promise<Breakdown> {
  const boot = readFileSync(image, 'latin1');
  const modules = imageModules(image);
  const onDemand = Object.keys(modules).filter((n) => n !== 'psd.core' && !n.startsWith('psd.x'));
  const staged = (await realMemory(binary, stagedBoot(boot, onDemand), { modules })) as unknown as Breakdown;
  const day = (await realMemory(binary, dayProgram(boot), { modules, timeoutMs: 120000 })) as unknown as { day: number; daySeal: number };
  return { ...staged, ...day };
}

export const memoryCore: Bench = {
  id: 'memory-core',
  title: 'Where the variables go: the linux image with a board profile, booted from Storage on the real interpreter',
  async run() {
    const out: string[] = [];
    for (const p of PROFILES) {
      const binary = findEspruino(p.memory);
      const image = fileURLToPath(new URL(`../../dist/firmware/linux-${p.profile}.js`, import.meta.url));
      if (!binary) {
        out.push(`${p.profile}: skipped: ${noEspruinoReason(p.memory)}`);
        continue;
      }
      if (!existsSync(image)) throw new Error(`${image} is missing: run npm run build first`);
      const b = await measure(binary, image);
      const stored = imageModules(image)['psd.core'];
      const core = functionsAtLoad(isPretokenised(stored) ? detokenise(stored) : stored);
      const pct = (n: number) => fmt((100 * n) / p.variables, 1) + ' %';
      const [bare, coreLoaded, bound, started] = b.stages;
      const rows: (string | number)[][] = [
        ['the interpreter, nothing loaded', fmt(bare), '', pct(bare)],
        [`resident core psd.core loaded (${core.functions} functions made at load, ${core.params} parameters; constants, exports)`, fmt(coreLoaded), '+' + fmt(coreLoaded - bare), pct(coreLoaded)],
        ['board bound (espruinoBoard: Serial1, Flash, crypto, its closures)', fmt(bound), '+' + fmt(bound - coreLoaded), pct(bound)],
        ['PSD started: after boot (ledger state, record tables, journal, front, device log)', fmt(started), '+' + fmt(started - bound), pct(started)],
        ...Object.entries(b.modules).map(([n, v]) => [`  ${n} loaded alone (with its psd.x* chunks), then dropped`, '', '+' + fmt(v), '']),
        [`after a day of ${DAY_RECORDS} distinct records franked, batches, a flush (idle)`, fmt(b.day), '+' + fmt(b.day - started), pct(b.day)],
        ['  and psd.seal (the extraction) loaded on top', fmt(b.daySeal), '+' + fmt(b.daySeal - b.day), pct(b.daySeal)]
      ];
      out.push(`${p.profile} profile on the ${fmt(p.variables)}-variable build (budgets: after boot ${fmt(Math.floor(0.4 * p.variables))}, peak ${fmt(Math.floor(0.75 * p.variables))})`);
      out.push(table(['stage', 'variables in use', 'step', 'of all'], rows));
      out.push('');
    }
    out.push('Each stage is read inside one boot with process.memory(true); the peak itself (extraction of the full table, STATUS memory.peak) is in test/real-memory-budget.test.ts.');
    return out.join('\n');
  }
};
