// The house's layers (issue 14), checked over every import of every source file:
//
//   0  board-defs/, protocol/        the boards' facts and the one wire
//   1  firmware/, kit/               the PSD; what host, server and tools share (virtual board,
//                                    real-interpreter runner, image facts, output, PSS client)
//   2  host-bridge/, server/         the two products on a PC
//   3  testkit/                      harness, memory board, fuzz framework and targets
//   4  tools/                        build, bench, fuzz runner, fidelity, profile check
//   5  test/                        the suites
//
// A file may import from its own folder and from the folders its folder lists below; nothing
// imports upwards, the two folders of one layer do not import each other (except that kit/ may
// read the firmware's build facts: its runners boot the image), and no files import each other
// in a loop. No TypeScript source file is over 500 lines, test vectors excepted (the virtual
// board's two in-context scripts, kit/vboard/runtime.js and espruino.js, are single closures
// evaluated inside the sandbox and are not counted).
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
  test: ['tools', 'testkit', 'host-bridge', 'server', 'kit', 'firmware', 'protocol', 'board-defs', 'rollup.config.js']
};
const FOLDERS = Object.keys(MAY_IMPORT);

/** Longest a source file may be, in lines. */
const MAX_LINES = 500;
/** Test vectors: data, not code, exempt from MAX_LINES. */
const VECTOR_FILES = new Set<string>(['testkit/crypto-rfc-vectors.ts']);

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) sources(rel, out);
    else if (/\.(ts|js|mjs)$/.test(name) && !/\.d\.ts$/.test(name)) out.push(rel);
  }
  return out;
}

/** Relative module specifiers of a file: import/export ... from, import x = require(), import(), require(). */
function specifiers(file: string): { spec: string; line: number }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, /\.ts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS);
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

const files = FOLDERS.filter((d) => MAY_IMPORT[d] && statExists(d)).flatMap((d) => sources(d));
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

  it(`no TypeScript source file is over ${MAX_LINES} lines (test vectors excepted)`, () => {
    const long = files
      .filter((f) => /\.ts$/.test(f) && !VECTOR_FILES.has(f))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_LINES)
      .map((x) => `${x.f}: ${x.lines} lines`);
    expect(long, long.join('\n')).to.deep.equal([]);
  });

  it('the exempt test-vector files exist (the list stays true)', () => {
    for (const f of VECTOR_FILES) expect(statExists(dirname(f)) && readFileSync(join(ROOT, f), 'utf8').length > 0, f).to.equal(true);
  });
});
