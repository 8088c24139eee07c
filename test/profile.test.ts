import { expect } from 'chai';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import ts from 'typescript';
import { checkImage } from '../tools/profile/check.ts';
import { REGEX_RULES, REGEX_ALLOWED, checkRegex } from '../tools/profile/regex.ts';
import { PROBES, DATA_FILE, probeCases, probeExpression, runOnEspruino, type RegexData, type ProbeRecord } from '../tools/profile/regex-probe.ts';
import { findEspruino, noEspruinoReason } from '../kit/real/binary.ts';
import { buildBoard } from '../tools/build.ts';
import { getBoard } from '../board-defs/index.ts';

const rules = (code: string, opts = {}) => checkImage(code, opts).errors.map((e) => e.rule);

function expectRule(code: string, rule: string, opts = {}) {
  const r = checkImage(code, opts);
  expect(r.ok, `${code} should fail`).to.equal(false);
  expect(r.errors.map((e) => e.rule), code).to.include(rule);
  const e = r.errors.find((x) => x.rule === rule)!;
  expect(e.line, 'line').to.be.a('number');
  expect(e.column, 'column').to.be.a('number');
  expect(e.message).to.be.a('string').and.not.equal('');
}

describe('profile check (Espruino 2v29)', () => {
  it('passes good ES5 code', () => {
    const code = `
      function Hmac(key) { this.key = key; }
      Hmac.prototype.digest = function (msg) {
        var out = new Uint8Array(32), i;
        for (i = 0; i < out.length; i++) out[i] = (msg.charCodeAt(i % msg.length) ^ i) & 0xff;
        return out.subarray(0, 16);
      };
      var s = "abc".padStart(5, " ").lastIndexOf("b");
      var keys = Object.keys({ a: 1 });
      var p = Promise.resolve(1).then(function (v) { return Math.pow(v, 2); });
      var o = { get x() { return 1; } };
      var ok = typeof Map !== "undefined" && new Map();
      try { throw new Error("x"); } catch (err) { console.log(err.message); }
    `;
    const r = checkImage(code, {});
    expect(r.errors).to.deep.equal([]);
    expect(r.ok).to.equal(true);
  });

  const failing: Array<[string, string, string]> = [
    ['default parameter', 'function f(a, b = 2) { return a + b; }', 'syntax/default-parameter'],
    ['new Map()', 'var m = new Map();', 'missing-global'],
    ['spread call', 'f(...x);', 'syntax/spread'],
    ['rest parameter', 'function f(...a) { return a; }', 'syntax/rest'],
    ['label', 'outer: for (var i = 0; i < 3; i++) { for (;;) { continue outer; } }', 'label'],
    ['function used before its declaration', 'function f() { var o = { g: h }; function h() {} return o; }', 'hoisting'],
    ['function called before its declaration at the top level', 'later(); function later() {}', 'hoisting'],
    // Espruino 2v29 creates a var's local only when it reaches the var (both measured on it)
    ['var assigned before its declaration (terser inlining)', 'var i = 1; function f(t) { i = t; return i; var i; }', 'hoisting'],
    ['var declared in one switch case, used in another (terser drops the repeated var)', 'var s = 1; function f(k, d) { switch (k) { case 1: var s = d; break; case 2: s = d * 2; return s; } }', 'hoisting'],
    ['var declared only in a branch, used after it', 'function f(c) { if (c) { var k = 2; } return k; }', 'hoisting'],
    ['var declared in a loop body, used after the loop', 'function f(n) { for (var b = 0; b < n; b++) { for (var i = 0; i < 2; i++); } return i; }', 'hoisting'],
    ['arrow', 'var f = function () { return [1].map(x => x * 2); };', 'syntax/arrow'],
    ['destructuring', 'var { a } = o;', 'syntax/destructuring'],
    ['array destructuring', 'var [a] = x;', 'syntax/destructuring'],
    ['Array.from', 'var y = Array.from(x);', 'missing-static'],
    ['Math.imul', 'var z = Math.imul(a, b);', 'missing-static'],
    ['Object.freeze', 'Object.freeze(o);', 'missing-static'],
    ['trimStart', 'var t = s.trimStart();', 'missing-method'],
    ['.at()', 'var last = arr.at(-1);', 'missing-method'],
    ['Symbol.iterator', 'var it = o[Symbol.iterator]();', 'missing-global'],
    ['optional chaining', 'var v = a?.b;', 'syntax/optional-chaining'],
    ['exponent', 'var v = a ** b;', 'syntax/exponent'],
    ['computed key', 'var o = { [k]: 1 };', 'syntax/computed-key'],
    ['class', 'class A { m() {} }', 'syntax/class'],
    ['let/const', 'let a = 1;', 'syntax/let-const'],
    ['template literal', 'var s = `a${b}`;', 'syntax/template-literal'],
    ['async function', 'async function f() { await g(); }', 'syntax/async'],
    ['generator', 'function* g() { yield 1; }', 'syntax/generator'],
    ['Uint8Array.from', 'var u = Uint8Array.from([1, 2]);', 'missing-static'],
    ['Uint32Array.from (noble hashes at load)', 'var K = Uint32Array.from([1, 2]);', 'missing-static'],
    ['Number.isInteger', 'if (Number.isInteger(n)) n++;', 'missing-static'],
    ['Promise finally', 'p.finally(function () {});', 'missing-method'],
    ['TextEncoder', 'var e = new TextEncoder();', 'missing-global'],
  ];
  for (const [name, code, rule] of failing) {
    it(`fails on ${name} with rule ${rule}`, () => expectRule(code, rule));
  }

  it('"x".padStart is present on 2v29 (per builtins-2v29.json), so it passes', () => {
    const builtins = JSON.parse(readFileSync(new URL('../kit/builtins-2v29.json', import.meta.url), 'utf8'));
    expect(builtins.present.protos.String).to.include('padStart');
    expect(checkImage('var p = "x".padStart(3, "0");', {}).ok).to.equal(true);
  });

  it('does not flag lastIndexOf (present on String)', () => {
    expect(rules('var i = s.lastIndexOf("b");')).to.deep.equal([]);
  });

  it('a locally declared Map does not fail', () => {
    expect(rules('var Map = 1; Map + 1;')).to.deep.equal([]);
    expect(rules('function f(Map) { return new Map(); }')).to.deep.equal([]);
    expect(rules('function f() { var Symbol = {}; return function () { return Symbol.iterator; }; }')).to.deep.equal([]);
  });

  it('property keys and member names are not references', () => {
    expect(rules('var o = { Map: 1 };')).to.deep.equal([]);
    expect(rules('var x = o.Map; o.Symbol = 2;')).to.deep.equal([]);
  });

  it('a shadowed constructor is not checked for statics', () => {
    expect(rules('var Array = { from: function () {} }; Array.from(1);')).to.deep.equal([]);
  });

  it('Map used outside the scope that declares it still fails', () => {
    expect(rules('function f() { var Map = 1; } var m = new Map();')).to.deep.equal(['missing-global']);
  });

  it('a var that surely ran before its use passes (for init, same branch, catch parameter, parameter, nested function)', () => {
    expect(rules('function f(n) { var t = 0; for (var i = 0; i < n; i++) t += i; return t + i; }')).to.deep.equal([]);
    expect(rules('function f(c) { if (c) { var k = 2; return k; } return 0; }')).to.deep.equal([]);
    expect(rules('function f(k) { switch (k) { case 1: var s = 2; return s; } }')).to.deep.equal([]);
    expect(rules('function f(g) { try { g(); } catch (e) { return e; } }')).to.deep.equal([]);
    expect(rules('function f(t) { if (t) t = 1; var t; return t; }')).to.deep.equal([]);
    expect(rules('function f() { var g = function () { return k; }; var k = 1; return g; }')).to.deep.equal([]);
    expect(rules('function f(c) { do { var d = 1; } while (c); return d; }')).to.deep.equal([]);
  });

  it('reports location and snippet', () => {
    const r = checkImage('var a = 1;\nvar m = new Map();', {});
    expect(r.errors[0]).to.include({ rule: 'missing-global', line: 2, column: 13 });
    expect(r.errors[0].snippet).to.equal('var m = new Map();');
  });

  it('reports several constructs of one ES2015+ file', () => {
    const rs = rules('const f = (a = 1) => `${a}`;');
    expect(rs).to.include.members(['syntax/let-const', 'syntax/arrow', 'syntax/default-parameter', 'syntax/template-literal']);
  });

  it('reports a parse error with its location', () => {
    const r = checkImage('var = ;', {});
    expect(r.ok).to.equal(false);
    expect(r.errors[0].rule).to.equal('syntax/parse-error');
    expect(r.errors[0].line).to.equal(1);
  });

  it('rejects what the real interpreter throws on at run time: .length assignment, default before a case', () => {
    expect(rules('var a = [1, 2, 3];\na.length = 1;')).to.deep.equal(['semantics/length-assignment']);
    expect(rules('function f(x) { switch (x) { default: return 0; case 1: return 1; } }')).to.deep.equal(['semantics/default-before-case']);
    // what is fine: truncating with splice, reading length, default last
    expect(rules('var a = [1, 2, 3];\na.splice(1, a.length - 1);\nvar n = a.length;')).to.deep.equal([]);
    expect(rules('function f(x) { switch (x) { case 1: return 1; default: return 0; } }')).to.deep.equal([]);
  });

  describe('native crypto', () => {
    const code = 'var c = require("crypto"); var h = c.SHA256("x"); var k = c.SHA512("y");';
    it('is not checked without opts.nativeCrypto', () => {
      expect(checkImage(code, {}).ok).to.equal(true);
    });
    it('flags libraries the board lacks', () => {
      const r = checkImage(code, { nativeCrypto: ['SHA256', 'AES'] });
      expect(r.errors.map((e) => e.rule)).to.deep.equal(['native-crypto']);
      expect(r.errors[0].message).to.contain('SHA512');
      expect(checkImage(code, { nativeCrypto: ['SHA256', 'SHA512'] }).ok).to.equal(true);
    });
    it('distinguishes AES from AES-CCM', () => {
      const ccm = 'var c = require("crypto"); c.AES.ccmEncrypt(m, k, iv);';
      const cbc = 'var c = require("crypto"); c.AES.encrypt(m, k, { mode: "CBC" });';
      expect(checkImage(ccm, { nativeCrypto: ['SHA256', 'AES'] }).ok).to.equal(false);
      expect(checkImage(ccm, { nativeCrypto: ['SHA256', 'AES-CCM'] }).ok).to.equal(true);
      expect(checkImage(cbc, { nativeCrypto: ['SHA256', 'AES-CCM'] }).ok).to.equal(false);
      expect(checkImage(cbc, { nativeCrypto: ['AES'] }).ok).to.equal(true);
    });
  });
});

// ---- regular expressions: the subset Espruino 2v29's own engine answers as V8 does
// (tools/profile/regex.ts, measured by tools/profile/regex-2v29.json; regenerate it with
// `ESPRUINO_BIN=... node --import tsx tools/profile/regex-probe.ts`)

const regexData: RegexData = JSON.parse(readFileSync(DATA_FILE, 'utf8'));
const probeById = new Map<string, ProbeRecord>(regexData.probes.map((p) => [p.id, p]));
/** Probes whose inputs are ASCII: the subset is about those (non-ASCII strings are walked as UTF-8 bytes). */
const asciiProbes = regexData.probes.filter((p) => !p.id.startsWith('nonascii-'));
const accepted = (p: ProbeRecord) => checkImage(probeExpression(p, p.inputs[0])).ok;

describe('profile check: regular expressions (Espruino 2v29 engine)', () => {
  // [rule, code on line 2, the text the reported column points at]
  const forbidden: Array<[string, string, string]> = [
    ['regex/optional-quantifier', 'var ok = /colou?r/.test(s);', '?r/'],
    ['regex/lazy-quantifier', 'var m = /a+?b/.exec(s);', '+?b'],
    ['regex/counted-quantifier', 'var ok = /^[0-9a-fA-F]{32}$/.test(s);', '{32}'],
    ['regex/non-capturing-group', 'var m = /(?:ab)c/.exec(s);', '(?:'],
    ['regex/lookaround', 'var m = /a(?=b)/.exec(s);', '(?='],
    ['regex/named-group', 'var m = /(?<n>a)/.exec(s);', '(?<'],
    ['regex/backreference', 'var m = /(a)\\1/.exec(s);', '\\1'],
    ['regex/unicode-escape', 'var j = s.replace(/[\\u007f-\\uffff]/g, f);', '\\u007f'],
    ['regex/word-boundary', 'var m = /\\bfoo/.exec(s);', '\\bfoo'],
    ['regex/control-escape', 'var m = /\\cJ/.exec(s);', '\\cJ'],
    ['regex/hex-escape', 'var m = /\\xe9/.exec(s);', '\\xe9'],
    ['regex/identity-escape', 'var m = /\\q/.exec(s);', '\\q'],
    ['regex/dot', 'var m = /a.c/.exec(s);', '.c/'],
    ['regex/non-ascii', 'var m = /[\u00e9a]/.exec(s);', '\u00e9a'],
    ['regex/class-syntax', 'var m = /[a-c-e]/.exec(s);', '-e]'],
    ['regex/range', 'var m = /[a-a]/.exec(s);', 'a-a]'],
    ['regex/range-case', 'var m = /[A-z]/i.exec(s);', 'A-z'],
    ['regex/plus-overlap', 'var m = /a+a/.exec(s);', 'a+a'],
    ['regex/plus-end-of-input', 'var m = /a[^b]+/.exec(s);', '[^b]+'],
    ['regex/group-quantifier', 'var ok = /^(ab)+$/.test(s);', '+$'],
    ['regex/nested-group', 'var m = /((a)b)c/.exec(s);', '(a)'],
    ['regex/too-many-groups', 'var m = /(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)/.exec(s);', '(j)'],
    ['regex/alternation-in-group', 'var m = /a(b|c)d/.exec(s);', '|c)'],
    ['regex/alternation-with-group', 'var m = /(a)x|b/.exec(s);', '|b'],
    ['regex/alternation-with-quantifier', 'var m = /a*ab|aaa/.exec(s);', '*ab'],
    ['regex/anchor-alternation', 'var m = /^a|b/.exec(s);', '^a|'],
    ['regex/anchor-position', 'var m = /x^|x/.exec(s);', '^|'],
    ['regex/flag-m', 'var m = /^b/m.exec(s);', 'm.exec'],
    ['regex/global-flag', 'var re = /b$/g;', 'g;'],
    ['regex/match-global', 'var all = s.match(/\\d/g);', 'g)'],
    ['regex/replacement-pattern', 'var t = s.replace(/b/, "[$&]");', '$&'],
    ['regex/split-capture', 'var parts = s.split(/(,)/);', '(,)'],
    ['regex/split-limit', 'var parts = s.split(/,/, 2);', ',/, 2'],
    ['regex/split-empty', 'var parts = s.split(/x*/);', 'x*/'],
    ['regex/constructor', 'var re = new RegExp("a{2}");', 'new RegExp']
  ];

  it('has one case here for every regex rule', () => {
    expect(forbidden.map((f) => f[0]).sort()).to.deep.equal(Object.keys(REGEX_RULES).sort());
  });

  for (const [rule, code, at] of forbidden) {
    it(`rejects ${REGEX_RULES[rule].construct} (${rule}) and names it with its line and column`, () => {
      const r = checkImage('var s = "x";\n' + code, {});
      expect(r.ok, code).to.equal(false);
      const e = r.errors.find((x) => x.rule === rule);
      expect(e, `${code}: ${JSON.stringify(r.errors.map((x) => x.rule))}`).to.not.equal(undefined);
      expect(e!.line).to.equal(2);
      expect(e!.column, `column of ${at}`).to.equal(code.indexOf(at) + 1);
      expect(e!.snippet).to.equal(code);
      expect(e!.message).to.contain('Espruino 2v29');
      if (rule !== 'regex/constructor') expect(e!.message).to.contain(REGEX_RULES[rule].construct).and.contain(REGEX_RULES[rule].espruino);
    });
  }

  const allowed: Array<[string, string]> = [
    ['literal characters and punctuation', 'var ok = /a-b,c:d;e=f#g%h@i!j<k>l~m_n&o ]}/.test(s);'],
    ['a { that is not a count', 'var ok = /a{b/.test(s);'],
    ['\\d \\D \\w \\W \\s \\S', 'var ok = /\\d\\D\\w\\W\\s\\S/.test(s);'],
    ['escaped syntax characters', 'var ok = /\\.\\\\\\/\\^\\$\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\-/.test(s);'],
    ['escaped punctuation', 'var ok = /\\,\\:\\=\\!\\<\\>\\@\\#\\%\\&\\~\\ /.test(s);'],
    ['\\n \\r \\t \\f \\v \\0 and \\xXX below 80', 'var ok = /\\n\\r\\t\\f\\v\\0\\x41\\x7e/.test(s);'],
    ['classes and negated classes', 'var ok = /[abc][^abc]/.test(s);'],
    ['ranges between literal characters', 'var ok = /[a-zA-Z0-9_][!-\\/]/.test(s);'],
    ['ranges with \\x and control escapes', 'var ok = /[\\x41-\\x5a][\\t-\\r]/.test(s);'],
    ['class escapes, escaped ] \\ - / and . in a class', 'var ok = /[\\d.][\\w-][\\s,][\\]][\\\\][a\\-z][\\/][\\.-9]/.test(s);'],
    ['- first or last in a class', 'var ok = /[-a][a-]/.test(s);'],
    ['syntax characters in a class', 'var ok = /[$*+?(){}^]/.test(s);'],
    ['ranges within one case with i', 'var ok = /[A-F][a-f][0-9]/i.test(s);'],
    ['x* anywhere, x+ before something it cannot match', 'var ok = /^ba*c\\d+x[0-9a-f]+$/.test(s);'],
    ['[^x][^x]* (the + of a negated class written out)', 'var ok = /a[^b][^b]*/.test(s);'],
    ['x+ then y* then $', 'var ok = /^a+b*$/.test(s);'],
    ['^ and $', 'var ok = /^abc$/.test(s) || /^$/.test(s);'],
    ['top-level alternation without groups or quantifiers', 'var m = /cat|dog|[0-9]x/.exec(s) || /^a|^b/.exec(s) || /b|^a/.exec(s) || /a$|b/.exec(s);'],
    ['up to nine plain groups', 'var m = /(a)(b)(c)(d)(e)(f)(g)(h)(i)/.exec(s) || /(a*)b/.exec(s);'],
    ['flag i', 'var ok = /abc/i.test(s);'],
    ['flag g as the pattern of replace, with $1..$9 or a function', 'var t = s.replace(/(b)(c)/g, "[$2$1]").replace(/\\s+$/g, "").replace(/[^a-z]/g, function (c) { return "_"; });'],
    ['match without g', 'var m = s.match(/(\\d)(\\d)/);'],
    ['split on a pattern that cannot match ""', 'var p = s.split(/[,;] */);'],
    ['a pattern kept in a variable (no g)', 'var HEX = /^[0-9a-fA-F]*$/; var ok = HEX.test(s);'],
    ["the firmware's own regexes (protocol/bytes.ts)", 'var H = /^[0-9a-fA-F]*$/, N = /[^\\x00-\\x7e]/;']
  ];
  for (const [what, code] of allowed) {
    it(`allows ${what}`, () => {
      expect(checkImage(code, {}).errors, code).to.deep.equal([]);
    });
  }

  it('a RegExp the code declares itself is not the constructor', () => {
    expect(rules('function f(RegExp) { return new RegExp(1); }')).to.deep.equal([]);
  });

  it('reports every construct of one literal, at its own column', () => {
    const code = 'var ok = /^([0-9a-fA-F]{2})+$/.test(s);';
    const r = checkImage(code, {});
    expect(r.errors.map((e) => [e.rule, e.column])).to.deep.equal([['regex/counted-quantifier', code.indexOf('{2}') + 1], ['regex/group-quantifier', code.indexOf('+$') + 1]]);
  });
});

describe('regex subset: the probes of regex-2v29.json hold the rules to what the binary does', () => {
  it('the data file has every probe of the corpus, as defined (regenerate it with tools/profile/regex-probe.ts)', () => {
    expect(regexData.probes.map((p) => p.id)).to.deep.equal(PROBES.map((p) => p.id));
    for (const p of PROBES) {
      const rec = probeById.get(p.id)!;
      expect({ source: rec.source, flags: rec.flags, method: rec.method, arg: rec.arg, inputs: rec.inputs }, p.id).to.deep.equal({ source: p.source, flags: p.flags, method: p.method, arg: p.arg, inputs: p.inputs });
      expect(rec.results.map((r) => r.input)).to.deep.equal(p.inputs);
    }
  });

  it('every probe the check accepts gives V8\'s answer on Espruino 2v29 for every (ASCII) input', () => {
    const wrong = asciiProbes.filter((p) => accepted(p) && !p.same).map((p) => `/${p.source}/${p.flags} (${p.id})`);
    expect(wrong).to.deep.equal([]);
    expect(asciiProbes.filter(accepted).length, 'accepted probes').to.be.at.least(80);
  });

  it('the data file records the subset as tools/profile/regex.ts defines it', () => {
    expect(regexData.allowed).to.deep.equal(REGEX_ALLOWED);
    expect(regexData.forbidden).to.deep.equal(JSON.parse(JSON.stringify(REGEX_RULES)));
  });

  for (const a of REGEX_ALLOWED) {
    it(`allowed: ${a.construct} — its probes are accepted and give V8's answers on the binary`, () => {
      for (const id of a.evidence) {
        const p = probeById.get(id);
        expect(p, id).to.not.equal(undefined);
        expect(checkImage(probeExpression(p!, p!.inputs[0])).errors, id).to.deep.equal([]);
        expect(p!.results.filter((r) => !r.same), id).to.deep.equal([]);
      }
    });
  }

  for (const [rule, def] of Object.entries(REGEX_RULES)) {
    it(`${rule}: its probes ${def.evidence.join(', ')} are rejected by this rule${def.forClarity ? '' : ' and differ from V8 on the binary'}`, () => {
      for (const id of def.evidence) {
        const p = probeById.get(id);
        expect(p, id).to.not.equal(undefined);
        const rs = checkImage(probeExpression(p!, p!.inputs[0])).errors.map((e) => e.rule);
        expect(rs, id).to.include(rule);
        if (!def.forClarity) expect(p!.same, `${id} differs on Espruino`).to.equal(false);
      }
    });
  }

  it('the bugs this work fixed are on record: [\\u007f-\\uffff] escapes ASCII letters, {32} never matches', () => {
    const esc = probeById.get('range-u-nonascii')!.results[0];
    expect(esc.v8).to.deep.equal({ v: '{"a":"hello"}' });
    expect((esc.espruino as { v: string }).v).to.contain('<h,6,');
    expect(probeById.get('counted-hex32')!.results[0]).to.deep.include({ espruino: { v: false }, v8: { v: true } });
  });

  const ESPRUINO = findEspruino();
  (ESPRUINO ? it : it.skip)(`the accepted probes still give the recorded answers on the real interpreter${ESPRUINO ? '' : ` (skipped: ${noEspruinoReason()})`}`, function () {
    this.timeout(60000);
    const subset = asciiProbes.filter(accepted);
    const live = runOnEspruino(ESPRUINO!, probeCases(subset));
    const differ: string[] = [];
    for (const p of subset) {
      p.results.forEach((r, i) => {
        const now = live.get(p.id + '#' + i);
        if (JSON.stringify(now) !== JSON.stringify(r.espruino) || JSON.stringify(now) !== JSON.stringify(r.v8)) differ.push(`${p.id}#${i} now ${JSON.stringify(now)}, recorded ${JSON.stringify(r.espruino)}, V8 ${JSON.stringify(r.v8)}`);
      });
    }
    expect(differ).to.deep.equal([]);
    expect(live.size).to.equal(subset.reduce((n, p) => n + p.inputs.length, 0));
  });
});

describe('regex subset: the code that goes into an image', () => {
  /** regex literals and RegExp references of a TypeScript file: [line, pattern, flags] */
  function regexesIn(file: string): Array<[number, string, string]> {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const out: Array<[number, string, string]> = [];
    const visit = (n: ts.Node) => {
      if (n.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = n.getText(src);
        const end = text.lastIndexOf('/');
        out.push([src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1, text.slice(1, end), text.slice(end + 1)]);
      } else if (ts.isIdentifier(n) && n.text === 'RegExp') {
        out.push([src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1, 'RegExp', '']);
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
    return out;
  }
  const tsFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));

  it('firmware/ and protocol/ hold no regex outside the subset (file:line of any)', () => {
    const bad: string[] = [];
    let seen = 0;
    for (const file of [...tsFiles('firmware'), ...tsFiles('protocol')]) {
      for (const [line, pattern, flags] of regexesIn(file)) {
        seen++;
        if (pattern === 'RegExp') { bad.push(`${file}:${line} RegExp`); continue; }
        const problems = checkRegex(pattern, flags);
        if (problems.length) bad.push(`${file}:${line} /${pattern}/${flags}: ${problems.map((p) => p.rule).join(', ')}`);
      }
    }
    expect(bad).to.deep.equal([]);
    expect(seen, 'protocol/bytes.ts keeps two subset regexes').to.be.at.least(2);
  });

  it('a built image (esp32: firmware, protocol and tweetnacl) passes the regex rules of the build', async function () {
    this.timeout(120000);
    const out = mkdtempSync(join(tmpdir(), 'regex-image-'));
    try {
      const image = await buildBoard(getBoard('esp32'), { outDir: out });
      expect(image.errors.filter((e) => e.startsWith('regex/'))).to.deep.equal([]);
      const code = readFileSync(image.file, 'latin1');
      expect(code).to.not.contain('RegExp(');
      expect(code).to.not.contain('{32}');
      expect(code).to.not.contain('\\u007f-');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
