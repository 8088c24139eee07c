// Builds the script that removes, inside a fresh V8 context, every global, static and
// prototype member that Espruino 2v29 lacks (kit/builtins-2v29.json `missing`).
import { readFileSync } from 'node:fs';

interface BuiltinsData {
  missing: { globals: string[]; statics: Record<string, string[]>; protos: Record<string, string[]> };
  present: { globals: string[]; statics: Record<string, string[]>; protos: Record<string, string[]> };
}

let cached: BuiltinsData | null = null;
export function builtinsData(): BuiltinsData {
  if (!cached) cached = JSON.parse(readFileSync(new URL('../builtins-2v29.json', import.meta.url), 'utf8')) as BuiltinsData;
  return cached;
}

/**
 * RegExp.prototype accessors that V8's own String.prototype.replace/match/split read
 * (spec: Get(rx, "global"/"unicode"/"flags")). Deleting them breaks /g replacement, so
 * `flags` is redefined over the captured getters, and only `global`/`unicode`/`flags`
 * stay visible (documented deviation: `typeof /x/.global` is "boolean" here).
 */
const REGEXP_KEEP = new Set(['global', 'unicode', 'flags']);

export function stripScript(): string {
  const d = builtinsData();
  const L: string[] = [];
  L.push('(function(){');
  L.push('var G=globalThis, TA=Object.getPrototypeOf(Uint8Array), TAP=TA.prototype;');
  L.push('var TAS=[Uint8Array,Int8Array,Uint16Array,Int16Array,Uint32Array,Int32Array,Float32Array,Float64Array,Uint8ClampedArray];');
  L.push('function del(o,k){ try { if (o) delete o[k]; } catch(e){} }');
  // RegExp: keep internal semantics working
  L.push(`(function(){var P=RegExp.prototype, order=[['hasIndices','d'],['global','g'],['ignoreCase','i'],['multiline','m'],['dotAll','s'],['unicode','u'],['unicodeSets','v'],['sticky','y']], gets={};
order.forEach(function(x){var dd=Object.getOwnPropertyDescriptor(P,x[0]); if(dd&&dd.get) gets[x[0]]=dd.get;});
Object.defineProperty(P,'flags',{configurable:true,enumerable:false,get:function(){var s='',self=this;order.forEach(function(x){if(gets[x[0]]&&gets[x[0]].call(self))s+=x[1];});return s;}});})();`);
  for (const [ctor, names] of Object.entries(d.missing.statics)) {
    for (const n of names) {
      if (ctor === 'Uint8Array') {
        L.push(`del(TA,${JSON.stringify(n)}); TAS.forEach(function(T){del(T,${JSON.stringify(n)});});`);
      } else L.push(`del(G[${JSON.stringify(ctor)}],${JSON.stringify(n)});`);
    }
  }
  for (const [ctor, names] of Object.entries(d.missing.protos)) {
    for (const n of names) {
      if (ctor === 'RegExp' && REGEXP_KEEP.has(n)) continue;
      if (ctor === 'Uint8Array') {
        L.push(`del(TAP,${JSON.stringify(n)}); TAS.forEach(function(T){del(T.prototype,${JSON.stringify(n)});});`);
      } else L.push(`del(G[${JSON.stringify(ctor)}] && G[${JSON.stringify(ctor)}].prototype,${JSON.stringify(n)});`);
    }
  }
  // globals last (statics above may reference them)
  for (const n of d.missing.globals) L.push(`del(G,${JSON.stringify(n)});`);
  L.push('})();');
  return L.join('\n');
}
