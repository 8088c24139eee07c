/**
 * Espruino's pretokenisation of a Storage file: reserved words and multi-character operators
 * become one byte each (0x8A-0xC6), string literals a length-prefixed raw string (0xD1 len
 * bytes, 0xD2 len16 bytes) and integers -32768..32767 a raw integer (0xD3, 0xD4 int8,
 * 0xD5 int16), whitespace goes. Espruino 2v29's lexer reads these bytes wherever it reads code
 * (src/jslex.c jslGetNextToken; token numbers: src/jslex.h LEX_TYPES), so a pretokenised file
 * runs from Storage as the plain one does, in fewer bytes.
 *
 * The tokeniser is EspruinoTools' own (the `espruino` package, plugins/pretokenise.js: what the
 * Web IDE and the Bangle.js app loader use). That file is a plugin for EspruinoTools' browser
 * globals; loading all of EspruinoTools (`require('espruino')`) would set up its serial stack
 * and globals, so the plugin file alone runs here in a sandbox with the two globals it reads
 * (acorn and a stub of `Espruino`).
 *
 * Text in and out is one JS character per byte (latin1): write it with Buffer.from(s, 'latin1').
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const require = createRequire(import.meta.url);

/** The Espruino version the tokens are for: 2v29 reads raw strings (2v20.48+) and raw integers. */
const TARGET_VERSION = '2v29';

interface Tokeniser {
  tokenise(code: string): string;
  untokenise(code: string): string;
}

let plugin: Tokeniser | null = null;

/** EspruinoTools' pretokenise plugin, loaded once. */
function tokeniser(): Tokeniser {
  if (plugin) return plugin;
  const root = dirname(require.resolve('espruino/package.json'));
  const source = readFileSync(join(root, 'plugins/pretokenise.js'), 'utf8');
  const acorn = require(require.resolve('acorn', { paths: [root] }));
  const Espruino: Record<string, any> = {
    Plugins: {},
    // PRETOKENISE 1: tokenise strings and integers as far as the board's version reads them
    Config: { PRETOKENISE: 1 },
    Core: {
      Config: { add() {} },
      Env: { getBoardData: () => ({ VERSION: TARGET_VERSION }) },
      Utils: {
        atob: (s: string) => Buffer.from(s, 'base64').toString('latin1'),
        toJSONishString: (s: string) => JSON.stringify(s)
      }
    },
    addProcessor() {}
  };
  vm.runInNewContext(source, { acorn, Espruino, console }, { filename: 'espruino/plugins/pretokenise.js' });
  plugin = Espruino.Plugins.Pretokenise as Tokeniser;
  if (!plugin || typeof plugin.tokenise !== 'function') throw new Error('espruino/plugins/pretokenise.js did not register its tokeniser');
  return plugin;
}

/**
 * `code` (ASCII source) pretokenised for Espruino 2v29: one character per byte. Throws when
 * - the code is not ASCII (its bytes 0x80 and above would be read as tokens);
 * - it has a `\u` escape of a character 0x80-0xFF (Espruino's Unicode builds, Linux and
 *   Bangle.js, make such a literal a UTF-8 string; the tokeniser's raw string keeps one byte);
 * - the result, read back as Espruino's lexer reads it (detokenise), is not the same program
 *   (acorn's token stream): a flaw of the tokeniser, e.g. `a - -b` written as `a--b`.
 */
export function pretokenise(code: string): string {
  if (/\\u00[89a-fA-F][0-9a-fA-F]/.test(code)) throw new Error('pretokenise: a \\u escape of a character 0x80-0xFF would change meaning on Unicode builds; use \\x');
  if (/[^\x00-\x7f]/.test(code)) throw new Error('pretokenise: the code must be ASCII (terser ascii_only), or its bytes would be read as tokens');
  const tokens = tokeniser().tokenise(code);
  const differs = firstDifference(code, detokenise(tokens));
  if (differs) throw new Error(`pretokenise: Espruino would read the pretokenised code differently (${differs})`);
  return tokens;
}

/** Where two programs' token streams part (acorn's tokens: kind and value), or null. */
function firstDifference(a: string, b: string): string | null {
  const acorn = require(require.resolve('acorn', { paths: [dirname(require.resolve('espruino/package.json'))] }));
  const ta = acorn.tokenizer(a, { ecmaVersion: 2020 });
  const tb = acorn.tokenizer(b, { ecmaVersion: 2020 });
  const show = (t: any) => t.type.label + (t.value === undefined ? '' : ' ' + JSON.stringify(t.value instanceof Object ? String(t.value.pattern) + '/' + t.value.flags : t.value));
  for (let n = 0; ; n++) {
    const x = ta.getToken();
    const y = tb.getToken();
    if (show(x) !== show(y)) return `token ${n} at ${x.start}: ${show(x)} became ${show(y)}`;
    if (x.type.label === 'eof') return null;
  }
}

// ------------------------------------------------------------------ the way back

/** First and last byte of the reserved words and multi-character operators (src/jslex.h:
 * _LEX_TOKENS_START = LEX_EQUAL, LEX_R_OF). */
const TOKEN_FIRST = 0x8a;
const TOKEN_LAST = 0xc6;
const RAW_STRING8 = 0xd1;
const RAW_STRING16 = 0xd2;
const RAW_INT0 = 0xd3;
const RAW_INT8 = 0xd4;
const RAW_INT16 = 0xd5;
/** the reserved words that are values: a '/' after them divides (src/jslex.c JSLJT_FORWARDSLASH) */
const VALUE_WORDS = new Set(['true', 'false', 'null', 'undefined']);
/** the characters after which Espruino's lexer reads '/' as the start of a regex */
const BEFORE_REGEX = '!%&*+-/<=>?[{}(,;:';

let table: string[] | null = null;

/** Token byte -> its text, read from EspruinoTools' own table (its untokenise), so the two
 * directions share one source. */
function tokenTable(): string[] {
  if (table) return table;
  const t = tokeniser();
  table = [];
  for (let b = TOKEN_FIRST; b <= TOKEN_LAST; b++) table[b] = t.untokenise(String.fromCharCode(b));
  return table;
}

/** true when `code` holds bytes Espruino reads as tokens (and nothing beyond a byte) */
export function isPretokenised(code: string): boolean {
  return /[\x8a-\xc6\xd1-\xd5]/.test(code) && !/[^\x00-\xff]/.test(code);
}

/**
 * Plain JavaScript for pretokenised `code`, read the way Espruino 2v29's lexer reads it: bytes
 * 0x8A and above are tokens outside string, template, regex and comment text (plain characters
 * inside them), and '/' starts a regex after what src/jslex.c says. Plain characters are copied
 * as they are, so two that Espruino reads as one token (`--`) stay one here too.
 * (EspruinoTools' untokenise reads raw integers as unsigned, so the way back is written here,
 * on its table.)
 */
export function detokenise(code: string): string {
  const words = tokenTable();
  const word = /[A-Za-z0-9_$]/;
  let out = '';
  /** the last token read: a '/' after it starts a regex */
  let regexNext = true;
  /** the last thing written came from a token byte: the next may need a space */
  let afterToken = false;
  const emit = (text: string, fromToken: boolean, beforeRegex: boolean) => {
    const prev = out[out.length - 1];
    if ((afterToken || fromToken) && prev && ((word.test(prev) && word.test(text[0])) || ('+-'.includes(prev) && '+-'.includes(text[0])))) out += ' ';
    out += text;
    afterToken = fromToken;
    regexNext = beforeRegex;
  };
  let i = 0;
  while (i < code.length) {
    const ch = code[i];
    const b = code.charCodeAt(i);
    if (b === RAW_STRING8 || b === RAW_STRING16) {
      const len = b === RAW_STRING8 ? code.charCodeAt(i + 1) : code.charCodeAt(i + 1) | (code.charCodeAt(i + 2) << 8);
      const start = i + (b === RAW_STRING8 ? 2 : 3);
      emit(quote(code.slice(start, start + len)), true, false);
      i = start + len;
    } else if (b === RAW_INT0 || b === RAW_INT8 || b === RAW_INT16) {
      // the tokeniser folds a '-' into the integer only where it is a unary minus
      const v = b === RAW_INT0 ? 0 : b === RAW_INT8 ? (code.charCodeAt(i + 1) << 24) >> 24 : ((code.charCodeAt(i + 1) | (code.charCodeAt(i + 2) << 8)) << 16) >> 16;
      emit(String(v), true, false);
      i += b === RAW_INT0 ? 1 : b === RAW_INT8 ? 2 : 3;
    } else if (b >= TOKEN_FIRST && b <= TOKEN_LAST && words[b]) {
      emit(words[b], true, !VALUE_WORDS.has(words[b]));
      i++;
    } else if (b >= 0x80) {
      throw new Error(`detokenise: byte 0x${b.toString(16)} at ${i} is no token Espruino 2v29 reads`);
    } else if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < code.length && code[j] !== ch) j += code[j] === '\\' ? 2 : 1;
      emit(code.slice(i, j + 1), false, false);
      i = j + 1;
    } else if (ch === '/' && code[i + 1] === '/') {
      const j = code.indexOf('\n', i);
      i = j < 0 ? code.length : j;
    } else if (ch === '/' && code[i + 1] === '*') {
      const j = code.indexOf('*/', i + 2);
      i = j < 0 ? code.length : j + 2;
    } else if (ch === '/' && regexNext) {
      // a regex: up to the unescaped '/' outside a class, then its flags
      let j = i + 1;
      let inClass = false;
      while (j < code.length && (inClass || code[j] !== '/')) {
        if (code[j] === '\\') j++;
        else if (code[j] === '[') inClass = true;
        else if (code[j] === ']') inClass = false;
        j++;
      }
      j++;
      while (j < code.length && word.test(code[j])) j++;
      emit(code.slice(i, j), false, false);
      i = j;
    } else if (word.test(ch)) {
      let j = i + 1;
      while (j < code.length && (word.test(code[j]) || (code[j] === '.' && /[0-9]/.test(ch)))) j++;
      emit(code.slice(i, j), false, false);
      i = j;
    } else if (/\s/.test(ch)) {
      out += ch;
      i++;
    } else {
      emit(ch, false, BEFORE_REGEX.includes(ch));
      i++;
    }
  }
  return out;
}

/** A JS string literal for raw bytes (one character each, 0-255). */
function quote(s: string): string {
  return '"' + s.replace(/[\\"\x00-\x1f\x7f-\xff]/g, (c) => (c === '\\' || c === '"' ? '\\' + c : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))) + '"';
}
