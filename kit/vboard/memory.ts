/**
 * process.memory() for the virtual board: an estimate of the variables (JsVars) Espruino 2v29
 * would hold for the same program, following the interpreter's own storage rules
 * (src/jsvar.c, src/jsparse.c, src/jswrap_object.c of RELEASE_2V29) and calibrated against the
 * Linux build (tools/bench/memory.ts prints the calibration table).
 *
 * It walks what the image can reach (the global object, the runtime's timers, watches and
 * modules) and, unlike a plain object walk, the closures too: V8's own scope objects are read
 * through the inspector protocol (node:inspector, in-process and synchronous), and the image's
 * source is parsed (acorn) so that each closure scope is costed the way Espruino keeps it (every
 * parameter and local of the invocation, not only what V8 keeps). See README.md, "Memory".
 */
import inspector from 'node:inspector';
import * as acorn from 'acorn';

// ------------------------------------------------------------------ the variable layout

/** Sizes that decide how many variables a value takes (jsutils.h). */
export interface VarLayout {
  /** bytes per variable (process.memory().blocksize) */
  blocksize: number;
  /** characters in the first variable of a name (JSVAR_DATA_STRING_NAME_LEN) */
  nameChars: number;
  /** characters in the first variable of a string (JSVAR_DATA_STRING_LEN) */
  stringChars: number;
  /** characters in each extension variable (JSVAR_DATA_STRING_MAX_LEN) */
  extChars: number;
  /** integers in [inlineMin, inlineMax] are stored inside their name (JSVARREF_MIN/MAX) */
  inlineMin: number;
  inlineMax: number;
  /** strings made for byte storage longer than this are flat (JSV_FLAT_STRING_BREAK_EVEN) */
  flatBreakEven: number;
}

/**
 * The layout of a board's build: 64-bit pointers on the Linux build (8 name characters),
 * 32-bit on the boards (4); references as wide as the variable count needs (13 bits for
 * 5,100 variables), 32 bits on the resizable Linux build (`resizable`, or the linux board's
 * nominal 65,535).
 */
export function varLayout(espruinoBoard: string, variables: number, resizable = espruinoBoard === 'LINUX' && variables >= 65535): VarLayout {
  const word = espruinoBoard === 'LINUX' ? 8 : 4;
  let ref: number, count: number, pack = 0;
  if (resizable) [ref, count] = [32, 8];
  else if (variables <= 254) [ref, count, pack] = [8, 6, 8];
  else if (variables <= 1023) [ref, count, pack] = [10, 6, 2];
  else if (variables <= 2047) [ref, count] = [11, 4];
  else if (variables <= 4095) [ref, count] = [12, 8];
  else if (variables <= 8191) [ref, count] = [13, 4];
  else if (variables <= 16383) [ref, count] = [14, 8];
  else [ref, count] = [16, 8];
  const stringChars = word + ((ref * 3 + pack) >> 3);
  const extChars = word + ((ref * 3 + pack + count) >> 3);
  const inlineMax = ref >= 32 ? 2147483647 : (1 << (ref - 1)) - 1;
  return {
    blocksize: word + Math.ceil((ref * 4 + count + pack) / 8) + 2,
    nameChars: word,
    stringChars,
    extChars,
    inlineMin: -inlineMax - 1,
    inlineMax,
    flatBreakEven: stringChars + extChars
  };
}

// ------------------------------------------------------------------ what the source says

/** One function of the image, as the parser sees it. */
export interface StaticFn {
  /** V8's [[FunctionLocation]] of it: 0-based line and column of its '(' */
  key: string;
  params: string[];
  /** no statement in the body: Espruino stores neither code nor scope */
  empty: boolean;
  /** `function foo(){}` used as an expression: Espruino keeps the name (and adds it to each call's scope) */
  internalName: string | null;
  /** every name a call of it declares (parameters, var, function declarations, its own name) */
  locals: Map<string, StaticFn | null>;
  usesArguments: boolean;
  /** enclosing functions (0 at the top level): the scopes Espruino stores with it */
  depth: number;
  /** characters of its body (its code, when it is kept in RAM rather than in flash) */
  codeChars: number;
  /** innermost first */
  parents: StaticFn[];
  /** its source text (what Function.prototype.toString gives) */
  text: string;
  /** called where it is defined, outside any loop, inside functions that run once: it runs once */
  once: boolean;
  /** every enclosing function runs once: there is one scope of each, whatever the instance */
  singleChain: boolean;
}

type AnyNode = acorn.Node & Record<string, any>;

/** What the parser found in a program. */
export interface SourceInfo {
  /** its functions by V8 location key */
  fns: Map<string, StaticFn>;
  /** names it uses without declaring them (built-in globals such as Uint8Array, E, Serial1) */
  globals: Set<string>;
  /** functions by source text (null where two share a text) */
  byText: Map<string, StaticFn | null>;
}

const staticCache = new Map<string, SourceInfo>();

/** The functions and free names of `source`; cached per source text. */
export function analyseSource(source: string): SourceInfo {
  const hit = staticCache.get(source);
  if (hit) return hit;
  const out = new Map<string, StaticFn>();
  const used = new Set<string>();
  const declared = new Set<string>();
  const info: SourceInfo = { fns: out, globals: new Set(), byText: new Map() };
  let ast: AnyNode;
  try {
    ast = acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true }) as AnyNode;
  } catch {
    staticCache.set(source, info);
    return info;
  }
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const loc = (off: number) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    return `${lo}:${off - lineStarts[lo]}`;
  };
  const declare = (fn: StaticFn | null, name: string, decl: StaticFn | null) => {
    declared.add(name);
    if (!fn) return;
    if (!fn.locals.has(name) || decl) fn.locals.set(name, decl);
  };
  const patternNames = (p: AnyNode, into: string[]) => {
    if (!p) return;
    if (p.type === 'Identifier') into.push(p.name);
    else if (p.type === 'AssignmentPattern') patternNames(p.left, into);
    else if (p.type === 'RestElement') patternNames(p.argument, into);
    else if (p.type === 'ArrayPattern') for (const e of p.elements) patternNames(e, into);
    else if (p.type === 'ObjectPattern') for (const pr of p.properties) patternNames(pr.value ?? pr.argument, into);
  };
  // the code Espruino keeps: first to last token of the body (after a leading `return`)
  const codeChars = (body: AnyNode) => {
    if (body.type !== 'BlockStatement') return body.end - body.start;
    const st = body.body as AnyNode[];
    if (!st.length) return 0;
    const first = st[0].type === 'ReturnStatement' ? (st[0].argument ?? st[0]) : st[0];
    return st[st.length - 1].end - (first === st[0] && st[0].type === 'ReturnStatement' ? st[0].end : first.start);
  };
  const LOOPS = new Set(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement']);
  const visit = (node: AnyNode | null, fn: StaticFn | null, parents: StaticFn[], parent: AnyNode | null = null, loop = false) => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression') {
      const open = node.type === 'ArrowFunctionExpression' ? node.start : source.indexOf('(', node.id ? node.id.end : node.start);
      const params: string[] = [];
      for (const p of node.params) patternNames(p, params);
      const body = node.body as AnyNode;
      const isBlock = body.type === 'BlockStatement';
      const f: StaticFn = {
        key: loc(open),
        params,
        empty: isBlock ? body.body.length === 0 : false,
        internalName: node.type === 'FunctionExpression' && node.id ? node.id.name : null,
        locals: new Map(),
        usesArguments: false,
        depth: parents.length,
        codeChars: codeChars(body),
        parents,
        text: source.slice(node.start, node.end),
        once: !loop && !!parent && parent.type === 'CallExpression' && parent.callee === node && parents.every((p) => p.once),
        singleChain: parents.every((p) => p.once)
      };
      info.byText.set(f.text, info.byText.has(f.text) ? null : f);
      for (const p of params) {
        f.locals.set(p, null);
        declared.add(p);
      }
      if (f.internalName) f.locals.set(f.internalName, null);
      if (node.type === 'FunctionDeclaration' && node.id) declare(fn, node.id.name, f);
      out.set(f.key, f);
      const inner = [f, ...parents];
      for (const p of node.params) visit(p, f, inner, node);
      visit(body, f, inner, node);
      return;
    }
    if (node.type === 'VariableDeclaration') {
      for (const d of node.declarations) {
        const names: string[] = [];
        patternNames(d.id, names);
        for (const n of names) declare(fn, n, null);
      }
    } else if (node.type === 'Identifier') {
      if (node.name === 'arguments' && fn) fn.usesArguments = true;
      used.add(node.name);
    } else if (node.type === 'CatchClause' && node.param) {
      const names: string[] = [];
      patternNames(node.param, names);
      for (const n of names) declared.add(n);
    } else if (node.type === 'MemberExpression' && !node.computed) {
      visit(node.object, fn, parents, node, loop);
      return;
    } else if (node.type === 'Property' && !node.computed) {
      visit(node.value, fn, parents, node, loop);
      return;
    }
    const inLoop = loop || LOOPS.has(node.type);
    for (const k of Object.keys(node)) {
      if (k === 'type' || k === 'start' || k === 'end') continue;
      const v = node[k];
      if (Array.isArray(v)) for (const c of v) visit(c as AnyNode, fn, parents, node, inLoop);
      else if (v && typeof v === 'object' && typeof (v as AnyNode).type === 'string') visit(v as AnyNode, fn, parents, node, inLoop);
    }
  };
  visit(ast, null, []);
  for (const n of used) if (!declared.has(n)) info.globals.add(n);
  staticCache.set(source, info);
  return info;
}

// ------------------------------------------------------------------ the inspector

interface RemoteObject { type: string; subtype?: string; objectId?: string; value?: unknown; description?: string }
interface PropertyDescriptor { name: string; value?: RemoteObject }
interface ScopeEntry { description: string; object: Record<string, unknown> }

let session: inspector.Session | null = null;
let sessionFailed = false;

function post<T>(method: string, params: object): T {
  if (!session) throw new Error('no inspector session');
  let result: T | undefined;
  let error: Error | null = null;
  let done = false;
  session.post(method, params, (e: Error | null, r: unknown) => {
    error = e;
    result = r as T;
    done = true;
  });
  if (!done) throw new Error(`inspector: ${method} did not answer synchronously`);
  if (error) throw error;
  return result as T;
}

function connect(): boolean {
  if (session) return true;
  if (sessionFailed) return false;
  try {
    session = new inspector.Session();
    session.connect();
    return true;
  } catch {
    session = null;
    sessionFailed = true;
    return false;
  }
}

const GROUP = 'vboard-memory';
/** Host-side hand-over slots: objects are put here and read back by the inspector. */
const handIn: unknown[] = [];
const handOut: unknown[] = [];
const HAND = '__vboardMemoryHand';

/** V8's view of a function: where it was defined, its closure scopes (innermost first), bound target. */
interface FnView {
  scriptId: string | null;
  line: number;
  col: number;
  scopes: ScopeEntry[];
  bound: { target: unknown; args: unknown[] } | null;
}

/** Reads [[FunctionLocation]], [[Scopes]] and bound-function internals of each function. */
function inspectFunctions(fns: Function[]): FnView[] {
  handIn.length = 0;
  handIn.push(...fns);
  const g = globalThis as Record<string, unknown>;
  g[HAND] = [handIn, handOut];
  try {
    const pair = post<{ result: RemoteObject }>('Runtime.evaluate', { expression: `globalThis.${HAND}`, objectGroup: GROUP }).result;
    const two = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: pair.objectId, ownProperties: true, objectGroup: GROUP }).result;
    const inId = two.find((p) => p.name === '0')!.value!.objectId!;
    const outId = two.find((p) => p.name === '1')!.value!.objectId!;
    const items = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: inId, ownProperties: true, objectGroup: GROUP }).result;
    const ids = new Map<string, string>();
    for (const p of items) if (p.value?.objectId && /^\d+$/.test(p.name)) ids.set(p.name, p.value.objectId);
    const fetch = (objectId: string): unknown => {
      post('Runtime.callFunctionOn', { objectId, functionDeclaration: 'function(o){o.push(this)}', arguments: [{ objectId: outId }], objectGroup: GROUP });
      return handOut.pop();
    };
    const views: FnView[] = [];
    for (let i = 0; i < fns.length; i++) {
      const view: FnView = { scriptId: null, line: -1, col: -1, scopes: [], bound: null };
      views.push(view);
      const id = ids.get(String(i));
      if (!id) continue;
      const props = post<{ internalProperties?: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: id, ownProperties: true, objectGroup: GROUP });
      for (const ip of props.internalProperties ?? []) {
        if (ip.name === '[[FunctionLocation]]' && ip.value?.value) {
          const v = ip.value.value as { scriptId: string; lineNumber: number; columnNumber: number };
          view.scriptId = v.scriptId;
          view.line = v.lineNumber;
          view.col = v.columnNumber;
        } else if (ip.name === '[[Scopes]]' && ip.value?.objectId) {
          const arr = fetch(ip.value.objectId) as ArrayLike<ScopeEntry> | undefined;
          view.scopes = arr ? Array.from(arr) : [];
        } else if (ip.name === '[[TargetFunction]]' && ip.value?.objectId) {
          view.bound = view.bound ?? { target: null, args: [] };
          view.bound.target = fetch(ip.value.objectId);
        } else if (ip.name === '[[BoundArgs]]' && ip.value?.objectId) {
          view.bound = view.bound ?? { target: null, args: [] };
          const a = fetch(ip.value.objectId) as ArrayLike<unknown> | undefined;
          view.bound.args = a ? Array.from(a) : [];
        }
      }
    }
    return views;
  } finally {
    handIn.length = 0;
    handOut.length = 0;
    delete g[HAND];
    try {
      post('Runtime.releaseObjectGroup', { objectGroup: GROUP });
    } catch {
      /* ignore */
    }
  }
}

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
  /** the runtime's entry points (functions of the runtime, whose closure holds its registries) */
  runtime: object;
  layout: VarLayout;
  /** pending timers: id and whether it repeats */
  timers(): { id: number; interval: boolean }[];
}

/** Variables Espruino itself holds after boot with no program (root, hidden state). */
export const BASE_VARIABLES = 51;

/** Built-in objects that take variables in root once used, and how many. */
const OBJECT_ROOTS: Record<string, number> = { E: 2, Math: 3, JSON: 0, process: 0, console: 0, Object: 0, Function: 0 };
/** Built-in classes: used by name they take a root entry; once an instance's property is looked
 * up (or one is constructed), also their prototype (jspNewPrototype: name, function, prototype,
 * constructor). */
const CLASSES = new Set(['Array', 'String', 'Number', 'Boolean', 'Date', 'RegExp', 'Error', 'TypeError', 'RangeError', 'SyntaxError',
  'ReferenceError', 'InternalError', 'Promise', 'ArrayBuffer', 'DataView', 'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array',
  'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array']);
/** classes a program uses by name only to construct them */
const CONSTRUCTED = /^(?:Date|RegExp|\w*Error|Promise|ArrayBuffer|DataView|\w+Array)$/;
const TYPED = /^(?:Uint8|Int8|Uint8Clamped|Uint16|Int16|Uint32|Int32|Float32|Float64)Array$/;

/** A closure scope: one call of a function (Espruino's function root). */
interface Ctx {
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

interface FnRecord {
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

const INDEX_RE = /^(?:0|[1-9]\d{0,9})$/;
const SKIP_FN_PROPS = new Set(['length', 'name', 'prototype', 'arguments', 'caller']);
const isRef = (v: unknown): v is object => v !== null && (typeof v === 'object' || typeof v === 'function');

/** V8's closure scopes, innermost first; block, catch and with scopes join the closure around them. */
function closureScopes(scopes: ScopeEntry[]): Record<string, unknown>[] {
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
interface Walk {
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
export class MemoryModel {
  /** debugging: the last walk's variables by kind (set to {} to collect) */
  tally: Record<string, number> | null = null;
  private host: MemoryHost;
  private L: VarLayout;
  private src: SourceInfo;
  private fns = new WeakMap<Function, FnRecord>();
  /** known scopes by owner (the function whose call made them) */
  private ctxIndex = new Map<string, Set<Ctx>>();
  /** the scopes of functions that run once */
  private onceCtxs = new Map<StaticFn, Ctx>();
  /** scripts of the board's own layers (runtime, Espruino library): their functions are built in */
  private hostScripts: Set<string> | null = null;
  private imageScript: string | null = null;
  private walkId = 0;
  private objProto: object;
  private arrProto: object;
  private serialProto: object | null;
  private inspectorOk: boolean;
  /** objects of native modules: built in, they cost nothing beyond the module itself */
  private nativeObjs = new WeakSet<object>();
  /** built-in objects by their global name */
  private rootNames = new Map<object, string>();
  /** Espruino's lazily made root entries: name -> 'entry' or 'proto' (kept for the power-up) */
  private roots = new Map<string, 'entry' | 'proto'>();

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

  private strVars(len: number): number {
    const L = this.L;
    return len <= L.stringChars ? 1 : 1 + Math.ceil((len - L.stringChars) / L.extChars);
  }

  private nameVars(name: string): number {
    if (INDEX_RE.test(name) && +name < 4294967295) return 1;
    const L = this.L;
    return name.length <= L.nameChars ? 1 : 1 + Math.ceil((name.length - L.nameChars) / L.extChars);
  }

  /** bytes of an ArrayBuffer: a flat string when long, else a chain of string variables */
  private bufferVars(bytes: number): number {
    const L = this.L;
    if (bytes > L.flatBreakEven) return 1 + Math.ceil(bytes / L.blocksize);
    return this.strVars(bytes);
  }

  /** the \xFFsco entry: nothing at the top level, a reference for one scope, a copied array beyond */
  private scopeRefVars(depth: number): number {
    if (depth <= 0) return 0;
    if (depth === 1) return 1;
    return 2 + depth;
  }

  /** a function object as Espruino makes it from the source */
  private staticFnVars(f: StaticFn): number {
    let n = 1;
    for (const p of f.params) n += this.nameVars('\xff' + p);
    if (!f.empty) n += 1 + (this.host.codeInRam ? this.strVars(f.codeChars) : 1) + this.scopeRefVars(f.depth);
    if (f.internalName) n += 1 + this.strVars(f.internalName.length);
    return n;
  }

  private isDevice(v: unknown): boolean {
    return !!this.serialProto && isRef(v) && Object.getPrototypeOf(v) === this.serialProto;
  }

  private useRoot(name: string, level: 'entry' | 'proto'): void {
    if (this.roots.get(name) !== 'proto') this.roots.set(name, level);
    if (this.isDevice((this.host.global as Record<string, unknown>)[name])) this.roots.set('Serial', 'proto');
  }

  /** variables of the root entries made so far */
  private rootVars(): number {
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

  private add(w: Walk, k: number, kind: string): void {
    w.n += k;
    if (this.tally) this.tally[kind] = (this.tally[kind] ?? 0) + k;
  }

  /** a value beside its name: inline small ints (and booleans under an index), else its variables */
  private value(w: Walk, v: unknown, intName: boolean): number {
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

  private prop(w: Walk, name: string, v: unknown, intName: boolean, kind = 'properties'): void {
    this.add(w, this.nameVars(name) + this.value(w, v, intName), kind);
  }

  /** own properties of o, but those `skip` says */
  private ownProps(w: Walk, o: object, skip: (k: string) => boolean): void {
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

  private walk(roots: unknown[], whole: boolean): number {
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

  private visit(w: Walk, o: unknown): void {
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

  private isOwnConstructor(o: object): boolean {
    const d = Object.getOwnPropertyDescriptor(o, 'constructor');
    if (!d || d.enumerable || typeof d.value !== 'function') return false;
    try {
      return Object.getOwnPropertyDescriptor(d.value, 'prototype')?.value === o;
    } catch {
      return false;
    }
  }

  /** an object whose prototype is not the default one carries a __proto__ link */
  private protoLink(w: Walk, p: object): void {
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
  private protoOf(w: Walk, f: Function): void {
    if (w.protoCounted.has(f)) return;
    w.protoCounted.add(f);
    this.add(w, this.nameVars('prototype'), 'functions');
  }

  private fn(w: Walk, f: Function, r: FnRecord): void {
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
  private scope(w: Walk, c: Ctx): void {
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

  // -------------------------------------------------------------- functions and their scopes

  private recordFunctions(fns: Function[], walkId: number): [Function, FnRecord][] {
    this.findHostScripts();
    const views = this.safeInspect(fns);
    return fns.map((f, i) => {
      const r = this.makeRecord(f, views[i], walkId);
      this.fns.set(f, r);
      return [f, r] as [Function, FnRecord];
    });
  }

  private safeInspect(fns: Function[]): FnView[] {
    if (this.inspectorOk) {
      try {
        return inspectFunctions(fns);
      } catch {
        /* below */
      }
    }
    return fns.map(() => ({ scriptId: null, line: -1, col: -1, scopes: [], bound: null }));
  }

  private makeRecord(f: Function, v: FnView, walkId: number): FnRecord {
    // a bound function: the function, \xFFths and the bound arguments
    if (v.bound) return { kind: 'bound', info: null, own: 3, chain: [], v8: [], bound: v.bound };
    if (v.scriptId !== null && this.hostScripts?.has(v.scriptId)) return { kind: 'builtin', info: null, own: 0, chain: [], v8: [], bound: null };
    let info: StaticFn | null = null;
    if (v.scriptId !== null && (this.imageScript === null || this.imageScript === v.scriptId)) {
      info = this.src.fns.get(`${v.line}:${v.col}`) ?? null;
      if (info && this.imageScript === null) this.imageScript = v.scriptId;
    }
    const v8Scopes = closureScopes(v.scopes);
    let own: number;
    if (info) own = this.staticFnVars(info);
    else {
      // code made at run time (eval, the REPL): kept in RAM
      own = 1 + f.length;
      let src = '';
      try {
        src = Function.prototype.toString.call(f);
      } catch {
        src = '';
      }
      const body = src.slice(src.indexOf('{') + 1, src.lastIndexOf('}')).trim();
      if (body.length) own += 1 + this.strVars(body.length) + this.scopeRefVars(v8Scopes.length);
    }

    // match V8's scopes with the source's enclosing functions, innermost first: V8 keeps no
    // scope for a call none of whose variables a closure uses; Espruino keeps every one
    const parents = info ? info.parents : [];
    const order: { i: number; owner: StaticFn | null }[] = [];
    if (!(info && info.empty)) {
      let q = 0;
      this.matchScopes(v8Scopes, parents).forEach((hit, i) => {
        if (hit < 0) order.push({ i, owner: null });
        else {
          for (; q < hit; q++) order.push({ i: -1, owner: parents[q] });
          order.push({ i, owner: parents[hit] });
          q = hit + 1;
        }
      });
      for (; q < parents.length; q++) order.push({ i: -1, owner: parents[q] });
    }
    const chain: Ctx[] = new Array(order.length);
    const v8: (Ctx | null)[] = v8Scopes.map(() => null);
    let outer: Ctx | null = null;
    for (let k = order.length - 1; k >= 0; k--) {
      const { i, owner } = order[k];
      let c: Ctx;
      if (owner?.once) {
        c = this.onceCtx(owner);
        if (i >= 0) Object.assign(c, { values: v8Scopes[i], refreshed: walkId, noV8: false });
        if (!c.rep) c.rep = f;
      } else c = i >= 0 ? this.findCtx(owner, outer, v8Scopes[i], f, i, walkId) : this.findPhantom(owner!, outer, walkId);
      chain[k] = c;
      if (i >= 0) v8[i] = c;
      outer = c;
    }
    return { kind: info ? 'image' : 'ram', info, own, chain, v8, bound: null };
  }

  /** the scope of a function that runs once */
  private onceCtx(owner: StaticFn): Ctx {
    let c = this.onceCtxs.get(owner);
    if (!c) this.onceCtxs.set(owner, (c = { owner, outer: null, values: null, rep: null, repIndex: -1, refreshed: 0, counted: 0, index: owner.key, once: true }));
    return c;
  }

  /**
   * A function of the image known by its source text whose enclosing functions all run once:
   * its scopes are known without asking V8 (only one function per scope is asked, for values).
   */
  private quickRecord(f: Function): FnRecord | null {
    let text: string;
    try {
      text = Function.prototype.toString.call(f);
    } catch {
      return null;
    }
    const info = this.src.byText.get(text);
    if (!info || !info.singleChain) return null;
    const chain = info.empty ? [] : info.parents.map((p) => this.onceCtx(p));
    for (const c of chain) if (!c.rep) c.rep = f;
    const r: FnRecord = { kind: 'image', info, own: this.staticFnVars(info), chain, v8: [], bound: null };
    this.fns.set(f, r);
    return r;
  }

  /** match V8's closure scopes (innermost first) with a function's enclosing functions: index
   * into `parents` for each, -1 where none fits */
  private matchScopes(v8Scopes: Record<string, unknown>[], parents: StaticFn[]): number[] {
    const out: number[] = [];
    let q = 0;
    for (const vals of v8Scopes) {
      const names = Object.keys(vals);
      let hit = -1;
      for (let k = q; k < parents.length; k++) {
        if (names.every((nm) => parents[k].locals.has(nm))) {
          hit = k;
          break;
        }
      }
      out.push(hit);
      if (hit >= 0) q = hit + 1;
    }
    return out;
  }

  private indexCtx(c: Ctx): void {
    let set = this.ctxIndex.get(c.index);
    if (!set) this.ctxIndex.set(c.index, (set = new Set()));
    set.add(c);
  }

  /** the scope V8 shows as `vals`: a known one (same owner, same scope around it, same values) or a new one */
  private findCtx(owner: StaticFn | null, outer: Ctx | null, vals: Record<string, unknown>, rep: Function, repIndex: number, walkId: number): Ctx {
    const names = Object.keys(vals);
    const index = owner ? owner.key : '?' + names.slice().sort().join(',');
    const list = [...(this.ctxIndex.get(index) ?? [])].filter((c) => c.outer === outer);
    const stale = list.filter((c) => c.values && c.refreshed !== walkId);
    if (stale.length) this.refresh(stale, walkId);
    for (const c of list) {
      const cv = c.values;
      if (cv && names.length === Object.keys(cv).length && names.every((k) => Object.prototype.hasOwnProperty.call(cv, k) && Object.is(cv[k], vals[k]))) return c;
    }
    // a scope first met through functions that do not use it is this one
    const ph = list.find((c) => !c.values);
    if (ph) {
      Object.assign(ph, { values: vals, rep, repIndex, refreshed: walkId });
      return ph;
    }
    const c: Ctx = { owner, outer, values: vals, rep, repIndex, refreshed: walkId, counted: 0, index };
    this.indexCtx(c);
    return c;
  }

  /** a call's scope V8 does not show: the known one with that owner around the same scope (a
   * function called once, as a module or class wrapper is), or a new one */
  private findPhantom(owner: StaticFn, outer: Ctx | null, walkId: number): Ctx {
    for (const c of this.ctxIndex.get(owner.key) ?? []) if (c.outer === outer) return c;
    const c: Ctx = { owner, outer, values: null, rep: null, repIndex: -1, refreshed: walkId, counted: 0, index: owner.key };
    this.indexCtx(c);
    return c;
  }

  /** re-read the variables of these scopes (through a function that reaches each) */
  private refresh(ctxs: Ctx[], walkId: number): void {
    this.refreshOnce(ctxs.filter((c) => c.once), walkId);
    ctxs = ctxs.filter((c) => !c.once);
    const reps: Function[] = [];
    for (const c of ctxs) if (c.rep && c.refreshed !== walkId && !reps.includes(c.rep)) reps.push(c.rep);
    if (reps.length && this.inspectorOk) {
      const views = this.safeInspect(reps);
      reps.forEach((f, i) => {
        const r = this.fns.get(f);
        if (!r) return;
        const scopes = closureScopes(views[i].scopes);
        r.v8.forEach((c, k) => {
          if (c && scopes[k]) {
            c.values = scopes[k];
            c.refreshed = walkId;
          }
        });
      });
    }
    for (const c of ctxs) c.refreshed = walkId;
  }

  /** re-read scopes of functions that run once: one function per scope, the innermost first
   * (its [[Scopes]] also show the scopes around it) */
  private refreshOnce(ctxs: Ctx[], walkId: number): void {
    const todo = ctxs.filter((c) => c.refreshed !== walkId && !c.noV8 && c.rep).sort((a, b) => b.owner!.depth - a.owner!.depth);
    const reps: Function[] = [];
    const covered = new Set<Ctx>();
    for (const c of todo) {
      if (covered.has(c)) continue;
      const info = this.fns.get(c.rep!)?.info;
      reps.push(c.rep!);
      covered.add(c);
      for (const p of info?.parents ?? []) if (p.once) covered.add(this.onceCtx(p));
    }
    if (reps.length && this.inspectorOk) {
      const views = this.safeInspect(reps);
      reps.forEach((f, i) => {
        const parents = this.fns.get(f)?.info?.parents ?? [];
        const scopes = closureScopes(views[i].scopes);
        const hits = this.matchScopes(scopes, parents);
        parents.forEach((p, k) => {
          if (!p.once) return;
          const c = this.onceCtx(p);
          const at = hits.indexOf(k);
          if (at >= 0) Object.assign(c, { values: scopes[at], noV8: false });
          else if (views[i].scriptId !== null) Object.assign(c, { values: null, noV8: true });
          c.refreshed = walkId;
        });
      });
    }
    for (const c of ctxs) c.refreshed = walkId;
  }

  // -------------------------------------------------------------- the runtime and built-ins

  /** the runtime's closure variables (read through one of its entry points) */
  private runtimeVars(): Record<string, unknown> {
    const rt = this.host.runtime as Record<string, unknown>;
    const probe = ['timer', 'watch', 'data', 'drain'].map((k) => rt[k]).find((v) => typeof v === 'function') as Function | undefined;
    const vars: Record<string, unknown> = {};
    if (!probe || !this.inspectorOk) return vars;
    const view = this.safeInspect([probe])[0];
    if (view.scriptId !== null) (this.hostScripts ??= new Set()).add(view.scriptId);
    for (const s of view.scopes) if ((s.description || '').startsWith('Closure')) Object.assign(vars, s.object);
    return vars;
  }

  /** which scripts are the board's own: the runtime's, and that of any helper library it holds */
  private findHostScripts(): void {
    if (this.hostScripts || !this.inspectorOk) return;
    const vars = this.runtimeVars();
    this.hostScripts ??= new Set();
    const probes: Function[] = [];
    for (const v of Object.values(vars)) {
      if (!isRef(v) || this.host.builtins.has(v)) continue;
      const f = Object.values(v as Record<string, unknown>).find((x) => typeof x === 'function') as Function | undefined;
      if (f && !this.host.builtins.has(f)) probes.push(f);
    }
    for (const view of probes.length ? this.safeInspect(probes) : []) {
      if (view.scriptId !== null && !this.src.fns.has(`${view.line}:${view.col}`)) this.hostScripts.add(view.scriptId);
    }
  }

  /** timers, watches and modules, which the runtime keeps in its closure */
  private registries(w: Walk): void {
    if (!this.inspectorOk) return;
    this.findHostScripts();
    const vars = this.runtimeVars();
    const kind = 'timers, watches, modules';
    const timers = vars.timerCbs as Record<string, { fn: unknown; args?: unknown[] }> | undefined;
    if (isRef(timers)) {
      const repeats = new Map(this.host.timers().map((t) => [String(t.id), t.interval]));
      for (const id of Object.keys(timers)) {
        const t = timers[id];
        if (!t) continue;
        // an object in the timer list: time (and its value), cb; intr for an interval; args
        this.add(w, 5 + (repeats.get(id) ? 2 : 0), kind);
        this.add(w, this.value(w, t.fn, false), kind);
        const args = t.args ?? [];
        if (args.length) {
          this.add(w, 2, kind);
          for (const a of args) this.add(w, 1 + this.value(w, a, true), kind);
        }
      }
    }
    const watches = vars.watchCbs as Record<string, { fn: unknown }> | undefined;
    if (isRef(watches)) {
      for (const id of Object.keys(watches)) {
        const wa = watches[id];
        if (!wa) continue;
        // an object in the watch list (pin, recur, edge, callback, state, lastTime...): 10,
        // measured on the Linux build (+2 with a debounce, which the runtime does not say)
        this.add(w, 10, kind);
        this.add(w, this.value(w, wa.fn, false), kind);
      }
    }
    const modules = vars.modules as Record<string, unknown> | undefined;
    const jsModules = (vars.jsModules ?? {}) as Record<string, boolean>;
    if (isRef(modules)) {
      for (const k of Object.keys(modules)) {
        const m = modules[k];
        if (!isRef(m)) continue;
        // its entry in the module list
        this.add(w, 2, kind);
        // a Storage module: its exports object, as any object of the program (its functions'
        // scope, the module's own, comes with them); a native one: built-in functions, free
        if (jsModules[k]) this.add(w, this.value(w, m, false), kind);
        else this.markModule(m);
      }
    }
  }

  /** a module object and the objects it holds are built in (their functions cost nothing) */
  private markModule(m: object): void {
    const todo: object[] = [m];
    while (todo.length) {
      const o = todo.pop()!;
      if (this.nativeObjs.has(o)) continue;
      this.nativeObjs.add(o);
      for (const k of Object.getOwnPropertyNames(o)) {
        let v: unknown;
        try {
          v = Object.getOwnPropertyDescriptor(o, k)?.value;
        } catch {
          v = undefined;
        }
        if (isRef(v) && !this.host.builtins.has(v)) todo.push(v);
      }
    }
  }

  /** what the image added to built-in objects (root variables, E.on/Serial1.on listeners...) */
  private builtinAdditions(w: Walk): void {
    for (const [o, known] of this.host.builtins) {
      let names: string[];
      try {
        names = Object.getOwnPropertyNames(o);
      } catch {
        continue;
      }
      if (names.length === known.size && names.every((k) => known.has(k))) continue;
      const root = this.rootNames.get(o);
      if (root) this.useRoot(root, 'entry');
      this.ownProps(w, o, (k) => known.has(k));
    }
  }
}
