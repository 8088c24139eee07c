/**
 * The regular expressions an image may use: the subset of JavaScript regexes that Espruino
 * 2v29's own small engine (src/jswrap_regexp.c) answers exactly as V8 does, as measured by
 * the probes in regex-2v29.json (tools/profile/regex-probe.ts regenerates them from the binary).
 *
 * Allowed (on ASCII input: on a non-ASCII string Espruino walks UTF-8 bytes and every
 * pattern's indices differ, see the `nonascii-*` probes):
 *  - literal ASCII characters, `]`, `}` and a `{` that does not start a count;
 *  - escapes `\d \D \w \W \s \S`, `\n \r \t \f \v`, `\xXX` (00-7f), `\0` (not before a digit),
 *    and escaped punctuation (`\. \\ \/ \^ \$ \* \+ \? \( \) \[ \] \{ \} \| \-`, `\,` ...);
 *  - classes `[...]` and `[^...]` of those characters and escapes, ranges `a-z` between two
 *    single characters (low < high; with `i`, within 0-9, a-z or A-Z, or free of letters);
 *  - `x*` and `x+` on one character, class or escape (`+` neither on something that matches
 *    the end of the input, like `[^a]` or `\D`, nor followed by what x can match);
 *  - `^` first and `$` last in an alternative;
 *  - `a|b` at the top level, without groups or quantifiers (if the first alternative starts with
 *    `^`, every one does);
 *  - up to nine capturing groups `(...)`, not nested, without a quantifier;
 *  - flags `i`, and `g` only on the pattern of `.replace()` / `.replaceAll()`;
 *  - methods exec, test, match (without g), replace (string with `$1`..`$9`, or a function),
 *    split (no capturing group, no limit, never matching the empty string).
 * Everything else is reported with its own rule (REGEX_RULES below), each naming the probes that
 * show what the binary does instead.
 */

export interface RegexProblem {
  /** `regex/<construct>` */
  rule: string;
  /** offset in the pattern source (0-based) */
  offset: number;
  /** the construct's own text, e.g. `{32}` */
  text: string;
}

export interface RegexRule {
  construct: string;
  /** what Espruino 2v29 does instead (the probes' answers) */
  espruino: string;
  /** ids of regex-2v29.json probes that show it */
  evidence: string[];
  /** true when the probes show the same answer as V8 and the construct is refused only because it reads ambiguously */
  forClarity?: boolean;
}

export const REGEX_RULES: Record<string, RegexRule> = {
  'regex/optional-quantifier': { construct: 'optional quantifier x?', espruino: '`?` is a literal question mark: /colou?r/ matches neither "color" nor "colour", only "colou?r"', evidence: ['optional', 'optional-short'] },
  'regex/lazy-quantifier': { construct: 'lazy quantifier x*? x+? x??', espruino: 'the `?` is a literal character: /a+?/ does not match "aaa"', evidence: ['lazy-star', 'lazy-plus', 'lazy-optional'] },
  'regex/counted-quantifier': { construct: 'counted quantifier x{n} x{n,} x{n,m}', espruino: 'taken literally: /a{2}/ matches "a{2}", not "aa"; /^[0-9a-fA-F]{32}$/ never matches 32 hex digits', evidence: ['counted', 'counted-range', 'counted-open', 'counted-hex32', 'counted-hex64'] },
  'regex/non-capturing-group': { construct: 'non-capturing group (?:...)', espruino: 'a capturing group whose first characters are a literal "?:": /(?:ab)c/ does not match "abc"', evidence: ['group-non-capturing'] },
  'regex/lookaround': { construct: 'lookahead / lookbehind (?= (?! (?<= (?<!', espruino: 'a group of literal characters "?=" ...: /a(?=b)/ does not match "ab"', evidence: ['lookahead', 'lookahead-negative', 'lookbehind'] },
  'regex/named-group': { construct: 'named group (?<name>...)', espruino: 'a group of literal characters: /(?<n>a)/ does not match "a"', evidence: ['named-group'] },
  'regex/backreference': { construct: 'backreference \\1-\\9 or octal escape \\0N', espruino: '\\1 throws "Backreferences not supported"; \\01 is NUL followed by "1"', evidence: ['escape-backref', 'escape-octal'] },
  'regex/unicode-escape': { construct: 'unicode escape \\uXXXX', espruino: '\\u is the letter "u": /\\u0041/ matches "u0041", and [\\u007f-\\uffff] is {u,0,7,f-u}, so it matches ordinary letters f..u and digits', evidence: ['escape-u', 'escape-u-high', 'range-u', 'range-u-nonascii'] },
  'regex/word-boundary': { construct: 'word boundary \\b \\B (and [\\b]: write \\x08)', espruino: '\\b is a backspace character (0x08) and \\B the letter "B": /\\bfoo/ does not match "a foo"', evidence: ['escape-b', 'escape-B'] },
  'regex/control-escape': { construct: 'control escape \\cX', espruino: 'the letters "cX": /\\cJ/ matches "cJ", not a newline', evidence: ['escape-c'] },
  'regex/hex-escape': { construct: '\\x escape above 7f or without two hex digits', espruino: '\\xe9 never matches "é" (strings are UTF-8 inside); \\x4z reads "4z" as a hex byte', evidence: ['escape-x-high', 'range-x-high', 'escape-x-short-letter'] },
  'regex/identity-escape': { construct: 'escaped letter that has no meaning (\\q, \\k ...)', espruino: 'the letter itself, as in V8 without the u flag, but \\b \\B \\c \\u \\k mean something else in V8: write the letter', evidence: ['escape-identity-letter', 'escape-k'], forClarity: true },
  'regex/dot': { construct: 'dot .', espruino: '`.` also matches line terminators: /a.c/ matches "a\\nc" (V8: no match); use a class such as [^\\n\\r]', evidence: ['dot', 'dot-star'] },
  'regex/non-ascii': { construct: 'non-ASCII character in the pattern', espruino: 'compared byte by byte against UTF-8: /[éa]/ on "xé" matches a broken half of "é"', evidence: ['nonascii-class-literal'] },
  'regex/class-syntax': { construct: 'unescaped [ | / in a class, an unescaped . as a range end, or - after a range or next to a class escape', espruino: '[[] throws "Unfinished character set"; [/] is a SyntaxError of the lexer; an unescaped | in a class is taken as alternation when a match fails; [!-.] matches any character; [a-c-e] matches d and not "-"', evidence: ['class-open-bracket', 'class-slash', 'range-punct', 'class-pipe-alternation', 'range-dot-low', 'range-dot-high', 'class-dash-after-range'] },
  'regex/range': { construct: 'range with equal ends [a-a]', espruino: 'never matches: the engine requires low < high', evidence: ['range-same'] },
  'regex/range-case': { construct: 'range across letter cases with the i flag ([A-z], [@-Z])', espruino: 'i lower-cases the range ends: /[A-z]/i misses "[" and "_", /[@-Z]/i matches "["', evidence: ['range-mixed-case-i', 'range-punct-upper-i'] },
  'regex/plus-overlap': { construct: 'x+ followed by something that can match the same character', espruino: '`+` may match zero times there: /a+a/ matches "a", /a+b*a/ matches "a" in "ba"', evidence: ['plus-overlap', 'plus-overlap-class', 'plus-overlap-star'] },
  'regex/plus-end-of-input': { construct: 'x+ where x matches the end of the input ([^..]+, \\D+, \\W+, \\S+, \\0+)', espruino: 'the end of the input reads as char 0, so `+` matches zero times there: /a[^b]+/ matches "a", /[^b]+/ matches ""; write [^b][^b]*', evidence: ['plus-negated-end', 'plus-negated-empty', 'plus-D-end', 'plus-W-end', 'plus-S-end', 'escape-nul-plus-end'] },
  'regex/group-quantifier': { construct: 'quantifier on a group (...)+ (...)* (...)?', espruino: 'the quantifier is a literal character after the group: /(ab)+/ does not match "abab"', evidence: ['group-plus', 'group-star', 'counted-group-plus'] },
  'regex/nested-group': { construct: 'nested group ((...)...)', espruino: 'a closing parenthesis ends the innermost open group number, so captures are wrong: /((a)b)c/ gives ["abc","","ab"]', evidence: ['group-nested'] },
  'regex/too-many-groups': { construct: 'more than nine groups', espruino: 'the engine keeps nine: the tenth group overwrites the others', evidence: ['group-ten'] },
  'regex/alternation-in-group': { construct: 'alternation inside a group (a|b)', espruino: 'the first | ends the whole match: /a(b|c)d/ on "acd" gives "cd" at 1', evidence: ['alt-in-group'] },
  'regex/alternation-with-group': { construct: 'capturing group in a pattern with alternation', espruino: 'a group of an alternative that failed keeps capturing "" (V8: undefined)', evidence: ['alt-group'] },
  'regex/alternation-with-quantifier': { construct: '* or + in a pattern with alternation', espruino: 'a failed repetition falls through to the next alternative and wins: /a*ab|aaa/ on "aaab" gives "aaa"', evidence: ['alt-star-backtrack'] },
  'regex/anchor-alternation': { construct: 'alternation whose first alternative starts with ^ and another does not', espruino: 'away from index 0 the ^ gives up without trying the other alternatives: /^a|b/ does not match "xb"', evidence: ['alt-anchor-first-only'] },
  'regex/anchor-position': { construct: '^ not first or $ not last in its alternative', espruino: 'a ^ away from index 0 gives up without trying the other alternatives: /x^|x/ does not match "x"', evidence: ['anchor-start-middle-alt'] },
  'regex/flag-m': { construct: 'flag m', espruino: 'ignored: ^ and $ match only at the ends of the input (/^b/m does not match "a\\nb")', evidence: ['flag-m-start', 'flag-m-end'] },
  'regex/global-flag': { construct: 'flag g outside .replace()', espruino: 'a pattern ending in a literal tail and $ is answered by a shortcut that never moves lastIndex: /b$/g.test("ab") is true three times in a row (V8: true, false, true)', evidence: ['flag-g-test-end'] },
  'regex/match-global': { construct: '.match() with flag g', espruino: 'returns [] when nothing matches (V8: null)', evidence: ['match-global'] },
  'regex/replacement-pattern': { construct: 'replacement string with $& $$ $` $\' or a trailing $', espruino: 'only $1..$9 are replaced: "$&" stays "$&", a trailing $ adds a NUL character', evidence: ['replace-dollar-amp', 'replace-dollar-dollar', 'replace-dollar-before', 'replace-dollar-after', 'replace-dollar-end'] },
  'regex/split-capture': { construct: '.split() on a pattern with a capturing group', espruino: 'the captures are left out: "a,b".split(/(,)/) gives ["a","b"]', evidence: ['split-group'] },
  'regex/split-limit': { construct: '.split() on a pattern with a limit', espruino: 'the limit is ignored', evidence: ['split-limit'] },
  'regex/split-empty': { construct: '.split() on a pattern that can match the empty string', espruino: 'never returns (the search does not move on)', evidence: ['split-empty-match', 'split-end'] },
  'regex/constructor': { construct: 'RegExp constructor', espruino: 'same engine, but a pattern built at run time cannot be checked: new RegExp("a{2}") never matches "aa"', evidence: ['ctor-counted'] }
};

/** What the subset allows, each with the probes that show Espruino 2v29 giving V8's answers. */
export const REGEX_ALLOWED: Array<{ construct: string; evidence: string[] }> = [
  { construct: 'literal ASCII characters, ] } and a { that does not start a count', evidence: ['literal', 'literal-digits', 'literal-punct', 'literal-space', 'literal-close-bracket', 'literal-close-brace', 'literal-open-brace'] },
  { construct: '\\d \\D \\w \\W \\s \\S (ASCII sets)', evidence: ['escape-d', 'escape-D', 'escape-w', 'escape-W', 'escape-s'] },
  { construct: 'escaped punctuation \\. \\\\ \\/ \\^ \\$ \\* \\+ \\? \\( \\) \\[ \\] \\{ \\} \\| \\- \\, ...', evidence: ['escape-dot', 'escape-backslash', 'escape-slash', 'escape-syntax', 'escape-identity-punct'] },
  { construct: '\\n \\r \\t \\f \\v, \\xXX from 00 to 7f, \\0 not before a digit', evidence: ['escape-control', 'escape-x', 'escape-nul', 'flag-i-escape'] },
  { construct: 'classes [..] and [^..] of those, with escaped ] \\ - / | and a literal . inside', evidence: ['class', 'class-negated', 'class-escape-d', 'class-escape-w', 'class-escape-s', 'class-dot', 'class-escaped-bracket', 'class-escaped-backslash', 'class-escaped-dash', 'class-escaped-slash', 'class-escaped-pipe-alternation', 'class-dash-first', 'class-dash-last', 'class-syntax-chars', 'class-empty', 'class-negated-empty'] },
  { construct: 'ranges a-z between two single characters, low < high (\\x and control escapes too); with i, within 0-9, a-z or A-Z', evidence: ['class-range', 'class-ranges', 'class-hex', 'range-x', 'range-control', 'range-escaped-dot', 'range-mixed-case', 'range-upper-i', 'range-lower-i', 'range-digits-i'] },
  { construct: 'x* on one character, class or escape', evidence: ['star', 'star-alone', 'star-class', 'star-escape', 'star-backtrack', 'star-greedy-groups', 'star-negated-end', 'plus-negated-rewritten'] },
  { construct: 'x+ on one character, class or escape that does not match the end of the input, before something x cannot match', evidence: ['plus', 'plus-alone', 'plus-then-other', 'plus-end', 'plus-then-star', 'trim-end'] },
  { construct: '^ first and $ last in an alternative', evidence: ['anchor-start', 'anchor-end', 'anchor-end-i', 'anchor-both', 'anchor-empty', 'anchor-start-class-end'] },
  { construct: 'top-level alternation without groups or quantifiers (^ on all alternatives or not on the first)', evidence: ['alt', 'alt-three', 'alt-prefix', 'alt-order', 'alt-anchors', 'alt-anchor-later-only', 'alt-end-anchor', 'alt-class', 'alt-empty'] },
  { construct: 'up to nine capturing groups, not nested, without a quantifier', evidence: ['group', 'group-three', 'group-star-inside', 'group-nine'] },
  { construct: 'flag i', evidence: ['flag-i', 'flag-i-class', 'flag-i-escape'] },
  { construct: 'exec, test, match without g', evidence: ['no-g-test', 'match', 'match-groups'] },
  { construct: 'replace (g allowed) with a string using $1..$9, or with a function (match, groups, offset, input)', evidence: ['replace-first', 'replace-global', 'replace-groups', 'replace-group-missing', 'replace-dollar-zero', 'replace-dollar-10', 'replace-dollar-letter', 'replace-empty-global', 'replace-star-global', 'replace-end-global', 'replace-anchored-global', 'replace-fn', 'replace-fn-global', 'replace-fn-class-global', 'replace-fn-end-global'] },
  { construct: 'split on a pattern without groups that cannot match the empty string, without a limit', evidence: ['split', 'split-class', 'split-whitespace'] },
  { construct: "the firmware's own: /^[0-9a-fA-F]*$/ (isHex) and /[^\\x00-\\x7e]/ (asciiJson), protocol/bytes.ts", evidence: ['firmware-hex-digits', 'firmware-not-ascii'] }
];

/** `[low, high]` of ASCII; the set type of the analysis. */
type CharSet = Uint8Array;

function emptySet(): CharSet { return new Uint8Array(128); }
function rangeSet(set: CharSet, lo: number, hi: number): CharSet {
  for (let c = lo; c <= hi && c < 128; c++) set[c] = 1;
  return set;
}
function complement(set: CharSet): CharSet {
  const out = emptySet();
  for (let c = 0; c < 128; c++) out[c] = set[c] ? 0 : 1;
  return out;
}
function union(a: CharSet, b: CharSet): CharSet {
  for (let c = 0; c < 128; c++) if (b[c]) a[c] = 1;
  return a;
}
function intersects(a: CharSet, b: CharSet): boolean {
  for (let c = 0; c < 128; c++) if (a[c] && b[c]) return true;
  return false;
}
function foldCase(set: CharSet): CharSet {
  for (let c = 65; c <= 90; c++) if (set[c] || set[c + 32]) set[c] = set[c + 32] = 1;
  return set;
}

const DIGIT = rangeSet(emptySet(), 48, 57);
const WORD = rangeSet(rangeSet(rangeSet(rangeSet(emptySet(), 48, 57), 65, 90), 97, 122), 95, 95);
const SPACE = (() => { const s = rangeSet(emptySet(), 9, 13); s[32] = 1; return s; })();
const CLASS_ESCAPES: Record<string, CharSet> = {
  d: DIGIT, D: complement(DIGIT), w: WORD, W: complement(WORD), s: SPACE, S: complement(SPACE)
};
const CONTROL_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11 };
const HEX = /^[0-9a-fA-F]{2}/;

type Token =
  | { kind: 'atom'; set: CharSet; start: number; end: number; quant: '' | '*' | '+' }
  | { kind: 'open' | 'close' | '^' | '$'; start: number };

type Escape = { code: number; set?: undefined; end: number } | { set: CharSet; code?: undefined; end: number } | { problem: string; end: number; code?: undefined; set?: undefined };

function isLetter(c: number): boolean { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122); }

/** The escape at `i` (source[i] is the backslash). */
function readEscape(src: string, i: number): Escape {
  const c = src[i + 1];
  if (c === undefined) return { code: 92, end: i + 1 };
  if (CLASS_ESCAPES[c]) return { set: new Uint8Array(CLASS_ESCAPES[c]), end: i + 2 };
  if (CONTROL_ESCAPES[c] !== undefined) return { code: CONTROL_ESCAPES[c], end: i + 2 };
  if (c === 'x') {
    const hex = HEX.exec(src.slice(i + 2, i + 4));
    if (!hex) return { problem: 'regex/hex-escape', end: i + 2 };
    const code = parseInt(hex[0], 16);
    return code < 0x80 ? { code, end: i + 4 } : { problem: 'regex/hex-escape', end: i + 4 };
  }
  if (c === 'u') {
    const m = /^(\{[0-9a-fA-F]+\}|[0-9a-fA-F]{4})/.exec(src.slice(i + 2));
    return { problem: 'regex/unicode-escape', end: i + 2 + (m ? m[0].length : 0) };
  }
  if (c === 'b' || c === 'B') return { problem: 'regex/word-boundary', end: i + 2 };
  if (c === 'c') return { problem: 'regex/control-escape', end: i + (isLetter(src.charCodeAt(i + 2)) ? 3 : 2) };
  if (c === '0') {
    if (/[0-9]/.test(src[i + 2] ?? '')) return { problem: 'regex/backreference', end: i + 3 };
    return { code: 0, end: i + 2 };
  }
  if (c >= '1' && c <= '9') {
    let e = i + 2;
    while (e < src.length && src[e] >= '0' && src[e] <= '9') e++;
    return { problem: 'regex/backreference', end: e };
  }
  // escaped punctuation (syntax characters and the rest): the character itself on both engines
  const code = c.charCodeAt(0);
  if (code >= 0x80) return { problem: 'regex/non-ascii', end: i + 2 };
  if (isLetter(code)) return { problem: 'regex/identity-escape', end: i + 2 };
  return { code, end: i + 2 };
}

/** A range is safe under `i` when it stays inside 0-9, a-z or A-Z, or holds no letter at all. */
function rangeCaseSafe(lo: number, hi: number): boolean {
  const inside = (a: number, b: number) => lo >= a && hi <= b;
  if (inside(48, 57) || inside(97, 122) || inside(65, 90)) return true;
  const overlaps = (a: number, b: number) => lo <= b && hi >= a;
  return !overlaps(65, 90) && !overlaps(97, 122);
}

interface Parsed {
  alternatives: Token[][];
  groups: number;
  problems: RegexProblem[];
}

function parse(src: string, flags: string): Parsed {
  const problems: RegexProblem[] = [];
  const ignoreCase = flags.indexOf('i') >= 0;
  const report = (rule: string, start: number, end: number) => problems.push({ rule, offset: start, text: src.slice(start, Math.max(end, start + 1)) });
  const alternatives: Token[][] = [[]];
  let alt = alternatives[0];
  let depth = 0;
  let groups = 0;
  let i = 0;
  const pushAtom = (set: CharSet, start: number, end: number) => {
    alt.push({ kind: 'atom', set: ignoreCase ? foldCase(set) : set, start, end, quant: '' });
  };
  while (i < src.length) {
    const ch = src[i];
    const start = i;
    if (ch === '\\') {
      const e = readEscape(src, i);
      if ('problem' in e && e.problem) { report(e.problem, start, e.end); pushAtom(emptySet(), start, e.end); }
      else if (e.set) pushAtom(e.set, start, e.end);
      else { const s = emptySet(); s[e.code!] = 1; pushAtom(s, start, e.end); }
      i = e.end;
    } else if (ch === '[') {
      i = parseClass(src, i, ignoreCase, report, (set, end) => pushAtom(set, start, end));
    } else if (ch === '(') {
      if (src[i + 1] === '?') {
        const rest = src.slice(i + 2);
        if (rest.startsWith(':')) { report('regex/non-capturing-group', i, i + 3); i += 3; }
        else if (rest.startsWith('=') || rest.startsWith('!')) { report('regex/lookaround', i, i + 3); i += 3; }
        else if (rest.startsWith('<=') || rest.startsWith('<!')) { report('regex/lookaround', i, i + 4); i += 4; }
        else { const m = /^<[^>]*>/.exec(rest); report('regex/named-group', i, i + 2 + (m ? m[0].length : 0)); i += 2 + (m ? m[0].length : 0); }
      } else {
        if (depth > 0) report('regex/nested-group', i, i + 1);
        groups++;
        if (groups === 10) report('regex/too-many-groups', i, i + 1);
        i++;
      }
      depth++;
      alt.push({ kind: 'open', start });
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      alt.push({ kind: 'close', start });
      i++;
      const q = /^([*+?]|\{\d+(,\d*)?\})\??/.exec(src.slice(i));
      if (q) { report('regex/group-quantifier', i, i + q[0].length); i += q[0].length; }
    } else if (ch === '|') {
      if (depth > 0) report('regex/alternation-in-group', i, i + 1);
      else { alt = []; alternatives.push(alt); }
      i++;
    } else if (ch === '^' || ch === '$') {
      alt.push({ kind: ch, start });
      i++;
    } else if (ch === '*' || ch === '+' || ch === '?') {
      const last = alt[alt.length - 1];
      const lazy = src[i + 1] === '?';
      if (lazy) report('regex/lazy-quantifier', i, i + 2);
      else if (ch === '?') report('regex/optional-quantifier', i, i + 1);
      if (last && last.kind === 'atom' && ch !== '?' && !lazy) last.quant = ch;
      i += lazy ? 2 : 1;
    } else if (ch === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(i))) {
      const m = /^\{\d+(,\d*)?\}\??/.exec(src.slice(i))!;
      report('regex/counted-quantifier', i, i + m[0].length);
      i += m[0].length;
    } else if (ch === '.') {
      report('regex/dot', i, i + 1);
      pushAtom(complement(emptySet()), start, i + 1);
      i++;
    } else {
      const code = src.charCodeAt(i);
      if (code >= 0x80) { report('regex/non-ascii', i, i + 1); pushAtom(emptySet(), start, i + 1); }
      else { const s = emptySet(); s[code] = 1; pushAtom(s, start, i + 1); }
      i++;
    }
  }
  return { alternatives, groups, problems };
}

/** Parses the class at `i` (source[i] is `[`); calls `done` with its set; returns the index after `]`. */
function parseClass(src: string, i: number, ignoreCase: boolean, report: (rule: string, start: number, end: number) => void, done: (set: CharSet, end: number) => void): number {
  let j = i + 1;
  const negated = src[j] === '^';
  if (negated) j++;
  const set = emptySet();
  // the previous item: a single char (code), a class escape (null), or the end of a range ('range')
  let prev: number | null | 'range' | undefined;
  // Espruino reads an unescaped `.` in a class before anything else: as a range end it breaks the range
  let prevDot = false;
  const item = (at: number): { code?: number; set?: CharSet; bad?: boolean; end: number } => {
    const c = src[at];
    if (c === '\\') {
      const e = readEscape(src, at);
      if ('problem' in e && e.problem) { report(e.problem, at, e.end); return { set: emptySet(), bad: true, end: e.end }; }
      return e.set ? { set: e.set, end: e.end } : { code: e.code, end: e.end };
    }
    if (c === '[' || c === '|' || c === '/') report('regex/class-syntax', at, at + 1);
    const code = src.charCodeAt(at);
    if (code >= 0x80) { report('regex/non-ascii', at, at + 1); return { set: emptySet(), bad: true, end: at + 1 }; }
    return { code, end: at + 1 };
  };
  // an item already reported (a forbidden escape): the range it starts or ends is not reported again
  let prevBad = false;
  while (j < src.length && src[j] !== ']') {
    if (src[j] === '-' && prev !== undefined && src[j + 1] !== ']' && j + 1 < src.length) {
      // a range, or a dash the engines read differently
      const dash = j;
      const hi = item(j + 1);
      if (prevBad || hi.bad) {
        if (hi.set) union(set, hi.set);
        prev = null;
      } else if (prev === 'range' || prev === null || hi.set || prevDot || src[j + 1] === '.') {
        report('regex/class-syntax', dash, dash + 1);
        if (hi.set) union(set, hi.set); else set[hi.code!] = 1;
        set[45] = 1;
        prev = hi.set ? null : hi.code;
      } else {
        const lo = prev as number;
        const h = hi.code!;
        if (lo >= h) report('regex/range', dash - 1, hi.end);
        else if (ignoreCase && !rangeCaseSafe(lo, h)) report('regex/range-case', dash - 1, hi.end);
        rangeSet(set, lo, h);
        prev = 'range';
      }
      prevDot = false;
      prevBad = false;
      j = hi.end;
      continue;
    }
    const it = item(j);
    if (it.set) { union(set, it.set); prev = null; }
    else { set[it.code!] = 1; prev = it.code; }
    prevDot = src[j] === '.';
    prevBad = !!it.bad;
    j = it.end;
  }
  const folded = ignoreCase ? foldCase(set) : set;
  done(negated ? complement(folded) : folded, j + 1);
  return j + 1;
}

/** Chars that can start a match of `tokens` from `from` on (up to the first mandatory atom or a $). */
function firstSet(tokens: Token[], from: number): CharSet {
  const out = emptySet();
  for (let k = from; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === '$') break;
    if (t.kind !== 'atom') continue;
    union(out, t.set);
    if (t.quant !== '*') break;
  }
  return out;
}

/** Can this pattern match the empty string (so a split on it never ends on Espruino)? */
function nullable(p: Parsed): boolean {
  return p.alternatives.some((alt) => alt.every((t) => t.kind !== 'atom' || t.quant === '*'));
}

/** How the literal is used: the method it is the first argument of, and that call's argument count. */
export interface RegexUse {
  method: string | null;
  args: number;
}

/** Every construct of `/source/flags` outside the subset (empty when it is inside). */
export function checkRegex(source: string, flags: string, use: RegexUse = { method: null, args: 0 }): RegexProblem[] {
  const p = parse(source, flags);
  const problems = p.problems;
  const at = (rule: string, offset: number, text: string) => problems.push({ rule, offset, text });
  if (flags.indexOf('m') >= 0) at('regex/flag-m', source.length + 1 + flags.indexOf('m'), 'm');
  const alts = p.alternatives;
  for (const alt of alts) {
    alt.forEach((t, k) => {
      if (t.kind === '^' && k !== 0) at('regex/anchor-position', t.start, '^');
      if (t.kind === '$' && k !== alt.length - 1) at('regex/anchor-position', t.start, '$');
      if (t.kind === 'atom' && t.quant === '+') {
        const text = source.slice(t.start, t.end) + '+';
        if (t.set[0]) at('regex/plus-end-of-input', t.start, text);
        else if (intersects(t.set, firstSet(alt, k + 1))) at('regex/plus-overlap', t.start, text);
      }
    });
  }
  if (alts.length > 1) {
    const bar = source.indexOf('|');
    if (p.groups > 0) at('regex/alternation-with-group', bar, '|');
    const q = alts.flat().find((t) => t.kind === 'atom' && t.quant !== '');
    if (q && q.kind === 'atom') at('regex/alternation-with-quantifier', q.end, source[q.end]);
    const anchored = alts.map((a) => a.length > 0 && a[0].kind === '^');
    if (anchored[0] && anchored.some((x) => !x)) at('regex/anchor-alternation', 0, '^');
  }
  const g = flags.indexOf('g');
  if (g >= 0 && use.method !== 'replace' && use.method !== 'replaceAll') {
    at(use.method === 'match' ? 'regex/match-global' : 'regex/global-flag', source.length + 1 + g, 'g');
  }
  if (use.method === 'split') {
    if (p.groups > 0) at('regex/split-capture', source.indexOf('('), '(');
    if (nullable(p)) at('regex/split-empty', 0, source);
    if (use.args > 1) at('regex/split-limit', 0, source);
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

/** `$` patterns of a replacement string that Espruino leaves as they are (offsets in the string). */
export function checkReplacement(replacement: string): RegexProblem[] {
  const out: RegexProblem[] = [];
  for (let i = 0; i < replacement.length; i++) {
    if (replacement[i] !== '$') continue;
    const next = replacement[i + 1];
    if (next === undefined || next === '$' || next === '&' || next === '`' || next === "'") {
      out.push({ rule: 'regex/replacement-pattern', offset: i, text: replacement.slice(i, i + 2) });
    }
    if (next === '$') i++;
  }
  return out;
}

/** The one-line message of a problem (the build prints it with the line and column). */
export function regexMessage(problem: RegexProblem, where: string): string {
  const r = REGEX_RULES[problem.rule];
  const construct = r ? r.construct : problem.rule;
  const why = r ? r.espruino : '';
  return `${where}: ${construct} \`${problem.text}\` is outside the regex subset of Espruino 2v29 — ${why} (probes: ${r ? r.evidence.join(', ') : '-'} in tools/profile/regex-2v29.json)`;
}
