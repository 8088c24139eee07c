// Lifts the ES5 classes Babel writes out of their IIFE, into the module's own scope.
//
// Babel downlevels `class RecordTable { ... }` to
//   var RecordTable = /*#__PURE__*/function () { function RecordTable(c) {...}
//     var _proto = RecordTable.prototype; _proto.add = function add(...) {...}; ...; return RecordTable; }();
// On Espruino a function keeps the chain of scopes it was made in, and a chain longer than one
// scope is copied into an array of its own: an array, its index names and the scope link cost
// 3 more variables for every method made inside the IIFE (module scope + IIFE scope) than for a
// function made at the module's top level (measured with E.dumpVariables on 2v29: 71 of the
// resident core's 115 functions were two scopes deep, 213 variables; src/jsparse.c
// jspeiGetScopesAsVar stores a single scope without the array). Written at the top level, the
// same class costs one scope per method. No minifier does this (terser keeps the IIFE: it is
// not an inlinable function), so it is done here, with Babel's own scope tracking for the
// renames: a name the IIFE declares that the module already uses gets a fresh one.
import { transformSync, types as t, type NodePath, type PluginObj } from '@babel/core';

/** The IIFE of `var X = function () { ...; return X; }()` when it has the shape Babel's class
 * transform writes: no parameters, no arguments, declarations and statements, one return of
 * a name at the end. */
function classIife(decl: t.VariableDeclarator): { body: t.Statement[]; returned: string } | null {
  const init = decl.init;
  if (!init || !t.isCallExpression(init) || init.arguments.length) return null;
  const fn = init.callee;
  if (!t.isFunctionExpression(fn) || fn.params.length || fn.id || fn.async || fn.generator) return null;
  const body = fn.body.body;
  const last = body[body.length - 1];
  if (!last || !t.isReturnStatement(last) || !last.argument || !t.isIdentifier(last.argument)) return null;
  // only what a class body is made of: a return elsewhere, `this` or `arguments` at the IIFE's
  // own level would change meaning at the top level
  for (const s of body.slice(0, -1)) {
    if (!t.isFunctionDeclaration(s) && !t.isVariableDeclaration(s) && !t.isExpressionStatement(s)) return null;
  }
  return { body: body.slice(0, -1), returned: last.argument.name };
}

function usesOwnThisOrArguments(path: NodePath<t.FunctionExpression>): boolean {
  let found = false;
  path.traverse({
    Function(p) {
      p.skip(); // a nested function has its own this and arguments
    },
    ThisExpression() {
      found = true;
    },
    Identifier(p) {
      if (p.node.name === 'arguments') found = true;
    }
  });
  return found;
}

const flattenPlugin = (): PluginObj => ({
  name: 'psd-flatten-class-iifes',
  visitor: {
    Program(program) {
      for (const stmt of program.get('body')) {
        if (!stmt.isVariableDeclaration() || stmt.node.declarations.length !== 1) continue;
        const declPath = stmt.get('declarations')[0];
        const shape = classIife(declPath.node);
        if (!shape || !t.isIdentifier(declPath.node.id)) continue;
        const outerName = declPath.node.id.name;
        const fnPath = (declPath.get('init') as NodePath<t.CallExpression>).get('callee') as NodePath<t.FunctionExpression>;
        if (usesOwnThisOrArguments(fnPath)) continue;
        // every name the IIFE declares moves to the module scope: rename any that is taken there
        // (or read there as a global), except the class's own name when it is what the var holds
        const inner = fnPath.scope;
        for (const name of Object.keys(inner.bindings)) {
          const sameClass = name === outerName && shape.returned === outerName;
          if (sameClass) continue;
          if (program.scope.hasBinding(name) || program.scope.hasGlobal(name) || program.scope.hasReference(name)) inner.rename(name, program.scope.generateUid(name));
        }
        // read again after the renames (the returned name may be one of them)
        const { body: lifted, returned } = classIife(declPath.node)!;
        if (returned === outerName) {
          // the outer var and the inner function are one name: the function declaration is it
          stmt.replaceWithMultiple(lifted);
        } else {
          stmt.replaceWithMultiple([...lifted, t.variableDeclaration('var', [t.variableDeclarator(t.identifier(outerName), t.identifier(returned))])]);
        }
      }
      program.scope.crawl();
    }
  }
});

/** A chunk's code through one Babel plugin, as a script (Rollup's CommonJS chunks), comments
 * kept: the build's source passes (here and tools/core-exports.ts). */
export function babelScript(code: string, plugin: () => PluginObj, what: string): string {
  const r = transformSync(code, {
    babelrc: false,
    configFile: false,
    compact: false,
    comments: true,
    sourceType: 'script',
    parserOpts: { allowReturnOutsideFunction: true },
    plugins: [plugin]
  });
  if (!r || typeof r.code !== 'string') throw new Error(`${what}: Babel returned no code`);
  return r.code;
}

/** The chunk's code with every top-level class IIFE lifted into the module scope. */
export function flattenClassIifes(code: string): string {
  return babelScript(code, flattenPlugin, 'flattenClassIifes');
}
