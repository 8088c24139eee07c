// Every variable of a booted PSD on the real interpreter, summed up: what the resident image
// costs and why (`node --import tsx tools/real/dump-variables.ts [image] [--csv out.csv]`,
// default dist/firmware/linux-puckjs.js on the 2,630-variable build; ESPRUINO_BIN).
//
// The image boots from Storage as a board boots it (tools/real/memory.ts storeBootCode),
// then E.dumpVariables() lists every variable with the ones it links to
// (src/jswrap_espruino.c). Summed here: variables by kind, and the functions by the depth of
// the scope chain they keep: a function made inside another keeps a copy of the chain (an
// array and one name per scope, src/jsparse.c jspeiGetScopesAsVar), 3 variables more than one
// made at a module's top level (tools/flatten-classes.ts).
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageModules } from '../../kit/flash/image.ts';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from '../../kit/real/binary.ts';
import { storeBootCode, writeModules } from './memory.ts';

interface Variable {
  size: number;
  flags: number;
  name: string;
  links: number[];
}

/** E.dumpVariables() lines (`ref,size,flags,name,links...`) by reference. */
export function parseDump(csv: string): Map<number, Variable> {
  const vars = new Map<number, Variable>();
  for (const line of csv.split('\n').slice(1)) {
    const m = /^(\d+),(\d+),(\d+),("(?:[^"\\]|\\.)*"|[^,]*),(.*)$/.exec(line.trim());
    if (!m) continue;
    vars.set(Number(m[1]), { size: Number(m[2]), flags: Number(m[3]), name: m[4], links: m[5].split(',').filter((x) => /^\d+$/.test(x)).map(Number) });
  }
  return vars;
}

// JsVarFlags of Espruino 2v29 (src/jsvar.h) that matter here
const JSV_ARRAY = 3;
const JSV_FUNCTION = 7;
const JSV_FUNCTION_RETURN = 9;

/** Functions by scope depth (0: none kept), and the variables the deeper ones cost more. */
export function scopeDepths(vars: Map<number, Variable>): { byDepth: Record<number, number>; extra: number; deep: string[] } {
  const byDepth: Record<number, number> = {};
  const deep: string[] = [];
  const owner = new Map<number, string>();
  for (const v of vars.values()) if (v.name && v.flags !== JSV_FUNCTION && v.flags !== JSV_FUNCTION_RETURN) for (const l of v.links) owner.set(l, v.name.replace(/"/g, ''));
  let extra = 0;
  for (const [ref, v] of vars) {
    if (v.flags !== JSV_FUNCTION && v.flags !== JSV_FUNCTION_RETURN) continue;
    const scopeName = v.links.map((l) => vars.get(l)).find((c) => c?.name === '"\\xFFsco"');
    const scope = scopeName ? vars.get(scopeName.links[0]) : undefined;
    const depth = !scope ? 0 : scope.flags === JSV_ARRAY ? scope.links.length : 1;
    byDepth[depth] = (byDepth[depth] ?? 0) + 1;
    if (depth > 1) {
      extra += 1 + depth;
      deep.push(`${owner.get(ref) ?? '#' + ref} (${depth} scopes)`);
    }
  }
  return { byDepth, extra, deep };
}

async function main() {
  const args = process.argv.slice(2);
  const csvAt = args.indexOf('--csv');
  const csvOut = csvAt >= 0 ? args.splice(csvAt, 2)[1] : null;
  const image = args[0] ?? 'dist/firmware/linux-puckjs.js';
  const memory = (process.env.MEMORY ?? '2630') as EspruinoMemory;
  const binary = findEspruino(memory);
  if (!binary) throw new Error(noEspruinoReason(memory));
  // the image's own boot code; the console stays on stdout (the image would move it to
  // LoopbackA), so the dump is read there
  const program = `LoopbackA.setConsole=function(){};\n` + readFileSync(image, 'latin1') + `\nsetTimeout(function(){print("USAGE "+process.memory(true).usage);print("DUMPSTART");E.dumpVariables();print("DUMPEND");},500);`;
  const dir = mkdtempSync(join(tmpdir(), 'psd-dumpvars-'));
  try {
    writeFileSync(join(dir, 'program.js'), program, 'latin1');
    storeBootCode(binary, dir, program, writeModules(dir, imageModules(image)));
    const out = spawnSync(binary, [], { cwd: dir, encoding: 'latin1', input: '', timeout: 30000, killSignal: 'SIGKILL' }).stdout ?? '';
    const from = out.indexOf('DUMPSTART');
    const to = out.indexOf('DUMPEND');
    if (from < 0 || to < 0) throw new Error('no variable dump from the interpreter: ' + out.slice(-400));
    const csv = out.slice(from + 10, to);
    if (csvOut) writeFileSync(csvOut, csv);
    const vars = parseDump(csv);
    const total = [...vars.values()].reduce((s, v) => s + v.size, 0);
    const d = scopeDepths(vars);
    console.log(`${image} on the ${memory}-variable build: ${/USAGE (\d+)/.exec(out)?.[1]} variables in use after boot (${total} listed)`);
    console.log(`functions by scope depth: ${JSON.stringify(d.byDepth)}; deeper than one scope: ${d.extra} variables more`);
    for (const name of d.deep) console.log('  ' + name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main().catch((e) => {
  console.error(String(e instanceof Error ? e.message : e));
  process.exit(1);
});
