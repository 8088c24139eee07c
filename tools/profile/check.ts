/**
 * Espruino 2v29 profile check for firmware images.
 *
 * Rules (the `rule` field of each error):
 *  - `syntax/<construct>`  ES2015+ syntax (the image must be ES5). <construct> is an `id` of
 *                          syntax-2v29.json (arrow, default-parameter, spread, ...). When the
 *                          construct cannot be named: `syntax/es5` (or `syntax/parse-error` when
 *                          the code does not parse at all).
 *  - `label`               labelled statement (broken on Espruino).
 *  - `missing-global`      free reference to a global missing on 2v29 (`Map`, `Symbol`, ...).
 *                          Local declarations (var, function, params, catch, let/const/class)
 *                          shadow it; property keys and `o.Map` are not references.
 *  - `missing-static`      `X.y` where X is a global constructor and y is missing
 *                          (`Array.from`, `Math.imul`, `Object.freeze`, `Uint32Array.from`...).
 *  - `missing-method`      call `.name(...)` where name is missing on every builtin prototype that
 *                          has it and present on none (`.at(`, `.trimStart(`, `.finally(`...).
 *                          Receivers' types are unknown, so a name present on some prototype
 *                          (`.lastIndexOf(` on String) is never flagged. `opts.allowMethods`
 *                          suppresses names that are the image's own methods.
 *  - `regex/<construct>`    a regular expression outside the subset Espruino 2v29's own engine
 *                          answers as V8 does (tools/profile/regex.ts, measured by the probes
 *                          of regex-2v29.json): `regex/counted-quantifier` for `x{32}`,
 *                          `regex/unicode-escape` for `\u007f`, ... The column points at the
 *                          construct inside the literal. Also: `new RegExp(...)` / `RegExp(...)`
 *                          (`regex/constructor`), and uses of a literal that differ (`g` outside
 *                          `.replace()`, `.match(/../g)`, `.split()` on a pattern with a group or
 *                          one matching "", replacement strings with `$&` `$$` and the like).
 *  - `native-crypto`       only when `opts.nativeCrypto` is given: a member `.SHA1`, `.SHA224`,
 *                          `.SHA256`, `.SHA384`, `.SHA512`, `.PBKDF2`, `.AES` whose library is not
 *                          in the board's list (`.AES.ccmEncrypt/ccmDecrypt` need "AES-CCM",
 *                          `.AES.encrypt/decrypt` need "AES", a bare `.AES` either).
 *
 * Guards: a reference is not reported when it sits on the guarded side of a test that
 * mentions `typeof <same expression>` (`typeof Map !== "undefined" && new Map()`,
 * `typeof Symbol === "function" ? Symbol.iterator : "@@iterator"`, `if (typeof Object.freeze
 * === "function") Object.freeze(o)`), and `typeof X` itself is never reported.
 */
import { readFileSync } from 'node:fs';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { checkRegex, checkReplacement, regexMessage, type RegexProblem } from './regex.ts';
import { checkHoisting } from './hoisting.ts';

export interface ProfileError {
  rule: string;
  message: string;
  /** 1-based line */
  line?: number;
  /** 1-based column */
  column?: number;
  /** the source line (or an 80-character window of a long minified line) */
  snippet?: string;
}

export interface CheckOptions {
  /** Native crypto libraries of the target board, e.g. ["SHA256","AES"]. Omit to skip the crypto rule. */
  nativeCrypto?: string[];
  /** Method names the image defines itself, exempt from `missing-method`. */
  allowMethods?: string[];
}

export interface CheckResult {
  ok: boolean;
  errors: ProfileError[];
}

interface BuiltinsTable {
  present: { globals: string[]; statics: Record<string, string[]>; protos: Record<string, string[]> };
  missing: { globals: string[]; statics: Record<string, string[]>; protos: Record<string, string[]> };
}

interface SyntaxEntry { id: string; construct: string; status: string; reason: string }

const here = new URL('.', import.meta.url);
export const builtins: BuiltinsTable = JSON.parse(readFileSync(new URL('../../kit/builtins-2v29.json', here), 'utf8'));
export const syntaxTable: { constructs: SyntaxEntry[] } = JSON.parse(readFileSync(new URL('syntax-2v29.json', here), 'utf8'));

export const CRYPTO_NAMES = ['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'PBKDF2', 'AES', 'AES-CCM'];
const CRYPTO_MEMBERS = new Set(['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'PBKDF2', 'AES']);

const TYPED_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array'];

const MISSING_GLOBALS = new Set(builtins.missing.globals);

/** constructor name -> missing static names (typed arrays share Uint8Array's list). */
const MISSING_STATICS = new Map<string, Set<string>>();
for (const [ctor, names] of Object.entries(builtins.missing.statics)) MISSING_STATICS.set(ctor, new Set(names));
for (const ta of TYPED_ARRAYS) {
  if (!MISSING_STATICS.has(ta)) MISSING_STATICS.set(ta, new Set(builtins.missing.statics.Uint8Array ?? []));
}
const CONSTRUCTORS = new Set<string>([...Object.keys(builtins.present.statics), ...Object.keys(builtins.missing.statics), ...TYPED_ARRAYS]);

const PRESENT_PROTO = new Set(Object.values(builtins.present.protos).flat());
/** method names missing on some builtin prototype and present on none. */
export const FLAGGED_METHODS = new Set(Object.values(builtins.missing.protos).flat().filter((n) => !PRESENT_PROTO.has(n)));

const SYNTAX = new Map(syntaxTable.constructs.map((c) => [c.id, c]));

type Node = acorn.Node & Record<string, any>;

function isFunction(n: Node): boolean {
  return n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';
}

function patternNames(p: Node | null | undefined, out: string[] = []): string[] {
  if (!p) return out;
  switch (p.type) {
    case 'Identifier': out.push(p.name); break;
    case 'ObjectPattern': for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop : prop.value, out); break;
    case 'ArrayPattern': for (const el of p.elements) patternNames(el, out); break;
    case 'RestElement': patternNames(p.argument, out); break;
    case 'AssignmentPattern': patternNames(p.left, out); break;
  }
  return out;
}

/** Source text of `X` or `X.y.z` (non-computed members only), else null. */
function exprKey(n: Node): string | null {
  if (n.type === 'Identifier') return n.name;
  if (n.type === 'ThisExpression') return 'this';
  if (n.type === 'MemberExpression' || (n.type === 'ChainExpression' && n.expression.type === 'MemberExpression')) {
    const m = n.type === 'ChainExpression' ? n.expression : n;
    const obj = exprKey(m.object);
    const prop = propName(m);
    return obj && prop != null ? obj + '.' + prop : null;
  }
  return null;
}

/** Property name of a MemberExpression when static (`o.x` or `o["x"]`), else null. */
function propName(m: Node): string | null {
  if (!m.computed && m.property.type === 'Identifier') return m.property.name;
  if (m.computed && m.property.type === 'Literal' && typeof m.property.value === 'string') return m.property.value;
  return null;
}

function testMentionsTypeof(test: Node, key: string): boolean {
  let found = false;
  walk.full(test, (n: Node) => {
    if (!found && n.type === 'UnaryExpression' && n.operator === 'typeof' && exprKey(n.argument) === key) found = true;
  });
  return found;
}

/** true when `node` (last of ancestors) is guarded by a typeof test of `key`, or is itself under `typeof`. */
function isGuarded(ancestors: Node[], key: string, node: Node): boolean {
  const parent = ancestors[ancestors.length - 2];
  if (parent && parent.type === 'UnaryExpression' && parent.operator === 'typeof' && parent.argument === node) return true;
  for (let i = ancestors.length - 2; i >= 0; i--) {
    const a = ancestors[i];
    const child = ancestors[i + 1];
    if (a.type === 'LogicalExpression' && a.operator === '&&' && a.right === child && testMentionsTypeof(a.left, key)) return true;
    if ((a.type === 'ConditionalExpression' || a.type === 'IfStatement') && child !== a.test && testMentionsTypeof(a.test, key)) return true;
  }
  return false;
}

class Reporter {
  errors: ProfileError[] = [];
  private seen = new Set<string>();
  constructor(private lines: string[]) {}
  add(rule: string, message: string, loc?: { line: number; column: number } | null): void {
    const key = `${rule}|${message}|${loc?.line}|${loc?.column}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const e: ProfileError = { rule, message };
    if (loc) {
      e.line = loc.line;
      e.column = loc.column + 1;
      e.snippet = snippetAt(this.lines, loc.line, loc.column);
    }
    this.errors.push(e);
  }
}

function snippetAt(lines: string[], line: number, column: number): string {
  const text = lines[line - 1] ?? '';
  if (text.length <= 100) return text.trim();
  const start = Math.max(0, column - 40);
  return (start > 0 ? '…' : '') + text.slice(start, start + 80) + (start + 80 < text.length ? '…' : '');
}

function syntaxMessage(id: string, detail?: string): string {
  const s = SYNTAX.get(id);
  const what = s ? s.construct : id;
  const status = s ? `Espruino 2v29: ${s.status}. ${s.reason}` : '';
  return `ES2015+ syntax ${detail ? `(${detail}) ` : ''}— ${what}; images must be ES5. ${status}`.trim();
}

/** Name every non-ES5 construct of a tree parsed at ecmaVersion 'latest'. */
function findModernSyntax(ast: Node, rep: Reporter): number {
  const before = rep.errors.length;
  const at = (n: Node) => n.loc!.start;
  walk.fullAncestor(ast, (n: Node, _st: unknown, ancestors: Node[]) => {
    const parent = ancestors[ancestors.length - 2];
    switch (n.type) {
      case 'ArrowFunctionExpression': rep.add('syntax/arrow', syntaxMessage('arrow'), at(n)); break;
      case 'ClassDeclaration': case 'ClassExpression': rep.add('syntax/class', syntaxMessage('class'), at(n)); break;
      case 'PrivateIdentifier': rep.add('syntax/class-private', syntaxMessage('class-private'), at(n)); break;
      case 'VariableDeclaration': if (n.kind !== 'var') rep.add('syntax/let-const', syntaxMessage('let-const', n.kind), at(n)); break;
      case 'TemplateLiteral': if (!parent || parent.type !== 'TaggedTemplateExpression') rep.add('syntax/template-literal', syntaxMessage('template-literal'), at(n)); break;
      case 'TaggedTemplateExpression': rep.add('syntax/tagged-template', syntaxMessage('tagged-template'), at(n)); break;
      case 'ForOfStatement': rep.add(n.await ? 'syntax/async' : 'syntax/for-of', syntaxMessage(n.await ? 'async' : 'for-of', n.await ? 'for await' : undefined), at(n)); break;
      case 'AssignmentPattern':
        if (parent && isFunction(parent) && parent.params.includes(n)) rep.add('syntax/default-parameter', syntaxMessage('default-parameter'), at(n));
        else rep.add('syntax/destructuring', syntaxMessage('destructuring', 'default value in a pattern'), at(n));
        break;
      case 'ObjectPattern': case 'ArrayPattern': rep.add('syntax/destructuring', syntaxMessage('destructuring'), at(n)); break;
      case 'SpreadElement': rep.add('syntax/spread', syntaxMessage('spread'), at(n)); break;
      case 'RestElement': rep.add('syntax/rest', syntaxMessage('rest'), at(n)); break;
      case 'AwaitExpression': rep.add('syntax/async', syntaxMessage('async', 'await'), at(n)); break;
      case 'YieldExpression': rep.add('syntax/generator', syntaxMessage('generator', 'yield'), at(n)); break;
      case 'BinaryExpression': if (n.operator === '**') rep.add('syntax/exponent', syntaxMessage('exponent'), at(n)); break;
      case 'AssignmentExpression':
        if (n.operator === '**=') rep.add('syntax/exponent', syntaxMessage('exponent'), at(n));
        if (n.operator === '||=' || n.operator === '&&=' || n.operator === '??=') rep.add('syntax/logical-assignment', syntaxMessage('logical-assignment', n.operator), at(n));
        break;
      case 'LogicalExpression': if (n.operator === '??') rep.add('syntax/nullish', syntaxMessage('nullish'), at(n)); break;
      case 'ChainExpression': rep.add('syntax/optional-chaining', syntaxMessage('optional-chaining'), at(n)); break;
      case 'Property':
        if (n.computed) rep.add('syntax/computed-key', syntaxMessage('computed-key'), at(n));
        if ((n.shorthand || n.method) && parent?.type === 'ObjectExpression') rep.add('syntax/shorthand', syntaxMessage('shorthand', n.method ? 'method' : 'property'), at(n));
        break;
      case 'MethodDefinition': case 'PropertyDefinition': if (n.computed) rep.add('syntax/computed-key', syntaxMessage('computed-key'), at(n)); break;
      case 'MetaProperty':
        if (n.meta.name === 'new') rep.add('syntax/new-target', syntaxMessage('new-target'), at(n));
        else rep.add('syntax/module', syntaxMessage('module', 'import.meta'), at(n));
        break;
      case 'ImportExpression': case 'ImportDeclaration': case 'ExportNamedDeclaration': case 'ExportDefaultDeclaration': case 'ExportAllDeclaration':
        rep.add('syntax/module', syntaxMessage('module'), at(n)); break;
      case 'Literal':
        if (typeof n.bigint === 'string') rep.add('syntax/bigint', syntaxMessage('bigint'), at(n));
        if (n.regex && /[uysdv]/.test(n.regex.flags)) rep.add('syntax/regexp-flags', syntaxMessage('regexp-flags', '/' + n.regex.flags), at(n));
        break;
      case 'CatchClause': if (!n.param) rep.add('syntax/optional-catch', syntaxMessage('optional-catch'), at(n)); break;
    }
    if (isFunction(n)) {
      if (n.async) rep.add('syntax/async', syntaxMessage('async', 'async function'), at(n));
      if (n.generator) rep.add('syntax/generator', syntaxMessage('generator'), at(n));
    }
  });
  return rep.errors.length - before;
}

/** Declared names per scope node (Program or function). let/const/class/catch are approximated as function-scoped. */
function collectScopes(ast: Node): Map<Node, Set<string>> {
  const scopes = new Map<Node, Set<string>>();
  const declare = (scope: Node | undefined, names: string[]) => {
    if (!scope) return;
    let set = scopes.get(scope);
    if (!set) scopes.set(scope, (set = new Set()));
    for (const nm of names) set.add(nm);
  };
  const nearestScope = (ancestors: Node[], from: number): Node | undefined => {
    for (let i = from; i >= 0; i--) if (ancestors[i].type === 'Program' || isFunction(ancestors[i])) return ancestors[i];
    return undefined;
  };
  walk.fullAncestor(ast, (n: Node, _st: unknown, ancestors: Node[]) => {
    const self = ancestors.length - 1;
    if (isFunction(n)) {
      declare(n, n.params.flatMap((p: Node) => patternNames(p)));
      if (n.id) {
        if (n.type === 'FunctionExpression') declare(n, [n.id.name]);
        else declare(nearestScope(ancestors, self - 1), [n.id.name]);
      }
    } else if (n.type === 'VariableDeclaration') {
      declare(nearestScope(ancestors, self - 1), n.declarations.flatMap((d: Node) => patternNames(d.id)));
    } else if (n.type === 'ClassDeclaration' && n.id) {
      declare(nearestScope(ancestors, self - 1), [n.id.name]);
    } else if (n.type === 'CatchClause' && n.param) {
      declare(nearestScope(ancestors, self - 1), patternNames(n.param));
    } else if (n.type === 'ImportDeclaration') {
      declare(nearestScope(ancestors, self - 1), n.specifiers.map((s: Node) => s.local.name));
    }
  });
  return scopes;
}

function isShadowed(name: string, ancestors: Node[], scopes: Map<Node, Set<string>>): boolean {
  for (const a of ancestors) if (scopes.get(a)?.has(name)) return true;
  return false;
}

/** Constructs that parse on Espruino 2v29 but throw when they run (measured on the binary,
 * tools/fidelity/probes). */
function findRunTimeTraps(ast: Node, rep: Reporter): void {
  walk.full(ast, (n: Node) => {
    if (n.type === 'AssignmentExpression' && n.left.type === 'MemberExpression' && !n.left.computed && n.left.property.name === 'length')
      rep.add('semantics/length-assignment', 'assignment to .length: Espruino 2v29 throws "Assignment to a constant" (truncate with splice)', n.loc!.start);
    if (n.type === 'SwitchStatement') {
      const d = n.cases.findIndex((c: Node) => c.test === null);
      if (d >= 0 && d < n.cases.length - 1)
        rep.add('semantics/default-before-case', 'switch with default before a case: Espruino 2v29 throws "CASE after DEFAULT unsupported" (put default last)', n.cases[d].loc!.start);
    }
  });
}

function checkSemantics(ast: Node, rep: Reporter, opts: CheckOptions): void {
  findRunTimeTraps(ast, rep);
  const scopes = collectScopes(ast);
  const allow = new Set(opts.allowMethods ?? []);
  const crypto = opts.nativeCrypto ? new Set(opts.nativeCrypto) : null;
  const at = (n: Node) => n.loc!.start;
  /** Reports a regex problem at `offset` characters into the source text of `node` (when on its first line). */
  const reportIn = (node: Node, offset: number, p: RegexProblem, where: string) => {
    const start = node.loc!.start;
    const raw: string = node.raw ?? '';
    const sameLine = raw.slice(0, offset).indexOf('\n') < 0;
    rep.add(p.rule, regexMessage(p, where), sameLine ? { line: start.line, column: start.column + offset } : start);
  };
  const regexConstructor = (n: Node, ancestors: Node[]) => {
    if (n.callee.type === 'Identifier' && n.callee.name === 'RegExp' && !isShadowed('RegExp', ancestors, scopes)) {
      rep.add('regex/constructor', `${n.type === 'NewExpression' ? 'new ' : ''}RegExp(...): a pattern built at run time cannot be checked against the regex subset of Espruino 2v29 (tools/profile/regex.ts); write a regex literal, or no regex`, at(n));
    }
  };

  walk.ancestor(ast, {
    Literal(n: Node, _st: unknown, ancestors: Node[]) {
      if (!n.regex) return;
      const parent = ancestors[ancestors.length - 2];
      const isArg0 = parent && parent.type === 'CallExpression' && parent.arguments[0] === n && parent.callee.type === 'MemberExpression';
      const use = isArg0 ? { method: propName(parent.callee), args: parent.arguments.length } : { method: null, args: 0 };
      const literal = `/${n.regex.pattern}/${n.regex.flags}`;
      for (const p of checkRegex(n.regex.pattern, n.regex.flags, use)) reportIn(n, 1 + p.offset, p, 'regular expression ' + literal);
    },
    CallExpression(n: Node, _st: unknown, ancestors: Node[]) {
      regexConstructor(n, ancestors);
      const method = n.callee.type === 'MemberExpression' ? propName(n.callee) : null;
      const repl = n.arguments[1];
      if ((method === 'replace' || method === 'replaceAll') && repl && repl.type === 'Literal' && typeof repl.value === 'string') {
        for (const p of checkReplacement(repl.value)) reportIn(repl, 1 + p.offset, p, `replacement string ${JSON.stringify(repl.value)} of .${method}()`);
      }
    },
    NewExpression(n: Node, _st: unknown, ancestors: Node[]) {
      regexConstructor(n, ancestors);
    },
    LabeledStatement(n: Node) {
      rep.add('label', `labelled statement "${n.label.name}:" — labels are broken on Espruino 2v29 (ReferenceError at run time); restructure the loop or change the transpiler settings`, at(n));
    },
    Identifier(n: Node, _st: unknown, ancestors: Node[]) {
      if (!MISSING_GLOBALS.has(n.name)) return;
      if (isShadowed(n.name, ancestors, scopes)) return;
      if (isGuarded(ancestors, n.name, n)) return;
      rep.add('missing-global', `global "${n.name}" does not exist on Espruino 2v29`, at(n));
    },
    MemberExpression(n: Node, _st: unknown, ancestors: Node[]) {
      const prop = propName(n);
      if (prop == null) return;
      const obj = n.object as Node;
      // X.y on a global constructor
      if (obj.type === 'Identifier' && CONSTRUCTORS.has(obj.name) && !isShadowed(obj.name, ancestors, scopes)) {
        if (MISSING_STATICS.get(obj.name)?.has(prop) && !isGuarded(ancestors, `${obj.name}.${prop}`, n)) {
          rep.add('missing-static', `${obj.name}.${prop} does not exist on Espruino 2v29`, at(n));
        }
        return;
      }
      // .name( ... ) calls of methods missing everywhere
      const parent = ancestors[ancestors.length - 2];
      if (parent && parent.type === 'CallExpression' && parent.callee === n && FLAGGED_METHODS.has(prop) && !allow.has(prop)) {
        const key = exprKey(n);
        if (!key || !isGuarded(ancestors, key, n)) {
          rep.add('missing-method', `.${prop}() is not a method of any Espruino 2v29 builtin that has it in V8`, at(n.property));
        }
      }
      // native crypto
      if (crypto && CRYPTO_MEMBERS.has(prop)) {
        let need: string[] = [prop];
        if (prop === 'AES') {
          const outer = parent && parent.type === 'MemberExpression' && parent.object === n ? propName(parent) : null;
          if (outer === 'ccmEncrypt' || outer === 'ccmDecrypt') need = ['AES-CCM'];
          else if (outer === 'encrypt' || outer === 'decrypt') need = ['AES'];
          else need = ['AES', 'AES-CCM'];
        }
        if (!need.some((x) => crypto.has(x))) {
          const key = exprKey(n);
          if (!key || !isGuarded(ancestors, key, n)) {
            rep.add('native-crypto', `crypto ${need.join(' or ')} is not built into this board (native: ${[...crypto].join(', ') || 'none'})`, at(n.property));
          }
        }
      }
    },
  });
}

function parse(code: string, ecmaVersion: acorn.ecmaVersion, sourceType: 'script' | 'module' = 'script'): Node {
  return acorn.parse(code, { ecmaVersion, sourceType, locations: true, allowHashBang: false }) as Node;
}

/** Check a (minified or not) firmware image against the Espruino 2v29 profile. */
export function checkImage(code: string, opts: CheckOptions = {}): CheckResult {
  const rep = new Reporter(code.split(/\r\n|\r|\n/));
  let ast: Node | null = null;
  try {
    ast = parse(code, 5);
  } catch (e5: any) {
    let modern: Node | null = null;
    try {
      modern = parse(code, 'latest');
    } catch {
      try { modern = parse(code, 'latest', 'module'); } catch { /* fall through */ }
    }
    if (modern) {
      if (findModernSyntax(modern, rep) === 0) {
        rep.add('syntax/es5', `not ES5: ${String(e5.message).replace(/\s*\(\d+:\d+\)$/, '')}`, e5.loc);
      }
      ast = modern;
    } else {
      rep.add('syntax/parse-error', `does not parse: ${String(e5.message).replace(/\s*\(\d+:\d+\)$/, '')}`, e5.loc);
    }
  }
  if (ast) checkSemantics(ast, rep, opts);
  if (ast) checkHoisting(ast, rep);
  rep.errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return { ok: rep.errors.length === 0, errors: rep.errors };
}
