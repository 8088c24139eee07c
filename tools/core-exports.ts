// The resident core's exports as globals: what the other chunks take from the core, they read
// as global names instead of properties of an exports object.
//
// The boot code runs the core in the global scope (tools/build.ts coreAtRoot), so its
// top-level functions and variables are globals already. Rollup's CommonJS output then adds
//   exports.e = bindBoard;            (the core, one statement per export)
//   var psd_core = require("psd.core"); ... psd_core.e(build) ...    (every chunk that uses it)
// and each of those exports is one more variable for as long as the board runs: the name in
// the exports object (55 of them in today's core), plus the object and its module-cache entry.
// Here the core's exported bindings are renamed to `$` + the export name and its export
// statements dropped; the users read `$e` where they read `psd_core.e`, and require nothing.
// The `$` names are kept off terser's mangling (coreExportNames), and `$` starts no name
// Espruino has. No bundler does this (Rollup writes exports as an object, as CommonJS needs),
// so it is done here with Babel's scope tracking for the renames.
import { types as t } from '@babel/core';
import { babelScript } from './flatten-classes.ts';

/** The global name the core gives export `name`. */
export function rootName(name: string): string {
  return '$' + name;
}

function exportsMember(node: t.Node): string | null {
  return t.isMemberExpression(node) && !node.computed && t.isIdentifier(node.object, { name: 'exports' }) && t.isIdentifier(node.property) ? node.property.name : null;
}

/**
 * The core chunk with each `exports.X = <top-level name>;` gone and that name renamed to
 * rootName(X). Returns the code and the export names. Throws when the chunk uses `exports`
 * any other way (an export of an expression, a live-binding update): the build then says so
 * rather than leaving a chunk that reads an exports object nobody made.
 */
export function coreExportsToGlobals(code: string): { code: string; exports: string[]; constants: Record<string, number> } {
  const names: string[] = [];
  const constants: Record<string, number> = {};
  const out = babelScript(code, () => ({
    name: 'psd-core-exports-to-globals',
    visitor: {
      Program(program) {
        for (const stmt of program.get('body')) {
          if (!stmt.isExpressionStatement()) continue;
          const e = stmt.node.expression;
          if (!t.isAssignmentExpression(e) || e.operator !== '=') continue;
          const name = exportsMember(e.left);
          if (name === null) continue;
          if (!t.isIdentifier(e.right) || !program.scope.hasOwnBinding(e.right.name))
            throw new Error(`core-exports: export ${name} of the core is not a top-level name`);
          const local = e.right.name;
          // a number the core never changes: its users get the number itself, and the core
          // keeps the name only if it reads it (a global costs a variable as long as it lives)
          const binding = program.scope.getBinding(local)!;
          const init = binding.path.isVariableDeclarator() ? binding.path.node.init : null;
          if (binding.constant && init && t.isNumericLiteral(init)) {
            constants[name] = init.value;
            stmt.remove();
            continue;
          }
          const global = rootName(name);
          if (program.scope.hasBinding(global) || program.scope.hasGlobal(global)) throw new Error(`core-exports: ${global} is taken in the core`);
          program.scope.rename(local, global);
          stmt.remove();
          names.push(name);
        }
        program.traverse({
          Identifier(p) {
            if (p.node.name === 'exports' && p.isReferencedIdentifier() && !p.scope.hasBinding('exports')) throw new Error('core-exports: the core uses exports other than `exports.X = name;` at its top level');
          }
        });
      }
    }
  }), 'core-exports');
  return { code: out, exports: names, constants };
}

/**
 * A chunk that requires the core (`var X = require("<core>")`) with every `X.name` read as the
 * global rootName(name) and the require gone, and the export names it reads. Chunks that do
 * not require the core come back unchanged. Throws when X is used other than by reading a
 * property the core exports.
 */
export function useCoreGlobals(code: string, core: string, exported: string[], constants: Record<string, number> = {}): { code: string; reads: string[] } {
  const reads = new Set<string>();
  if (!code.includes(JSON.stringify(core))) return { code, reads: [] };
  const known = new Set([...exported, ...Object.keys(constants)]);
  const out = babelScript(code, () => ({
    name: 'psd-use-core-globals',
    visitor: {
      Program(program) {
        for (const stmt of program.get('body')) {
          if (!stmt.isVariableDeclaration() || stmt.node.declarations.length !== 1) continue;
          const d = stmt.node.declarations[0];
          if (!t.isIdentifier(d.id) || !t.isCallExpression(d.init) || !t.isIdentifier(d.init.callee, { name: 'require' })) continue;
          const arg = d.init.arguments[0];
          if (!t.isStringLiteral(arg) || arg.value !== core) continue;
          const binding = program.scope.getBinding(d.id.name)!;
          for (const ref of binding.referencePaths) {
            const parent = ref.parentPath;
            const m = parent && parent.node;
            if (!m || !t.isMemberExpression(m) || m.object !== ref.node || m.computed || !t.isIdentifier(m.property) || !known.has(m.property.name) || (parent!.parentPath!.isAssignmentExpression() && parent!.parentPath!.node.left === m))
              throw new Error(`core-exports: ${d.id.name} (the core) is used other than by reading one of its exports`);
            const n = m.property.name;
            if (n in constants) {
              parent!.replaceWith(t.numericLiteral(constants[n]));
              continue;
            }
            reads.add(n);
            parent!.replaceWith(t.identifier(rootName(n)));
          }
          stmt.remove();
        }
      }
    }
  }), 'core-exports');
  return { code: out, reads: [...reads] };
}

/**
 * The statement the boot code ends with: the core's exports that only the boot code reads
 * (binding the board, starting the PSD or its failsafe) set to undefined once it has run, so
 * their function objects are freed; their names stay, one variable each. (Not `delete`: a
 * global made by a function declaration cannot be deleted in JavaScript.) '' when none.
 */
export function bootOnlyRelease(bootReads: string[], otherReads: string[][]): string {
  const others = new Set(otherReads.flat());
  const only = bootReads.filter((n) => !others.has(n));
  return only.length ? only.map(rootName).join('=') + '=void 0;' : '';
}
