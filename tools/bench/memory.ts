// Calibration of the virtual board's memory model (kit/vboard/memory.ts): small programs,
// each booted from Storage on Espruino 2v29's Linux build with 5,100 variables (a Pico's) and on
// the virtual board modelling that build, and the variables in use each reports
// (process.memory().usage, read the same way on both: tools/real/memory.ts). Most cases make
// 100 of one thing, so a rule that is off by one variable shows as about 100.
// Needs the interpreter (ESPRUINO_BIN, see kit/real/binary.ts); without it the table is not made.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getBoard } from '../../board-defs/index.ts';
import { findEspruino, noEspruinoReason } from '../../kit/real/binary.ts';
import { imageModules } from '../../kit/flash/image.ts';
import { frankingWorkload, realMemory, virtualMemory } from '../real/memory.ts';
import { table, fmt, type Bench } from './common.ts';

const N = 100;
const loop = (body: string) => `var a=[];for(var i=0;i<${N};i++){${body}}`;
const fns = (k: number, f: (i: number) => string) => Array.from({ length: k }, (_, i) => f(i)).join('\n');

/** [case, program]: what each one makes is in its name. */
export const MEMORY_CASES: [string, string][] = [
  ['nothing (the reader only)', ''],
  ['100 empty objects in an array', loop('a.push({});')],
  ['100 objects, 3 small-int properties', loop('a.push({a:1,b:2,c:3});')],
  ['100 objects, int 100000 (not inline)', loop('a.push({a:100000+i});')],
  ['100 objects, float property', loop('a.push({a:i+0.5});')],
  ['100 objects, boolean property', loop('a.push({a:true});')],
  ['100 objects, null property', loop('a.push({a:null});')],
  ['100 objects, 9-char name', loop('a.push({abcdefghi:1});')],
  ['100 objects, 22-char name', loop('a.push({abcdefghijklmnopqrstuv:1});')],
  ['array of 100 small ints', loop('a.push(i);')],
  ['array of 100 floats', loop('a.push(i+0.5);')],
  ['array of 100 booleans', loop('a.push(true);')],
  ['100 arrays [1,2,3]', loop('a.push([1,2,3]);')],
  ['100 strings of 12 chars', loop('a.push(("abcdefghijk"+i).substr(0,12));')],
  ['100 strings of 13 chars', loop('a.push(("abcdefghijkl"+i).substr(0,13));')],
  ['100 strings of 26 chars', loop('a.push(("abcdefghijklmnopqrstuvwxy"+i).substr(0,26));')],
  ['100 strings of 100 chars (built)', loop('var s="";for(var j=0;j<100;j++)s+="x";a.push(s);')],
  ['100 literals of 100 chars', loop(`a.push("${'x'.repeat(100)}");`)],
  ['one 100-char string in 100 places (not modelled)', `var s="${'x'.repeat(100)}";` + loop('a.push(s);')],
  ['100 JSON.stringify results (24 chars)', loop('a.push(JSON.stringify({abc:i,def:"ghijkl"}));')],
  ['100 JSON.parse objects', loop(`a.push(JSON.parse('{"abc":1,"def":"ghijkl"}'));`)],
  ['100 E.toString of 32 bytes', loop('a.push(E.toString(new Uint8Array(32)));')],
  ['100 Uint8Array(8)', loop('a.push(new Uint8Array(8));')],
  ['100 Uint8Array(16)', loop('a.push(new Uint8Array(16));')],
  ['100 Uint8Array(26) (flat)', loop('a.push(new Uint8Array(26));')],
  ['100 Uint8Array(64)', loop('a.push(new Uint8Array(64));')],
  ['100 Uint32Array(16)', loop('a.push(new Uint32Array(16));')],
  ['100 ArrayBuffer(32)', loop('a.push(new ArrayBuffer(32));')],
  ['100 subarrays of one Uint8Array(64)', 'var u=new Uint8Array(64);' + loop('a.push(u.subarray(8,16));')],
  ['one Uint32Array(2472)', 'var big=new Uint32Array(2472);'],
  ['100 empty functions', loop('a.push(function(){});')],
  ['100 functions, no params', loop('a.push(function(){return 1});')],
  ['100 functions, 2 params', loop('a.push(function(x,y){return x+y});')],
  ['100 named function expressions', loop('a.push(function foo(x){return foo});')],
  ['100 function declarations, 2 params', fns(N, (k) => `function f${k}(a,b){return a+b}`)],
  ['100 declarations in an IIFE', '!function(){' + fns(N, (k) => `function f${k}(a,b){return a+b}`) + ';global.k=f0}()'],
  ['100 vars in an IIFE, one closure', '!function(){' + fns(N, (k) => `var v${k}=${k};`) + ';global.k=function(){return v0}}()'],
  ['100 closures over one IIFE scope', '!function(){var q=1;' + loop('a.push(function(){return q});') + 'global.a=a}()'],
  ['100 closures two scopes deep', '!function(){var q=1;!function(){var r=2;' + loop('a.push(function(){return q+r});') + 'global.a=a}()}()'],
  ['100 closures from a factory (x)', 'function mk(x){return function(){return x}}' + loop('a.push(mk(i));')],
  ['100 closures, factory with 2 unused locals', 'function mk(x){var y=x+1,z=x+2;return function(){return x}}' + loop('a.push(mk(i));')],
  ['100 closures, factory uses arguments', 'function mk(x){var q=arguments.length;return function(){return x}}' + loop('a.push(mk(i));')],
  ['100 closures, inner function declaration', 'function mk(x){function g(){} return function(){return x}}' + loop('a.push(mk(i));')],
  ['object with 100 methods', 'var o={' + fns(N, (k) => `m${k}:function(a){return a}`).replace(/\n/g, ',') + '};'],
  ['100 prototype methods', 'function C(){this.x=1}' + fns(N, (k) => `C.prototype.m${k}=function(a){return a};`) + 'var c=new C();'],
  ['100 instances (2 properties)', 'function C(a){this.x=a;this.y=2}' + loop('a.push(new C(i));')],
  ['100 Object.create(P)', 'var P={m:1};' + loop('a.push(Object.create(P));')],
  ['100 class-like IIFEs (Babel shape)', fns(N, (k) => `var K${k}=function(){function t(a){this.a=a}var i=t.prototype;i.get=function(){return this.a};return t}();`)],
  ['100 timers', loop('setTimeout(function(){},100000);')],
  ['100 intervals', loop('setInterval(function(){},100000);')],
  ['100 timers with 2 arguments', loop('setTimeout(function(){},100000,1,2);')],
  ['100 events with a listener each', 'var o={};' + loop('o.on("ev"+i,function(){});')],
  ['100 listeners of one event', 'var o={};' + loop('o.on("ev",function(){});')],
  ['100 bound functions', 'function f(){}' + loop('a.push(f.bind(null));')],
  ['require Storage, crypto, Flash', 'var S=require("Storage"),C=require("crypto"),F=require("Flash");'],
  ['E.on("init"), Serial1.on("data")', 'E.on("init",function(){});Serial1.on("data",function(d){});']
];

function imagePath(): string | null {
  const p = fileURLToPath(new URL('../../dist/firmware/linux.js', import.meta.url));
  return existsSync(p) ? p : null;
}

const pct = (real: number, virt: number) => `${virt >= real ? '+' : ''}${fmt((100 * (virt - real)) / real, 1)} %`;

export interface MemoryRow {
  name: string;
  real: number;
  virtual: number;
}

/** Measures every case (and the linux image after boot) on the 5,100-variable build and the virtual board. */
export async function measureMemoryCases(binary: string, cases = MEMORY_CASES): Promise<MemoryRow[]> {
  const board = { ...getBoard('linux'), variables: 5100 };
  const rows: MemoryRow[] = [];
  for (const [name, code] of cases) {
    const real = (await realMemory(binary, code)).usage;
    const virt = (await virtualMemory(board, code)).usage;
    rows.push({ name, real, virtual: virt });
  }
  const img = imagePath();
  if (img) {
    // the linux image, and the linux image with the Pico's profile (what a Pico holds)
    for (const [label, file] of [['the linux image', img], ['the linux image, Pico profile', img.replace(/linux\.js$/, 'linux-pico.js')]]) {
      if (!existsSync(file)) continue;
      const code = readFileSync(file, 'latin1');
      const modules = imageModules(file);
      rows.push({ name: `${label}, after boot`, real: (await realMemory(binary, code, { modules })).usage, virtual: (await virtualMemory(board, code, { modules })).usage });
      const busy = code + frankingWorkload();
      rows.push({ name: `${label}, after franking`, real: (await realMemory(binary, busy, { modules })).usage, virtual: (await virtualMemory(board, busy, { modules })).usage });
    }
  }
  return rows;
}

export const memory: Bench = {
  id: 'memory',
  title: 'Memory model calibration: variables in use, Espruino 2v29 Linux (5,100 variables) vs. the virtual board',
  async run() {
    const binary = findEspruino('5100');
    if (!binary) return `skipped: ${noEspruinoReason('5100')}`;
    const rows = await measureMemoryCases(binary);
    const worst = rows.filter((r) => !r.name.includes('not modelled')).reduce((w, r) => Math.max(w, Math.abs(r.virtual - r.real) / r.real), 0);
    return [
      table(
        ['case', 'real variables', 'virtual variables', 'difference %'],
        rows.map((r) => [r.name, fmt(r.real), fmt(r.virtual), pct(r.real, r.virtual)])
      ),
      '',
      `Each program is booted from Storage (as a board runs saved code) and read by an interval after 300 ms`,
      `(after franking: once the frames handed to the firmware are done, tools/real/memory.ts frankingWorkload);`,
      `'real' is ${binary}. Largest difference (modelled cases): ${fmt(100 * worst, 1)} %.`,
      `The rules, and what is not modelled, are in kit/vboard/README.md, "Memory".`
    ].join('\n');
  }
};
