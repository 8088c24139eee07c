// Source rewrites for what Espruino 2v29 does differently and V8 offers no hook for, applied
// to the image before it runs in the virtual board (src/jsparse.c behaviour):
//  - `x.length = v` throws `TypeError: Assignment to a constant` when x is an array (Espruino
//    arrays' length is read-only); it becomes `<setLength>(x, v)`, which does that check;
//  - a `switch` with `default:` before a `case` is a SyntaxError ("CASE after DEFAULT
//    unsupported") when it runs; it becomes a statement that throws it;
//  - a built-in method read through a constructor's prototype (`Array.prototype.slice`,
//    `Function.prototype.call`) is undefined there: Espruino finds built-in methods through
//    instances only (Object.prototype's toString/valueOf/hasOwnProperty excepted); such a read
//    becomes `<protoGet>(Array.prototype, "slice")`, which gives undefined unless the code
//    put its own function there;
//  - a backslash-newline inside a string literal keeps the newline (V8 drops both).
// Anything acorn cannot parse runs unchanged (the build's profile check rejects it anyway).
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

/** the hidden globals the rewritten code calls (runtime.js defines them, non-enumerable) */
export const SET_LENGTH = '\u0275vbSetLength';
export const PROTO_GET = '\u0275vbProtoGet';

/** constructors whose prototype hides the built-in methods (Object's own are reachable) */
const PROTO_HIDDEN = new Set(['Array', 'String', 'Number', 'Boolean', 'Function', 'Date', 'RegExp', 'Error', 'TypeError', 'SyntaxError',
  'ReferenceError', 'Promise', 'ArrayBuffer', 'DataView', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array',
  'Int32Array', 'Float32Array', 'Float64Array', 'Uint8ClampedArray']);

interface Edit {
  at: number;
  del: number;
  text: string;
}

const cache = new Map<string, string>();

/** is the backslash at raw[i] itself escaped (preceded by an odd number of backslashes)? */
function isEscaped(raw: string, i: number): boolean {
  let n = 0;
  while (i - 1 - n >= 0 && raw[i - 1 - n] === '\\') n++;
  return n % 2 === 1;
}

export function transformImage(src: string): string {
  if (!/\.length\s*=[^=]|default\s*:|\.prototype\b|\\\r?\n/.test(src)) return src;
  const hit = cache.get(src);
  if (hit !== undefined) return hit;
  let ast: acorn.Node;
  try {
    ast = acorn.parse(src, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true });
  } catch {
    return src;
  }
  const edits: Edit[] = [];
  // member expressions that are written, deleted or updated stay as they are
  const targets = new Set<acorn.Node>();
  walk.full(ast, (n) => {
    if (n.type === 'AssignmentExpression') targets.add((n as acorn.AssignmentExpression).left);
    else if (n.type === 'UpdateExpression') targets.add((n as acorn.UpdateExpression).argument);
    else if (n.type === 'UnaryExpression' && (n as acorn.UnaryExpression).operator === 'delete') targets.add((n as acorn.UnaryExpression).argument);
    else if (n.type === 'ForInStatement' || n.type === 'ForOfStatement') targets.add((n as acorn.ForInStatement).left);
  });
  walk.full(ast, (n) => {
    if (n.type === 'MemberExpression' && !targets.has(n)) {
      const m = n as acorn.MemberExpression;
      const o = m.object;
      const name = !m.computed && m.property.type === 'Identifier' ? m.property.name
        : m.computed && m.property.type === 'Literal' && typeof m.property.value === 'string' ? m.property.value : null;
      if (name && o.type === 'MemberExpression' && !o.computed && o.property.type === 'Identifier' && o.property.name === 'prototype' &&
          o.object.type === 'Identifier' && PROTO_HIDDEN.has(o.object.name) && !m.optional) {
        edits.push({ at: m.start, del: 0, text: PROTO_GET + '(' });
        edits.push({ at: o.end, del: m.end - o.end, text: ', ' + JSON.stringify(name) + ')' });
      }
      return;
    }
    if (n.type === 'Literal' && typeof (n as acorn.Literal).value === 'string') {
      const raw = (n as acorn.Literal).raw ?? '';
      if (/\\\r?\n/.test(raw)) edits.push({ at: n.start, del: n.end - n.start, text: raw.replace(/\\(?:\r\n|\n)/g, (m, i) => (isEscaped(raw, i) ? m : '\\n')) });
      return;
    }
    if (n.type === 'AssignmentExpression') {
      const a = n as acorn.AssignmentExpression;
      const left = a.left;
      if (a.operator !== '=' || left.type !== 'MemberExpression' || left.computed || left.property.type !== 'Identifier' || left.property.name !== 'length') return;
      if (left.object.type === 'Super') return;
      const dot = src.lastIndexOf('.', left.property.start);
      edits.push({ at: a.start, del: 0, text: SET_LENGTH + '(' });
      edits.push({ at: dot, del: a.right.start - dot, text: ', ' });
      edits.push({ at: a.end, del: 0, text: ')' });
    } else if (n.type === 'SwitchStatement') {
      const s = n as acorn.SwitchStatement;
      const d = s.cases.findIndex((c) => !c.test);
      if (d >= 0 && d < s.cases.length - 1)
        edits.push({ at: s.start, del: s.end - s.start, text: 'throw new SyntaxError("CASE after DEFAULT unsupported");' });
    }
  });
  // a rewritten switch swallows the edits inside it; a rewritten string literal has none inside
  const whole = edits.filter((e) => e.del && e.text.startsWith('throw'));
  const kept = edits.filter((e) => whole.every((w) => w === e || e.at < w.at || e.at >= w.at + w.del));
  kept.sort((x, y) => y.at - x.at);
  let out = src;
  for (const e of kept) out = out.slice(0, e.at) + e.text + out.slice(e.at + e.del);
  if (cache.size > 16) cache.clear();
  cache.set(src, out);
  return out;
}

/**
 * The boot code with the resident core in place of its top-level `eval(<the core's code>)`
 * (tools/build.ts coreAtRoot): `if(<hook>(<argument>)){<core>}`. Espruino runs that eval in the
 * global scope, so the core's functions and variables are globals; here they are too (a
 * function declared in a block at a script's top level is a global, ES2015 Annex B.3.3), and
 * they stand in the one boot script, where the memory model finds every function by its
 * position. The hook evaluates the argument as eval would when it is not the core (a damaged
 * Storage file, another image's core) and says whether the block is to run. Null when the boot
 * code has no such eval.
 */
export function rootCoreSource(image: string, core: string, hook: string): string | null {
  const [e] = topLevelEvalCalls(image);
  if (!e) return null;
  const arg = e.arguments[0];
  return image.slice(0, e.start) + `if(${hook}(${image.slice(arg.start, arg.end)})){\n${core}\n}` + image.slice(e.end);
}

/** The script with each top-level `eval(<argument>)` statement made `<hook>(<argument>)`: a
 * script that runs saved code (the stand-in's boot step) then gives its evals the code as
 * Espruino's lexer reads it, in the global scope, as Espruino runs them there. */
export function topLevelEvals(src: string, hook: string): string {
  let out = src;
  for (const e of topLevelEvalCalls(src).reverse()) out = out.slice(0, e.callee.start) + hook + out.slice(e.callee.end);
  return out;
}

/** The calls `eval(<one argument>)` that are statements of the script's top level, in order
 * (none when it does not parse). */
function topLevelEvalCalls(src: string): acorn.CallExpression[] {
  if (!src.includes('eval(')) return [];
  let ast: acorn.Program;
  try {
    ast = acorn.parse(src, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true });
  } catch {
    return [];
  }
  const calls: acorn.CallExpression[] = [];
  for (const st of ast.body) {
    if (st.type !== 'ExpressionStatement') continue;
    const e = st.expression;
    if (e.type === 'CallExpression' && e.callee.type === 'Identifier' && e.callee.name === 'eval' && e.arguments.length === 1) calls.push(e);
  }
  return calls;
}
