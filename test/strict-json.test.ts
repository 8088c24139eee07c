// The strict JSON check every request payload passes before the interpreter's JSON.parse sees
// it (protocol/json.ts): on Node against the TypeScript source, and on the real interpreter
// (Espruino 2v29's Linux build) against the same module compiled to ES5 by the firmware's own
// Rollup/Babel/terser configuration. The same table of cases runs on both, and the verdicts
// (-1, or the offset of the refused byte) must agree.
import { expect } from 'chai';
import fc from 'fast-check';
import path from 'node:path';
import vm from 'node:vm';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rollup } from 'rollup';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { jsonError, MAX_JSON_DEPTH } from '../protocol/json.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { scriptConfig } from '../rollup.config.js';
import { buildInfoFor } from '../tools/build.ts';
import { getBoard } from '../board-defs/index.ts';
import { checkImage } from '../tools/profile/check.ts';
import { findEspruino, noEspruinoReason } from '../kit/real/binary.ts';

const arrays = (d: number) => '['.repeat(d) + ']'.repeat(d);
const objects = (d: number) => '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1);

/** Valid JSON of every shape, within the device's limits: each is accepted (-1). */
const VALID: string[] = [
  // scalars at the top
  'true', 'false', 'null', '0', '-0', '7', '-7', '1.5', '-0.25', '1e5', '1E5', '1e+5', '1e-5', '-1.25E-3', '1e308', '1e999', '5e-324', '0.000001e-999',
  '9007199254740992', '-9007199254740992', '9007199254740992.5', '123456789012345.678901234567890',
  '""', '"abc"', '" "', '"\x7f"', '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u0000"', '"\\u001f"', '"\\u0041\\u00e9\\uFFFF"', '"\\ud83d\\ude00"', '"\\uD800\\uDC00x"', '"\\udbff\\udfff"',
  // containers
  '{}', '[]', '{"a":1}', '[1,"two",true,false,null,{},[]]', '{"a":{"b":{"c":[1,{"d":null}]}}}',
  '{"":0}', '{"a b":1,"A":2,"a":3}', '{"\\u0062\\n":1,"a\\n":2}', '{"k":"v","v":"k"}',
  // the same key in different objects is not a duplicate
  '{"a":{"a":{"a":1}},"b":{"a":2},"c":[{"a":1},{"a":2}]}', '[{"x":1},{"x":1}]',
  // whitespace the RFC allows, everywhere it allows it
  ' \t\r\n{ \t\r\n"a" \t\r\n: \t\r\n[ 1 , 2 ] \t\r\n, "b" : { } } \r\n', ' 0 ', '[ ]', '{ }',
  // the nesting limit itself
  arrays(MAX_JSON_DEPTH), objects(MAX_JSON_DEPTH),
  // requests as the host sends them
  '{"now":1795000000000}', '{"id":1001,"customer":77,"category":3,"weight":45,"postage":95}', '{"mode":"batch","customer":7,"category":4,"weight":20,"postage":85}',
  '{"customers":[1,2,3],"records":0}', '{"flushPeriodS":3600,"foldWhenFull":true,"recordsOnHost":false}'
];

/** Refused: the text, the offset of the refused byte, and why. Each is something Espruino
 * 2v29's JSON.parse takes (or that breaks it), or is otherwise outside RFC 8259 or the limits. */
const REFUSED: [string, number, string][] = [
  // trailing bytes
  ['{"data":"ok"}garbage', 13, 'trailing garbage'],
  ['{"a":1}}', 7, 'a closing brace too many'],
  ['{"a":1} {"a":2}', 8, 'two values'],
  ['1 2', 2, 'two numbers'],
  ['{"a":1}\x00', 7, 'a trailing NUL byte'],
  // duplicate keys, at any depth, compared decoded
  ['{"data":"a","data":5}', 12, 'a duplicate key (Espruino keeps the first, V8 the last)'],
  ['{"a":1,"b":2,"a":3}', 13, 'a duplicate key, not adjacent'],
  ['{"p":{"x":1,"x":2}}', 12, 'a duplicate key one level down'],
  ['[{"ok":1},{"x":1,"x":1}]', 17, 'a duplicate key inside an array'],
  ['{"a":1,"\\u0061":2}', 7, 'a duplicate key written with an escape'],
  ['{"":1,"":2}', 6, 'the empty key twice'],
  ['{"__proto__":1}', 1, 'a __proto__ key (its primitive value ends the interpreter)'],
  ['{"a":[{"__proto__":{}}]}', 7, 'a __proto__ key deep down (it would set the prototype)'],
  ['{"\\u005f_proto__":null}', 1, 'a __proto__ key written with an escape'],
  // numbers
  ['{"now":18446744073709551617}', 7, 'an integer past 2^64 (Espruino: 1)'],
  ['9007199254740993', 0, 'an integer past 2^53'],
  ['-9007199254740993', 0, 'a negative integer past 2^53'],
  ['10000000000000000', 0, 'seventeen digits'],
  ['18446744073709551617.5', 0, 'an integer part past 2^53 with a fraction'],
  ['18446744073709551617e0', 0, 'an integer part past 2^53 with an exponent'],
  ['1e1000', 2, 'an exponent of four digits'],
  ['1e4294967297', 2, 'an exponent past 2^32 (Espruino: 10)'],
  ['1e-0001', 3, 'four exponent digits, leading zeros included'],
  ['01', 1, 'a leading zero'],
  ['-01', 2, 'a leading zero after a minus'],
  ['00', 1, 'two zeros'],
  ['[1,007]', 4, 'a leading zero in an array'],
  ['0x10', 1, 'a hex number'],
  ['{"a":0x1F}', 6, 'a hex number in an object'],
  ['+1', 0, 'a plus sign'],
  ['.5', 0, 'no integer part'],
  ['1.', 2, 'no fraction digits'],
  ['1.e5', 2, 'no fraction digits before an exponent'],
  ['1e', 2, 'no exponent digits'],
  ['1e+', 3, 'no exponent digits after the sign'],
  ['-', 1, 'a lone minus'],
  ['--1', 1, 'two minus signs'],
  ['NaN', 0, 'NaN'],
  ['Infinity', 0, 'Infinity'],
  ['-Infinity', 1, 'minus Infinity'],
  // strings and quotes
  ["{'a':1}", 1, 'a single-quoted key'],
  ["{\"a\":'x'}", 5, 'a single-quoted value'],
  ['"\\x41"', 2, 'a \\x escape'],
  ['"\\a"', 2, 'an escape the RFC does not have'],
  ['"\\\'"', 2, 'an escaped single quote'],
  ['"\\u12"', 5, 'a short \\u escape'],
  ['"\\u0G00"', 4, 'a \\u escape with a non-hex digit'],
  ['"\\u\x10\x10\x10\x10"', 3, 'a \\u escape of control bytes that look like digits once lowercased'],
  ['"a\nb"', 2, 'a raw line feed in a string'],
  ['"a\tb"', 2, 'a raw tab in a string'],
  ['"\x00"', 1, 'a raw NUL in a string'],
  ['"\x1f"', 1, 'a raw unit separator in a string'],
  ['"\xe9"', 1, 'a raw non-ASCII byte (the payload is ASCII JSON)'],
  ['"\\ud800"', 7, 'a lone high surrogate (Espruino: the empty string)'],
  ['"\\udc00"', 6, 'a lone low surrogate'],
  ['"\\ud800x"', 7, 'a high surrogate before a plain char'],
  ['"\\ud800\\u0041"', 12, 'a high surrogate before a non-surrogate escape'],
  ['"\\ud800\\ud800"', 12, 'two high surrogates'],
  ['"\\ude00\\ud83d"', 6, 'a pair the wrong way round'],
  ['"\\ud800\\n"', 7, 'a high surrogate before another escape'],
  ['"abc', 4, 'an unterminated string'],
  ['"abc\\', 5, 'an unterminated escape'],
  ['{"a":"b}', 8, 'an unterminated value'],
  // structure
  ['[1,2,]', 5, 'a trailing comma in an array'],
  ['{"a":1,}', 7, 'a trailing comma in an object'],
  ['[,1]', 1, 'a leading comma'],
  ['[1,,2]', 3, 'two commas'],
  ['{,}', 1, 'a lone comma in an object'],
  ['{"a" 1}', 5, 'no colon'],
  ['{"a"::1}', 5, 'two colons'],
  ['{"a":}', 5, 'no value'],
  ['{"a"}', 4, 'a key without a value'],
  ['{a:1}', 1, 'an unquoted key'],
  ['{1:2}', 1, 'a number as a key'],
  ['[1 2]', 3, 'no comma'],
  ['[1}', 2, 'the wrong closing bracket'],
  ['{"a":1]', 6, 'the wrong closing brace'],
  ['[', 1, 'an unclosed array'],
  ['{"a":[1,2}', 9, 'an unclosed array inside an object'],
  [']', 0, 'a closing bracket first'],
  ['', 0, 'nothing'],
  ['  \r\n', 4, 'only whitespace'],
  ['\x0b{}', 0, 'a vertical tab is not JSON whitespace'],
  ['\xa0{}', 0, 'a no-break space is not JSON whitespace'],
  ['\xef\xbb\xbf{}', 0, 'a byte order mark'],
  ['{}/*x*/', 2, 'a comment'],
  ['tru', 0, 'a cut literal'],
  ['nul', 0, 'a cut null'],
  ['truex', 4, 'a literal followed by a letter'],
  ['True', 0, 'a capital literal'],
  ['undefined', 0, 'undefined'],
  [arrays(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH, 'arrays nested one level too deep'],
  [objects(MAX_JSON_DEPTH + 1), 5 * MAX_JSON_DEPTH, 'objects nested one level too deep'],
  [arrays(500), MAX_JSON_DEPTH, 'arrays nested 500 deep']
];

/** The brief's list: Espruino 2v29's own JSON.parse takes each without a word (test below). */
const ESPRUINO_TAKES = ['{"data":"ok"}garbage', '{"data":"a","data":5}', '{"now":18446744073709551617}', '[1,2,]', '{"a":1,}', "{'a':1}", '0x10', '"\\x41"', '"\\ud800"', '1e4294967297', '{"a":1}\x00'];

/** Texts from JSON's own alphabet, and near-JSON, for the properties and the cross-check. */
const nearJson = fc
  .array(fc.constantFrom(...'{}[],:"\\ 0123456789-+.eEtrufalsnx\'\ta/!~*()'.split(''), '\\u0041', '\\ud800', '\\udc00', '\\n', 'true', 'null', '"a"', '"a":', '"b":', '"0123abcd"', '\x7f', '\xe9'), { maxLength: 30 })
  .map((a) => a.join(''));
/** A fixed sample of them, bare and as an array member of an object. */
const SAMPLE = fc.sample(nearJson, { numRuns: 400, seed: 8259 }).concat(fc.sample(nearJson.map((t) => '{"k":[' + t + ']}'), { numRuns: 200, seed: 7493 }));

/** Each valid case with one byte left out: near misses, some still valid. */
const MUTANTS = VALID.flatMap((t) => Array.from({ length: Math.min(t.length, 40) }, (_, k) => t.slice(0, k) + t.slice(k + 1)));

describe('strict JSON check (protocol/json.ts) on Node', () => {
  it('accepts valid JSON of every shape, as V8 does', () => {
    for (const t of VALID) {
      expect(jsonError(t), JSON.stringify(t)).to.equal(-1);
      expect(() => JSON.parse(t), JSON.stringify(t)).to.not.throw();
    }
  });

  it('refuses trailing bytes, duplicate or __proto__ keys, big integers, leading zeros, hex, single quotes, trailing commas, control chars, \\x escapes, lone surrogates and deep nesting, at the right byte', () => {
    for (const [t, at, why] of REFUSED) expect(jsonError(t), `${why}: ${JSON.stringify(t)}`).to.equal(at);
  });

  it('refuses every non-ASCII byte anywhere, accepts every printable ASCII byte in a string', () => {
    for (let b = 0; b < 256; b++) {
      const inString = '{"a":"x' + String.fromCharCode(b) + 'y"}';
      // a quote ends the string early (the 'y' after it is refused); a backslash makes '\y'
      const expected = b === 0x22 || b === 0x5c ? 8 : b < 0x20 || b > 0x7f ? 7 : -1;
      expect(jsonError(inString), 'byte ' + b).to.equal(expected);
    }
  });

  it("whatever it accepts, V8's JSON.parse accepts too (random texts from JSON's own alphabet, valid cases with a byte left out)", () => {
    for (const t of MUTANTS) if (jsonError(t) < 0) expect(() => JSON.parse(t), JSON.stringify(t)).to.not.throw();
    fc.assert(
      fc.property(nearJson, (t) => {
        if (jsonError(t) < 0) expect(() => JSON.parse(t), JSON.stringify(t)).to.not.throw();
      }),
      { numRuns: 20000 }
    );
  });

  it('accepts what the host writes (asciiJson) for any value within its limits: depth, 2^53, no __proto__', () => {
    const key = fc.string({ unit: 'grapheme', maxLength: 6 }).filter((k) => k !== '__proto__');
    const leaf = fc.oneof(
      fc.boolean(),
      fc.constant(null),
      fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -(2 ** 53), max: 2 ** 53 }),
      fc.string({ unit: 'grapheme', maxLength: 10 })
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(key, tie('v'), { maxKeys: 4 }))
    })).v;
    const depth = (x: unknown): number => (x && typeof x === 'object' ? 1 + Math.max(0, ...Object.values(x as object).map(depth)) : 0);
    fc.assert(
      fc.property(value, (v) => {
        const t = asciiJson(v);
        if (depth(v) <= MAX_JSON_DEPTH) expect(jsonError(t), t).to.equal(-1);
        else expect(jsonError(t), t).to.be.at.least(0);
      }),
      { numRuns: 3000 }
    );
  });

  it('refuses a string exactly when it holds a lone surrogate (any UTF-16 string, as asciiJson writes it)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (str) => {
        const t = asciiJson({ s: str });
        expect(jsonError(t) < 0, t).to.equal((str as any).isWellFormed());
      }),
      { numRuns: 2000 }
    );
  });

  it('refuses integers past 2^53 however they are written, accepts every integer up to it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (n) => {
        const big = n > 2n ** 53n || n < -(2n ** 53n);
        for (const t of [String(n), String(n) + '.0', String(n) + 'e0', '{"now":' + n + '}'])
          expect(jsonError(t) < 0, t).to.equal(!big);
      }),
      { numRuns: 3000 }
    );
    for (const n of [2 ** 53, 2 ** 53 - 1, -(2 ** 53), 0, 1]) expect(jsonError(String(n))).to.equal(-1);
  });
});

// ---- the same cases on the real interpreter ----------------------------------------------

/** protocol/json.ts built as the firmware is built (Babel to ES5, terser, the linux board's
 * build facts), with one global, psdJsonError. */
async function compiledChecker(): Promise<string> {
  const config: any = scriptConfig(buildInfoFor(getBoard('linux'), null));
  const ENTRY = '\0strict-json-entry';
  const source = path.resolve('protocol/json.ts');
  const entry = {
    name: 'strict-json-entry',
    resolveId: (id: string) => (id === ENTRY ? id : null),
    load: (id: string) => (id === ENTRY ? `import { jsonError } from ${JSON.stringify(source)};\npsdJsonError = jsonError;\n` : null)
  };
  const bundle = await rollup({
    ...config,
    input: ENTRY,
    plugins: [entry, ...config.plugins],
    onwarn: (w) => {
      throw new Error('rollup: ' + w.message);
    }
  });
  const { output } = await bundle.generate(config.output);
  await bundle.close();
  return output[0].code;
}

const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/** Runs `code` on the binary as a file argument in a private folder; SIGKILL after the timeout. */
function runEspruino(binary: string, code: string, timeoutMs = 30000) {
  const dir = mkdtempSync(path.join(tmpdir(), 'psd-json-'));
  try {
    writeFileSync(path.join(dir, 'run.js'), code);
    const r = spawnSync(binary, ['run.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'latin1' });
    return { out: (r.stdout ?? '') + (r.stderr ?? ''), status: r.status, timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines starting with `marker`, marker removed. */
const marked = (out: string, marker: string) =>
  out
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.startsWith(marker))
    .map((l) => l.slice(marker.length));

/** A script that decodes each case from hex (byte-exact) and prints `<marker><index> <result>`. */
function casesScript(marker: string, cases: string[], body: string): string {
  return (
    'var H = ' + JSON.stringify(cases.map(hexOf)) + ';\n' +
    'function unhex(h) { var s = ""; for (var i = 0; i < h.length; i += 2) s += String.fromCharCode(parseInt(h.substr(i, 2), 16)); return s; }\n' +
    'for (var n = 0; n < H.length; n++) { var c = unhex(H[n]); print("' + marker + '" + n + " " + (' + body + ')); }\n'
  );
}

describe('strict JSON check on the real interpreter (Espruino 2v29, Linux build)', function () {
  this.timeout(120000);
  const binary = findEspruino();
  const ALL = [...VALID, ...REFUSED.map((r) => r[0]), ...SAMPLE, ...MUTANTS];
  const expected = ALL.map((t) => jsonError(t));
  let code = '';

  before(async function () {
    if (!binary) console.log('      (the cases on the binary are skipped: ' + noEspruinoReason() + ')');
    code = await compiledChecker();
  });

  it('compiles to ES5 that passes the Espruino profile check, as two functions and no regular expression', () => {
    const check = checkImage(code, { nativeCrypto: getBoard('linux').nativeCrypto });
    expect(check.errors.map((e) => e.rule + ': ' + e.message)).to.deep.equal([]);
    let functions = 0;
    let regexes = 0;
    walk.full(acorn.parse(code, { ecmaVersion: 5 }), (n: any) => {
      if (n.type === 'FunctionExpression' || n.type === 'FunctionDeclaration') functions++;
      if (n.type === 'Literal' && n.regex) regexes++;
      if (n.type === 'Identifier' && n.name === 'RegExp') regexes++;
    });
    // the bundle's own wrapper (the image has one anyway) is not the checker's
    const wrapper = /^(!function\(\)\{|\(function ?\(\) ?\{)/.test(code) ? 1 : 0;
    expect(functions - wrapper, 'jsonError and its string scan').to.equal(2);
    expect(regexes).to.equal(0);
  });

  it('the compiled checker gives the same verdicts as the TypeScript source (on Node)', () => {
    const sandbox: any = {};
    vm.runInNewContext(code, sandbox);
    expect(ALL.map((t) => sandbox.psdJsonError(t))).to.deep.equal(expected);
  });

  it('gives the same verdict on Espruino 2v29 as on Node for every case', function () {
    if (!binary) this.skip();
    const r = runEspruino(binary!, code + '\n' + casesScript('V', ALL, 'psdJsonError(c)'));
    expect(r.timedOut, r.out).to.equal(false);
    const got = marked(r.out, 'V').map((l) => Number(l.split(' ')[1]));
    expect(got.length, r.out.slice(-2000)).to.equal(ALL.length);
    const diff = ALL.map((t, i) => [t, expected[i], got[i]]).filter(([, e, g]) => e !== g);
    expect(diff, 'cases where Espruino and Node disagree').to.deep.equal([]);
  });

  it("what it accepts, Espruino's JSON.parse reads as V8 does (ASCII cases)", function () {
    if (!binary) this.skip();
    // \u escapes past 0x7f decode to UTF-8 bytes on Espruino (one char each on V8): left out
    const ascii = VALID.filter((t) => !/\\u(?!00[0-7])/i.test(t));
    // a number at the top is printed with String(): JSON.stringify writes Infinity as null
    const r = runEspruino(binary!, casesScript('P', ascii, '(function (v) { return typeof v === "number" ? "N" + v : JSON.stringify(v); })(JSON.parse(c))'));
    const got = marked(r.out, 'P').map((l) => l.slice(l.indexOf(' ') + 1));
    expect(got.length, r.out.slice(-2000)).to.equal(ascii.length);
    ascii.forEach((t, i) => {
      const v8 = JSON.parse(t);
      const esp = got[i].startsWith('N') ? Number(got[i].slice(1)) : JSON.parse(got[i]);
      if (typeof v8 !== 'number') expect(esp, t).to.deep.equal(v8);
      // Espruino prints 12 significant digits; -0 reads as 0 there
      else if (esp !== v8) expect(Math.abs(esp - v8), `${t}: ${got[i]}`).to.be.at.most(Math.abs(v8) * 1e-11);
    });
  });

  it("Espruino's own JSON.parse takes what the checker refuses (why the check exists)", function () {
    if (!binary) this.skip();
    for (const t of ESPRUINO_TAKES) expect(jsonError(t), t).to.be.at.least(0);
    const r = runEspruino(binary!, casesScript('L', ESPRUINO_TAKES, '(function () { try { var v = JSON.parse(c); return "took " + JSON.stringify(v) + (v && v.data !== undefined ? " data=" + JSON.stringify(v.data) : ""); } catch (e) { return "threw"; } })()'));
    const got = marked(r.out, 'L');
    expect(got, r.out.slice(-2000)).to.deep.equal([
      '0 took {"data":"ok"} data="ok"',
      // both keys kept; reading the field gives the first (V8: the last, 5)
      '1 took {"data":"a","data":5} data="a"',
      '2 took {"now":1}',
      '3 took [1,2]',
      '4 took {"a":1}',
      '5 took {"a":1}',
      '6 took 16',
      '7 took "A"',
      '8 took ""',
      '9 took 10',
      '10 took {"a":1}'
    ]);
  });

  it('a "__proto__" key with a number value: reading any absent field of the object then ends the interpreter in an ASSERT (why the checker refuses that key)', function () {
    if (!binary) this.skip();
    // JSON.parse itself returns; the handlers' first look at an optional field (req.count === undefined) is fatal
    const r = runEspruino(binary!, 'var v = JSON.parse(\'{"count":1,"__proto__":1}\'); print("PARSED " + v.count); print("ABSENT " + (v.from === undefined));');
    expect(marked(r.out, 'PARSED ')).to.deep.equal(['1']);
    expect(r.out).to.contain('ASSERT');
    expect(marked(r.out, 'ABSENT ')).to.deep.equal([]);
  });

  it('a nine-digit exponent keeps Espruino busy for a second or so (why exponents have at most 3 digits)', function () {
    if (!binary) this.skip();
    const t0 = Date.now();
    const r = runEspruino(binary!, 'var t = Date.now(); JSON.parse("1e300000000"); print("MS " + (Date.now() - t));', 60000);
    const ms = Number(marked(r.out, 'MS ')[0] ?? Date.now() - t0);
    expect(ms).to.be.above(500);
    expect(jsonError('1e300000000')).to.equal(2);
  });
});
