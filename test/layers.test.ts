// The house's layers (issue 14), checked over every import of every source file:
//
//   0  board-defs/, protocol/        the boards' facts and the one wire
//   1  firmware/, kit/               the PSD; what host, server and tools share (virtual board,
//                                    real-interpreter runner, image facts, output, PSS client)
//   2  host-bridge/, server/         the two products on a PC
//   3  testkit/                      harness, memory board, fuzz framework and targets
//      bin/                          the psd and pss launchers (JavaScript), over layer 2
//   4  tools/, rollup.config.js      build, bench, fuzz runner, fidelity, profile check
//   5  test/                        the suites
//
// A file may import from its own folder and from the folders its folder lists below; nothing
// imports upwards, the two folders of one layer do not import each other (except that kit/ may
// read the firmware's build facts: its runners boot the image), and no files import each other
// in a loop. No source file, TypeScript or JavaScript (the virtual board's in-context scripts
// and the build configuration included), is over 500 lines, test vectors excepted; generated
// output (dist/) is not source.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect } from 'chai';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each source folder and the folders it may import from (its own always). */
const MAY_IMPORT: Record<string, string[]> = {
  'board-defs': [],
  protocol: ['board-defs'],
  firmware: ['protocol', 'board-defs'],
  kit: ['firmware', 'protocol', 'board-defs'],
  'host-bridge': ['kit', 'firmware', 'protocol', 'board-defs'],
  server: ['kit', 'firmware', 'protocol', 'board-defs'],
  testkit: ['host-bridge', 'server', 'kit', 'firmware', 'protocol', 'board-defs'],
  tools: ['testkit', 'host-bridge', 'server', 'kit', 'firmware', 'protocol', 'board-defs', 'rollup.config.js'],
  test: ['tools', 'testkit', 'host-bridge', 'server', 'kit', 'firmware', 'protocol', 'board-defs', 'rollup.config.js'],
  bin: ['host-bridge', 'server', 'kit', 'firmware', 'protocol', 'board-defs'],
  // the build configuration is part of the build tooling (it reads tools/reserved-names.js)
  'rollup.config.js': ['tools', 'testkit', 'host-bridge', 'server', 'kit', 'firmware', 'protocol', 'board-defs']
};
/** source files at the repository's root, each its own entry of MAY_IMPORT */
const ROOT_FILES = ['rollup.config.js'];
const FOLDERS = Object.keys(MAY_IMPORT);

/** Longest a source file may be, in lines. */
const MAX_LINES = 500;
/** Test vectors: data, not code, exempt from MAX_LINES. */
const VECTOR_FILES = new Set<string>(['testkit/crypto-rfc-vectors.ts']);
/** generated output, not source (no source folder should hold any, but the rule says so) */
const GENERATED = /(^|\/)(dist|node_modules)(\/|$)/;
/** a source file's name: TypeScript or JavaScript, declarations excepted */
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (GENERATED.test(rel)) continue;
    if (statSync(join(ROOT, rel)).isDirectory()) sources(rel, out);
    else if (SOURCE.test(name) && !/\.d\.[mc]?ts$/.test(name)) out.push(rel);
  }
  return out;
}

/** Relative module specifiers of a file: import/export ... from, import x = require(), import(), require(). */
function specifiers(file: string): { spec: string; line: number }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, /\.[mc]?ts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: { spec: string; line: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ spec: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')))
      add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found.filter((s) => s.spec.startsWith('.'));
}

const folderOf = (file: string) => file.split('/')[0];

const files = [
  ...FOLDERS.filter((d) => !ROOT_FILES.includes(d) && statExists(d)).flatMap((d) => sources(d)),
  ...ROOT_FILES.filter((f) => fileExists(f))
];
function fileExists(f: string): boolean {
  try {
    return statSync(join(ROOT, f)).isFile();
  } catch {
    return false;
  }
}
function statExists(d: string): boolean {
  try {
    return statSync(join(ROOT, d)).isDirectory();
  } catch {
    return false;
  }
}

/** file -> the files it imports (inside the repository) */
const graph = new Map<string, { target: string; line: number }[]>();
for (const f of files)
  graph.set(
    f,
    specifiers(f).map(({ spec, line }) => ({ target: normalize(join(dirname(f), spec)), line }))
  );

describe('layers: the import graph (issue 14)', () => {
  it('finds the source folders and their imports', () => {
    expect(files.length).to.be.greaterThan(100);
    for (const d of FOLDERS) expect(files.some((f) => folderOf(f) === d), d).to.equal(true);
    // JavaScript sources are in the graph too: the launchers, the build configuration and the
    // virtual board's in-context scripts
    for (const f of ['bin/psd.js', 'rollup.config.js', 'kit/vboard/runtime.js', 'kit/vboard/espruino.js']) expect(files, f).to.include(f);
    expect(graph.get('bin/psd.js')!.map((e) => e.target)).to.include('host-bridge/cli.ts');
  });

  it('no import runs from a lower layer to a higher one, nor across the folders of one layer', () => {
    const wrong: string[] = [];
    for (const [f, edges] of graph) {
      const from = folderOf(f);
      for (const { target, line } of edges) {
        if (target.startsWith('..')) {
          wrong.push(`${f}:${line} imports ${target}, outside the repository`);
          continue;
        }
        const to = target.includes('/') ? folderOf(target) : target;
        if (to === from || MAY_IMPORT[from].includes(to)) continue;
        wrong.push(`${f}:${line} (${from}) imports ${target} (${to})`);
      }
    }
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
  });

  it('protocol/ imports nothing outside protocol/ but board-defs/', () => {
    const out = [...graph].flatMap(([f, edges]) => (folderOf(f) === 'protocol' ? edges.filter((e) => !/^(protocol|board-defs)\//.test(e.target)).map((e) => `${f}:${e.line} -> ${e.target}`) : []));
    expect(out, out.join('\n')).to.deep.equal([]);
  });

  it('no files import each other in a loop', () => {
    // Tarjan's strongly connected components over the file graph
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const loops: string[][] = [];
    const strong = (v: string) => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      onStack.add(v);
      for (const { target: w } of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          strong(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || (graph.get(v) ?? []).some((e) => e.target === v)) loops.push(comp.sort());
      }
    };
    for (const f of graph.keys()) if (!idx.has(f)) strong(f);
    expect(loops.map((l) => l.join(' <-> ')), loops.map((l) => l.join(' <-> ')).join('\n')).to.deep.equal([]);
  });

  it(`no source file, TypeScript or JavaScript, is over ${MAX_LINES} lines (test vectors excepted)`, () => {
    const long = files
      .filter((f) => !VECTOR_FILES.has(f))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_LINES)
      .map((x) => `${x.f}: ${x.lines} lines`);
    expect(long, long.join('\n')).to.deep.equal([]);
  });

  it('the exempt test-vector files exist (the list stays true)', () => {
    for (const f of VECTOR_FILES) expect(statExists(dirname(f)) && readFileSync(join(ROOT, f), 'utf8').length > 0, f).to.equal(true);
  });
});
