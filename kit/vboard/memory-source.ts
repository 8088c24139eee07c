// What the image's source says, for the memory model (memory.ts): every function, its
// parameters and locals, as Espruino keeps them in a scope.
import * as acorn from 'acorn';
import { pretokenise } from '../flash/pretokenise.ts';

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
  /** that body's text */
  code: string;
  /** innermost first */
  parents: StaticFn[];
  /** its source text (what Function.prototype.toString gives) */
  text: string;
  /** called where it is defined, outside any loop, inside functions that run once: it runs once */
  once: boolean;
  /** every enclosing function runs once: there is one scope of each, whatever the instance */
  singleChain: boolean;
}

export type AnyNode = acorn.Node & Record<string, any>;

/** What the parser found in a program. */
export interface SourceInfo {
  /** its functions by V8 location key */
  fns: Map<string, StaticFn>;
  /** names it uses without declaring them (built-in globals such as Uint8Array, E, Serial1) */
  globals: Set<string>;
  /** functions by source text (null where two share a text) */
  byText: Map<string, StaticFn | null>;
}

export const staticCache = new Map<string, SourceInfo>();

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
  const codeText = (body: AnyNode) => {
    if (body.type !== 'BlockStatement') return source.slice(body.start, body.end);
    const st = body.body as AnyNode[];
    if (!st.length) return '';
    const first = st[0].type === 'ReturnStatement' ? (st[0].argument ?? st[0]) : st[0];
    return source.slice(first === st[0] && st[0].type === 'ReturnStatement' ? st[0].end : first.start, st[st.length - 1].end);
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
        code: codeText(body),
        codeChars: codeText(body).length,
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

const tokenisedBytes = new WeakMap<StaticFn, number>();
/** bytes of a function's code pretokenised (its plain length where the tokeniser refuses it) */
export function pretokenisedBytes(f: StaticFn): number {
  let n = tokenisedBytes.get(f);
  if (n === undefined) {
    try {
      n = pretokenise(f.code).length;
    } catch {
      n = f.codeChars;
    }
    tokenisedBytes.set(f, n);
  }
  return n;
}
