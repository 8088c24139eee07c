// The profile rule `hoisting`: Espruino 2v29 defines a function declaration, and creates a
// var's local, only when execution reaches it; V8 (and so the virtual board) hoists both.
// Used by check.ts on every image file.
import * as walk from 'acorn-walk';
import type * as acorn from 'acorn';

type Node = acorn.Node & Record<string, any>;
/** where check.ts collects its errors */
const isFunction = (n: Node) => n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';

export interface Report {
  add(rule: string, message: string, loc?: { line: number; column: number } | null): void;
}

/**
 * `hoisting` for `var`: Espruino creates a function's local when execution reaches its `var`
 * statement (src/jsparse.c jspeStatementVar runs only while executing), so a name used where
 * no `var` of it has run yet is the enclosing scope's variable of that name. Measured on 2v29:
 * `var i="outer"; function f(){ i="inner"; return i; var i; } f()` leaves the global i
 * "inner", and `function h(){ if (false) { var k = 2; } return k; }` reads the global k.
 * terser writes both: it inlines a function with locals as `...(i=t.payload,...); var i,s,o}`,
 * and it drops a repeated `var` (`case 21: var s=...; ... case 24: s=o.count*o.postage`).
 * Found 2026-11-30: the first overwrote the device front's board object in the no-AES images,
 * the second the image's u32 encoder in the Original's (the first FRANK killed the front).
 *
 * So each use of a var-declared name in the function that declares it (not in a nested one:
 * that runs later) needs a `var` of that name before it that has surely run: one outside every
 * branch (if/else, ?:, the right of && and ||, a switch case, a loop's body, test or update,
 * a try or catch block) that the use is not also inside. A `for` init, a do-while body and a
 * finally block always run. Parameters, function declarations and a catch's own parameter are
 * locals from the start.
 */
function checkVarReach(body: Node, params: Node[], rep: Report): void {
  const locals = new Set<string>(params.map((p: Node) => p.name));
  const decls: { name: string; start: number; regions: Node[] }[] = [];
  const uses: { n: Node; regions: Node[] }[] = [];
  const branches: Record<string, string[]> = {
    IfStatement: ['consequent', 'alternate'],
    ConditionalExpression: ['consequent', 'alternate'],
    LogicalExpression: ['right'],
    SwitchCase: ['consequent'],
    ForStatement: ['test', 'update', 'body'],
    ForInStatement: ['body'],
    WhileStatement: ['body'],
    TryStatement: ['block', 'handler']
  };
  const visit = (n: Node, parent: Node | null, regions: Node[], catchParams: string[]) => {
    if (!n || typeof n.type !== 'string') return;
    if (isFunction(n)) {
      if (n.type === 'FunctionDeclaration') locals.add(n.id.name);
      return;
    }
    if (n.type === 'VariableDeclarator') {
      decls.push({ name: n.id.name, start: n.id.start, regions });
      visit(n.init, n, regions, catchParams);
      return;
    }
    if (n.type === 'Identifier') {
      const isProperty = parent && ((parent.type === 'MemberExpression' && parent.property === n && !parent.computed) || (parent.type === 'Property' && parent.key === n && !parent.computed && !parent.shorthand));
      const isLabel = parent && (parent.type === 'LabeledStatement' || parent.type === 'BreakStatement' || parent.type === 'ContinueStatement');
      if (!isProperty && !isLabel && catchParams.indexOf(n.name) < 0) uses.push({ n, regions });
      return;
    }
    const inner = n.type === 'CatchClause' ? catchParams.concat([n.param.name]) : catchParams;
    const branchKeys = branches[n.type] ?? [];
    for (const k of Object.keys(n)) {
      if (k === 'type' || k === 'loc' || (n.type === 'CatchClause' && k === 'param')) continue;
      const v = (n as any)[k];
      const r = branchKeys.indexOf(k) >= 0 ? regions.concat([n.type === 'SwitchCase' ? n : { type: 'branch', start: n.start, key: k, of: n } as any]) : regions;
      if (Array.isArray(v)) v.forEach((c) => c && typeof c.type === 'string' && visit(c, n, r, inner));
      else if (v && typeof v.type === 'string') visit(v, n, r, inner);
    }
  };
  // a branch is identified by its node and key: two visits of the same branch make equal regions
  const same = (a: any, b: any) => a === b || (a.type === 'branch' && b.type === 'branch' && a.of === b.of && a.key === b.key);
  for (const st of body.body ?? []) visit(st, null, [], []);
  const declared = new Set(decls.map((d) => d.name));
  for (const u of uses) {
    const name = u.n.name;
    if (!declared.has(name) || locals.has(name)) continue;
    const reached = decls.some((d) => d.name === name && d.start <= u.n.start && d.regions.every((r) => u.regions.some((x) => same(r, x))));
    if (!reached)
      rep.add('hoisting', `"${name}" is used where no var of it has surely run: Espruino 2v29 creates a local only when it reaches its var (here the name is the enclosing scope's); declare it first, outside the branch`, u.n.loc?.start);
  }
}

/**
 * `hoisting`: a function declaration used before it, in the same function (or at the top
 * level). Espruino 2v29 does not hoist function declarations (measured: `function f(){ return
 * h(); function h(){} }` throws ReferenceError "h" is not defined; `typeof h` before it is
 * "undefined", at the top level too), where V8, and so the virtual board, does. A use inside a
 * nested function is not flagged: it runs when that function is called, usually later. The
 * same for var: checkVarReach.
 */
export function checkHoisting(ast: Node, rep: Report): void {
  const bodies: Node[] = [ast];
  const paramsOf = new Map<Node, Node[]>();
  walk.full(ast, (n: Node) => {
    if ((n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression') && n.body) {
      bodies.push(n.body);
      paramsOf.set(n.body, n.params);
    }
  });
  for (const body of bodies) {
    checkVarReach(body, paramsOf.get(body) ?? [], rep);
    const declared = new Map<string, number>();
    const collect = (n: Node) => {
      if (!n || typeof n.type !== 'string') return;
      if (n.type === 'FunctionDeclaration') {
        declared.set(n.id.name, n.start);
        return;
      }
      if (n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') return;
      for (const k of Object.keys(n)) {
        const v = (n as any)[k];
        if (Array.isArray(v)) v.forEach((c) => c && typeof c.type === 'string' && collect(c));
        else if (v && typeof v.type === 'string' && k !== 'type') collect(v);
      }
    };
    for (const st of body.body ?? []) collect(st);
    if (!declared.size) continue;
    const uses = (n: Node, parent: Node | null) => {
      if (!n || typeof n.type !== 'string') return;
      if (isFunction(n)) return;
      if (n.type === 'Identifier') {
        const at = declared.get(n.name);
        const isProperty = parent && ((parent.type === 'MemberExpression' && parent.property === n && !parent.computed) || (parent.type === 'Property' && parent.key === n && !parent.computed && !parent.shorthand));
        if (at !== undefined && n.start < at && !isProperty)
          rep.add('hoisting', `"${n.name}" is used before its function declaration: Espruino 2v29 does not hoist function declarations (it is undefined there); declare it first`, n.loc?.start);
        return;
      }
      for (const k of Object.keys(n)) {
        if (k === 'type' || k === 'loc') continue;
        const v = (n as any)[k];
        if (Array.isArray(v)) v.forEach((c) => c && typeof c.type === 'string' && uses(c, n));
        else if (v && typeof v.type === 'string') uses(v, n);
      }
    };
    for (const st of body.body ?? []) uses(st, null);
  }
}
