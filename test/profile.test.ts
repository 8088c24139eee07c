import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { checkImage } from '../tools/profile/check.ts';

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
    const builtins = JSON.parse(readFileSync(new URL('../tools/profile/builtins-2v29.json', import.meta.url), 'utf8'));
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
