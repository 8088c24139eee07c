// The memory model's costs and its walk over what the image reaches (memory.ts).
import { type VarLayout } from './memory-layout.ts';
import { type StaticFn, type SourceInfo, analyseSource, pretokenisedBytes } from './memory-source.ts';
import { type ScopeEntry, connect } from './memory-inspector.ts';

// ------------------------------------------------------------------ the model

/** What the board hands the model. */
export interface MemoryHost {
  /** the context's global object (Espruino's root) */
  global: object;
  /** built-in objects of the context and the property names each had before the image ran */
  builtins: Map<object, Set<string>>;
  /** the image source: its functions keep their code in flash (saved code booted from Storage) */
  image: string;
  /** the image's code was copied into RAM (`espruino file.js`), not kept in flash */
  codeInRam?: boolean;
  /** the image is stored pretokenised (kit/flash/pretokenise.ts): code copied into RAM is its
   * pretokenised bytes, not the source `image` gives back */
  pretokenised?: boolean;
  /** the runtime's entry points (functions of the runtime, whose closure holds its registries) */
  runtime: object;
  layout: VarLayout;
  /** pending timers: id and whether it repeats */
  timers(): { id: number; interval: boolean }[];
}

/** Variables Espruino itself holds after boot with no program (root, hidden state). */
export const BASE_VARIABLES = 51;

/** Built-in objects that take variables in root once used, and how many. */
export const OBJECT_ROOTS: Record<string, number> = { E: 2, Math: 3, JSON: 0, process: 0, console: 0, Object: 0, Function: 0 };
/** Built-in classes: used by name they take a root entry; once an instance's property is looked
 * up (or one is constructed), also their prototype (jspNewPrototype: name, function, prototype,
 * constructor). */
export const CLASSES = new Set(['Array', 'String', 'Number', 'Boolean', 'Date', 'RegExp', 'Error', 'TypeError', 'RangeError', 'SyntaxError',
  'ReferenceError', 'InternalError', 'Promise', 'ArrayBuffer', 'DataView', 'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array',
  'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array']);
/** classes a program uses by name only to construct them */
export const CONSTRUCTED = /^(?:Date|RegExp|\w*Error|Promise|ArrayBuffer|DataView|\w+Array)$/;
export const TYPED = /^(?:Uint8|Int8|Uint8Clamped|Uint16|Int16|Uint32|Int32|Float32|Float64)Array$/;

/** A closure scope: one call of a function (Espruino's function root). */
export interface Ctx {
  owner: StaticFn | null;
  /** the scope around it (the next one in the chain) */
  outer: Ctx | null;
  /** V8's snapshot of the variables it kept (null: none, V8 keeps no context for it) */
  values: Record<string, unknown> | null;
  /** a function whose [[Scopes]] reach this scope, and at which index */
  rep: Function | null;
  repIndex: number;
  refreshed: number;
  counted: number;
  /** index key (the owner) */
  index: string;
  /** the only scope of a function that runs once (see StaticFn.once) */
  once?: boolean;
  /** V8 keeps no context for it (no closure uses its variables): nothing to read */
  noV8?: boolean;
}

export interface FnRecord {
  kind: 'image' | 'ram' | 'builtin' | 'bound';
  info: StaticFn | null;
  /** variables of the function object itself (without user properties, prototype and scopes) */
  own: number;
  /** its scopes, innermost first (those V8 shows and those it does not) */
  chain: Ctx[];
  /** chain entries that V8 shows, by V8 closure index */
  v8: (Ctx | null)[];
  bound: { target: unknown; args: unknown[] } | null;
}

export const INDEX_RE = /^(?:0|[1-9]\d{0,9})$/;
export const SKIP_FN_PROPS = new Set(['length', 'name', 'prototype', 'arguments', 'caller']);
export const isRef = (v: unknown): v is object => v !== null && (typeof v === 'object' || typeof v === 'function');

/** V8's closure scopes, innermost first; block, catch and with scopes join the closure around them. */
export function closureScopes(scopes: ScopeEntry[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let carry: Record<string, unknown> | null = null;
  for (const s of scopes) {
    const d = s.description || '';
    if (d.startsWith('Global') || d.startsWith('Script')) continue;
    const obj = { ...(s.object ?? {}) };
    if (d.startsWith('Closure')) {
      out.push(carry ? { ...carry, ...obj } : obj);
      carry = null;
    } else carry = { ...(carry ?? {}), ...obj };
  }
  if (carry) out.push(carry);
  return out;
}

/** One walk's bookkeeping. */
export interface Walk {
  id: number;
  n: number;
  seen: Set<unknown>;
  stack: unknown[];
  pendingFns: Function[];
  pendingCtx: Ctx[];
  protoCounted: Set<Function>;
  /** function declarations of kept scopes that V8 dropped (counted unless met as objects) */
  staticDecls: StaticFn[];
  liveStatics: Set<StaticFn>;
}

/**
 * The model of one power-up of the board. Cheap to call again: what V8 says about each
 * function is kept (by function), so a later walk only asks V8 about new functions and re-reads
 * each closure scope it reaches once.
 */
export abstract class MemoryWalk {
  // what the later rooms add: functions and scopes (memory-scopes.ts), runtime and built-ins (memory.ts)
  protected abstract registries(w: Walk): void;
  protected abstract builtinAdditions(w: Walk): void;
  protected abstract recordFunctions(fns: Function[], walkId: number): [Function, FnRecord][];
  protected abstract refresh(ctxs: Ctx[], walkId: number): void;
  protected abstract quickRecord(f: Function): FnRecord | null;
  protected abstract indexCtx(c: Ctx): void;
  /** debugging: the last walk's variables by kind (set to {} to collect) */
  tally: Record<string, number> | null = null;
  protected host: MemoryHost;
  protected L: VarLayout;
  protected src: SourceInfo;
  protected fns = new WeakMap<Function, FnRecord>();
  /** known scopes by owner (the function whose call made them) */
  protected ctxIndex = new Map<string, Set<Ctx>>();
  /** the scopes of functions that run once */
  protected onceCtxs = new Map<StaticFn, Ctx>();
  /** scripts of the board's own layers (runtime, Espruino library): their functions are built in */
  protected hostScripts: Set<string> | null = null;
  protected imageScript: string | null = null;
  protected walkId = 0;
  protected objProto: object;
  protected arrProto: object;
  protected serialProto: object | null;
  protected inspectorOk: boolean;
  /** objects of native modules: built in, they cost nothing beyond the module itself */
  protected nativeObjs = new WeakSet<object>();
  /** built-in objects by their global name */
  protected rootNames = new Map<object, string>();
  /** Espruino's lazily made root entries: name -> 'entry' or 'proto' (kept for the power-up) */
  protected roots = new Map<string, 'entry' | 'proto'>();

  constructor(host: MemoryHost) {
    this.host = host;
    this.L = host.layout;
    this.src = analyseSource(host.image);
    const g = host.global as Record<string, any>;
    this.objProto = g.Object.prototype;
    this.arrProto = g.Array.prototype;
    this.serialProto = typeof g.Serial === 'function' ? g.Serial.prototype : null;
    for (const k of Object.getOwnPropertyNames(g)) {
      const v = Object.getOwnPropertyDescriptor(g, k)?.value;
      if (isRef(v) && v !== g && host.builtins.has(v) && !this.rootNames.has(v)) this.rootNames.set(v, k);
    }
    // built-ins the image names
    for (const name of this.src.globals) {
      if (name in OBJECT_ROOTS || CLASSES.has(name) || this.isDevice(g[name])) this.useRoot(name, CONSTRUCTED.test(name) ? 'proto' : 'entry');
    }
    this.inspectorOk = connect();
  }

  /** Variables in use, as process.memory().usage. */
  usage(): number {
    return BASE_VARIABLES + this.walk([this.host.global], true);
  }

  /** Variables held by `v` and what it reaches (E.getSizeOf). */
  sizeOf(v: unknown): number {
    return this.walk([v], false);
  }

  // -------------------------------------------------------------- costs of single values

  protected strVars(len: number): number {
    const L = this.L;
    return len <= L.stringChars ? 1 : 1 + Math.ceil((len - L.stringChars) / L.extChars);
  }

  protected nameVars(name: string): number {
    if (INDEX_RE.test(name) && +name < 4294967295) return 1;
    const L = this.L;
    return name.length <= L.nameChars ? 1 : 1 + Math.ceil((name.length - L.nameChars) / L.extChars);
  }

  /** bytes of an ArrayBuffer: a flat string when long, else a chain of string variables */
  protected bufferVars(bytes: number): number {
    const L = this.L;
    if (bytes > L.flatBreakEven) return 1 + Math.ceil(bytes / L.blocksize);
    return this.strVars(bytes);
  }

  /** the \xFFsco entry: nothing at the top level, a reference for one scope, a copied array beyond */
  protected scopeRefVars(depth: number): number {
    if (depth <= 0) return 0;
    if (depth === 1) return 1;
    return 2 + depth;
  }

  /** a function object as Espruino makes it from the source */
  protected staticFnVars(f: StaticFn): number {
    let n = 1;
    for (const p of f.params) n += this.nameVars('\xff' + p);
    if (!f.empty) n += 1 + (this.host.codeInRam ? this.strVars(this.host.pretokenised ? pretokenisedBytes(f) : f.codeChars) : 1) + this.scopeRefVars(f.depth);
    if (f.internalName) n += 1 + this.strVars(f.internalName.length);
    return n;
  }

  protected isDevice(v: unknown): boolean {
    return !!this.serialProto && isRef(v) && Object.getPrototypeOf(v) === this.serialProto;
  }

  protected useRoot(name: string, level: 'entry' | 'proto'): void {
    if (this.roots.get(name) !== 'proto') this.roots.set(name, level);
    if (this.isDevice((this.host.global as Record<string, unknown>)[name])) this.roots.set('Serial', 'proto');
  }

  /** variables of the root entries made so far */
  protected rootVars(): number {
    const g = this.host.global as Record<string, unknown>;
    let n = 0;
    for (const [name, level] of this.roots) {
      if (name in OBJECT_ROOTS) n += OBJECT_ROOTS[name];
      else if (this.isDevice(g[name])) n += this.nameVars(name) + 1 + this.nameVars('__proto__');
      else n += this.nameVars(name) + 1 + (level === 'proto' ? this.nameVars('prototype') + 1 + this.nameVars('constructor') : 0);
    }
    return n;
  }

  // -------------------------------------------------------------- the walk

  protected add(w: Walk, k: number, kind: string): void {
    w.n += k;
    if (this.tally) this.tally[kind] = (this.tally[kind] ?? 0) + k;
  }

  /** a value beside its name: inline small ints (and booleans under an index), else its variables */
  protected value(w: Walk, v: unknown, intName: boolean): number {
    switch (typeof v) {
      case 'undefined':
        return 0;
      case 'boolean':
        return intName ? 0 : 1;
      case 'number':
        return Number.isInteger(v) && v >= this.L.inlineMin && v <= this.L.inlineMax ? 0 : 1;
      case 'string':
        // counted where it is: V8 cannot tell one string held in two places (`b = a`, which
        // Espruino shares) from two equal strings (each a copy there)
        this.useRoot('String', 'proto');
        return this.strVars(v.length);
      case 'object':
        if (v === null) return 1;
        w.stack.push(v);
        return 0;
      case 'function':
        w.stack.push(v);
        return 0;
      default:
        return 1;
    }
  }

  protected prop(w: Walk, name: string, v: unknown, intName: boolean, kind = 'properties'): void {
    this.add(w, this.nameVars(name) + this.value(w, v, intName), kind);
  }

  /** own properties of o, but those `skip` says */
  protected ownProps(w: Walk, o: object, skip: (k: string) => boolean): void {
    let names: string[];
    try {
      names = Object.getOwnPropertyNames(o);
    } catch {
      return;
    }
    for (const k of names) {
      if (skip(k)) continue;
      let d: globalThis.PropertyDescriptor | undefined;
      try {
        d = Object.getOwnPropertyDescriptor(o, k);
      } catch {
        continue;
      }
      if (!d) continue;
      if ('value' in d) this.prop(w, k, d.value, INDEX_RE.test(k));
      else {
        // a getter/setter pair
        this.add(w, this.nameVars(k) + 1, 'properties');
        if (d.get) w.stack.push(d.get);
        if (d.set) w.stack.push(d.set);
      }
    }
  }

  protected walk(roots: unknown[], whole: boolean): number {
    const w: Walk = {
      id: ++this.walkId,
      n: 0,
      seen: new Set(),
      stack: [...roots],
      pendingFns: [],
      pendingCtx: [],
      protoCounted: new Set(),
      staticDecls: [],
      liveStatics: new Set()
    };
    if (whole) {
      this.registries(w);
      this.builtinAdditions(w);
    }
    for (;;) {
      while (w.stack.length) this.visit(w, w.stack.pop());
      if (w.pendingFns.length) {
        for (const [f, r] of this.recordFunctions(w.pendingFns.splice(0), w.id)) this.fn(w, f, r);
        continue;
      }
      if (w.pendingCtx.length) {
        const batch = w.pendingCtx.splice(0);
        this.refresh(batch.filter((c) => c.refreshed !== w.id), w.id);
        for (const c of batch) this.scope(w, c);
        continue;
      }
      break;
    }
    // function declarations of kept scopes that V8 dropped, unless the object itself was met
    for (const d of w.staticDecls) if (!w.liveStatics.has(d)) this.add(w, this.staticFnVars(d), 'functions');
    if (whole) this.add(w, this.rootVars(), 'built-in roots');
    // forget scopes nobody reached this time (their functions still know them)
    for (const [k, set] of this.ctxIndex) {
      for (const c of set) if (c.counted !== w.id) set.delete(c);
      if (!set.size) this.ctxIndex.delete(k);
    }
    return w.n;
  }

  protected visit(w: Walk, o: unknown): void {
    if (!isRef(o) || w.seen.has(o)) return;
    w.seen.add(o);
    if (this.nativeObjs.has(o) || this.host.builtins.has(o)) return;
    if (typeof o === 'function') {
      const r = this.fns.get(o) ?? this.quickRecord(o);
      if (r) this.fn(w, o, r);
      else w.pendingFns.push(o);
      return;
    }
    const tag = Object.prototype.toString.call(o).slice(8, -1);
    if (ArrayBuffer.isView(o)) {
      this.add(w, 1, 'typed arrays');
      if (TYPED.test(tag)) {
        this.useRoot(tag, 'proto');
        this.useRoot('ArrayBufferView', 'proto');
      } else this.useRoot(tag, 'proto');
      w.stack.push((o as Uint8Array).buffer);
      this.ownProps(w, o, (k) => INDEX_RE.test(k));
      return;
    }
    if (tag === 'ArrayBuffer' || tag === 'SharedArrayBuffer') {
      this.add(w, 1 + this.bufferVars((o as ArrayBuffer).byteLength), 'typed arrays');
      return;
    }
    if (Array.isArray(o)) {
      this.useRoot('Array', 'proto');
      this.add(w, 1, 'arrays');
      this.ownProps(w, o, (k) => k === 'length');
      const p = Object.getPrototypeOf(o);
      if (p !== this.arrProto && p !== Array.prototype) this.protoLink(w, p);
      return;
    }
    if (tag === 'Date') {
      this.useRoot('Date', 'proto');
      this.add(w, 1 + this.nameVars('__proto__') + 2, 'objects');
      return;
    }
    if (tag === 'RegExp') {
      this.useRoot('RegExp', 'proto');
      this.add(w, 7, 'objects');
      return;
    }
    if (tag === 'Error') {
      // object, __proto__, message, and the stack trace text Espruino keeps
      this.useRoot('Error', 'proto');
      this.add(w, 1 + this.nameVars('__proto__') + 7, 'objects');
      this.ownProps(w, o, (k) => k === 'stack');
      return;
    }
    this.add(w, 1, 'objects');
    // a prototype's own `constructor` is V8's; Espruino does not store one
    this.ownProps(w, o, (k) => k === 'constructor' && this.isOwnConstructor(o));
    const p = Object.getPrototypeOf(o);
    if (p !== null && p !== this.objProto && p !== Object.prototype) this.protoLink(w, p);
  }

  protected isOwnConstructor(o: object): boolean {
    const d = Object.getOwnPropertyDescriptor(o, 'constructor');
    if (!d || d.enumerable || typeof d.value !== 'function') return false;
    try {
      return Object.getOwnPropertyDescriptor(d.value, 'prototype')?.value === o;
    } catch {
      return false;
    }
  }

  /** an object whose prototype is not the default one carries a __proto__ link */
  protected protoLink(w: Walk, p: object): void {
    this.add(w, this.nameVars('__proto__'), 'objects');
    if (this.host.builtins.has(p)) return;
    w.stack.push(p);
    let c: unknown;
    try {
      const d = Object.getOwnPropertyDescriptor(p, 'constructor');
      c = d && 'value' in d ? d.value : undefined;
    } catch {
      c = undefined;
    }
    if (typeof c === 'function' && !this.host.builtins.has(c)) {
      let fp: unknown;
      try {
        fp = Object.getOwnPropertyDescriptor(c, 'prototype')?.value;
      } catch {
        fp = undefined;
      }
      if (fp === p) this.protoOf(w, c);
    }
  }

  /** `F.prototype` exists in Espruino (it is made when first used) */
  protected protoOf(w: Walk, f: Function): void {
    if (w.protoCounted.has(f)) return;
    w.protoCounted.add(f);
    this.add(w, this.nameVars('prototype'), 'functions');
  }

  protected fn(w: Walk, f: Function, r: FnRecord): void {
    this.add(w, r.own, 'functions');
    if (r.kind === 'builtin') return;
    if (r.info) w.liveStatics.add(r.info);
    if (r.bound) {
      w.stack.push(r.bound.target);
      for (const a of r.bound.args) this.add(w, 1 + this.value(w, a, true), 'functions');
    }
    for (const c of r.chain) {
      if (c.counted === w.id) continue;
      c.counted = w.id;
      this.indexCtx(c);
      w.pendingCtx.push(c);
    }
    // user properties, and the prototype once Espruino would have made it (not its constructor)
    this.ownProps(w, f, (k) => SKIP_FN_PROPS.has(k));
    let p: unknown;
    try {
      p = Object.getOwnPropertyDescriptor(f, 'prototype')?.value;
    } catch {
      p = undefined;
    }
    if (p && typeof p === 'object') {
      const names = Object.getOwnPropertyNames(p);
      const own = Object.prototype.hasOwnProperty.call(p, 'constructor') && (p as { constructor?: unknown }).constructor === f;
      if (!own || names.some((k) => k !== 'constructor') || Object.getPrototypeOf(p) !== this.objProto) {
        this.protoOf(w, f);
        w.stack.push(p);
      }
    }
  }

  /** a call's scope: the object, each parameter and local (name and value) */
  protected scope(w: Walk, c: Ctx): void {
    const vals = c.values ?? {};
    const owner = c.owner;
    const kind = 'scopes';
    this.add(w, 1, kind);
    if (owner) {
      for (const [name, decl] of owner.locals) {
        if (Object.prototype.hasOwnProperty.call(vals, name)) this.prop(w, name, vals[name], false, kind);
        else {
          // a local no closure uses: V8 dropped it, its value is not known (a declared function is)
          this.add(w, this.nameVars(name), kind);
          if (decl) w.staticDecls.push(decl);
        }
      }
      if (owner.usesArguments) this.add(w, this.nameVars('arguments') + 1 + owner.params.length, kind);
      for (const name of Object.keys(vals)) if (!owner.locals.has(name)) this.prop(w, name, vals[name], false, kind);
    } else for (const name of Object.keys(vals)) this.prop(w, name, vals[name], false, kind);
  }

}
