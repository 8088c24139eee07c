/**
 * Regular expressions on the real interpreter: the probe corpus, and the script that
 * regenerates tools/profile/regex-2v29.json from Espruino 2v29's Linux build.
 *
 *   ESPRUINO_BIN=/path/to/espruino-2v29-linux node --import tsx tools/profile/regex-probe.ts
 *
 * Each probe is one regex literal (source + flags), one way of using it (exec, test, match,
 * replace with a string or a function, split, repeated test / exec loops with `g`, the RegExp
 * constructor) and a few input strings. The same generated ES5 program runs on the binary and
 * on V8 (Node's vm); the data file records both answers per input and whether they agree.
 * Every probe runs through `eval`, so a pattern Espruino cannot even lex is an error of that
 * probe only; a probe that never ends (split with a pattern that matches the empty string) is
 * killed after a timeout, recorded as `{"hang": true}`, and the run goes on after it.
 *
 * tools/profile/regex.ts (the build's regex rules) allows only what these probes show to
 * behave as on V8; test/profile.test.ts holds the two together.
 */
import { writeFileSync } from 'node:fs';
import vm from 'node:vm';
import { findEspruino, noEspruinoReason } from '../../kit/real/binary.ts';
import { runSnippet, markedLines } from '../real/snippet.ts';
import { REGEX_ALLOWED, REGEX_RULES, type RegexRule } from './regex.ts';

export type ProbeMethod =
  | 'exec' | 'test' | 'match' | 'split' | 'split-limit' | 'replace' | 'replace-fn'
  | 'test-repeat' | 'exec-loop' | 'ctor';

export interface RegexProbe {
  id: string;
  /** what the probe looks at, in words */
  construct: string;
  source: string;
  flags: string;
  method: ProbeMethod;
  /** replacement string (replace), limit (split-limit) */
  arg?: string | number;
  inputs: string[];
}

/** One answer: a value, an exception, or no answer before the timeout. */
export type ProbeAnswer = { v: unknown } | { error: string } | { hang: true };

export interface ProbeResult {
  input: string;
  espruino: ProbeAnswer;
  v8: ProbeAnswer;
  same: boolean;
}

export interface ProbeRecord extends RegexProbe {
  results: ProbeResult[];
  /** every input gives the same answer on both */
  same: boolean;
}

const HEX32 = '0123456789abcdefABCDEF0123456789';
const HEX64 = '00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF';
const LONG_HEX = '0123456789abcdef'.repeat(40);
const ASCII_PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const ASCII_CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');

function p(id: string, construct: string, source: string, flags: string, method: ProbeMethod, inputs: string[], arg?: string | number): RegexProbe {
  return arg === undefined ? { id, construct, source, flags, method, inputs } : { id, construct, source, flags, method, arg, inputs };
}

const r = String.raw;

/** The corpus. Inputs are ASCII unless the probe's id starts with `nonascii-`. */
export const PROBES: RegexProbe[] = [
  // ---- literal characters
  p('literal', 'literal characters', 'abc', '', 'exec', ['xxabcx', 'ab', 'ABC', '']),
  p('literal-digits', 'literal digits', '123', '', 'exec', ['01234', '12']),
  p('literal-punct', 'literal punctuation that is not syntax', r`a-b,c:d;e=f'g"h#i%j@k!l<m>n~o_p&q`, '', 'test', [`a-b,c:d;e=f'g"h#i%j@k!l<m>n~o_p&q`, 'a-b']),
  p('literal-space', 'literal space and tab', 'a b\tc', '', 'test', ['a b\tc', 'a  b\tc']),
  p('literal-close-bracket', 'unescaped ] outside a class', 'a]b', '', 'exec', ['xa]b', 'ab']),
  p('literal-close-brace', 'unescaped } outside a class', 'a}b', '', 'exec', ['xa}b', 'ab']),
  p('literal-open-brace', 'unescaped { that is not a quantifier', 'a{b', '', 'exec', ['xa{b', 'ab']),
  // ---- escapes
  p('escape-d', r`\d`, r`\d`, '', 'exec', ['x5', 'abc', '_9']),
  p('escape-D', r`\D`, r`\D`, '', 'exec', ['12a', '123']),
  p('escape-w', r`\w`, r`\w`, '', 'exec', ['  _', ' $a', ' 7', '-+']),
  p('escape-W', r`\W`, r`\W`, '', 'exec', ['ab_9 ', 'abc']),
  p('escape-s', r`\s`, r`\s+`, '', 'exec', ['a \t\n\u000b\f\rb', 'ab']),
  p('escape-S', r`\S`, r`\S+`, '', 'exec', [' \t ab c', '   ']),
  p('escape-dot', r`\.`, r`a\.b`, '', 'exec', ['a.b', 'axb']),
  p('escape-backslash', r`\\`, r`a\\b`, '', 'exec', ['xa\\b', 'ab']),
  p('escape-slash', r`\/`, r`a\/b`, '', 'exec', ['xa/b', 'ab']),
  p('escape-syntax', r`\^ \$ \* \+ \? \( \) \[ \] \{ \} \| \-`, r`\^\$\*\+\?\(\)\[\]\{\}\|\-`, '', 'exec', ['x^$*+?()[]{}|-', '^$*+?']),
  p('escape-control', r`\n \r \t \f \v`, r`\n\r\t\f\v`, '', 'exec', ['x\n\r\t\f\u000b', 'nrtfv']),
  p('escape-x', r`\xXX (ASCII)`, r`\x41\x7e`, '', 'exec', ['xA~', 'a~']),
  p('escape-x-short', r`\x without two hex digits`, r`\x4`, '', 'exec', ['x4', '\u0004']),
  p('escape-x-short-letter', r`\x then one hex digit and a letter`, r`\x4z`, '', 'exec', ['x4z', 'J']),
  p('escape-x-high', r`\xXX above 7f`, r`\xe9`, '', 'exec', ['a\u00e9', 'a\u00c3']),
  p('escape-u', r`\uXXXX`, r`\u0041`, '', 'exec', ['A', 'u0041']),
  p('escape-u-high', r`\uXXXX above 7f`, r`\u00e9`, '', 'exec', ['\u00e9', 'u00e9']),
  p('escape-nul', r`\0`, r`a\0`, '', 'exec', ['a\u0000', 'a0']),
  p('escape-nul-plus-end', r`\0+ at the end of the input`, r`a\0+`, '', 'exec', ['a', 'a\u0000']),
  p('escape-b', r`\b (word boundary)`, r`\bfoo`, '', 'exec', ['a foo', 'afoo', 'a\bfoo']),
  p('escape-B', r`\B`, r`\Boo`, '', 'exec', ['foo', 'a oo']),
  p('escape-b-class', r`[\b] (backspace)`, r`[\b]`, '', 'exec', ['a\bb', 'ab']),
  p('escape-backref', r`\1 (backreference)`, r`(a)\1`, '', 'exec', ['aa', 'a\u0001']),
  p('escape-c', r`\cJ (control letter)`, r`\cJ`, '', 'exec', ['\n', 'cJ']),
  p('escape-identity-punct', 'identity escapes of punctuation (\\, \\: \\= \\! \\< \\> \\@ \\# \\% \\& \\\' \\" \\~ \\` \\ )', '\\,\\:\\=\\!\\<\\>\\@\\#\\%\\&\\\'\\"\\~\\`\\ ', '', 'exec', [',:=!<>@#%&\'"~` ', ',:=']),
  p('escape-octal', r`\0 then a digit (legacy octal)`, r`a\01`, '', 'exec', ['a\u0001', 'a\u00001']),
  p('escape-identity-letter', r`\q (identity escape of a letter)`, r`\q`, '', 'exec', ['q', '\\q']),
  p('escape-k', r`\k`, r`\k`, '', 'exec', ['k']),
  // ---- classes
  p('class', '[abc]', '[abc]', '', 'exec', ['xxb', 'xyz', '']),
  p('class-negated', '[^abc]', '[^abc]', '', 'exec', ['abd', 'abc', '']),
  p('class-range', '[a-z]', '[a-z]+', '', 'exec', ['12abc3', 'ABC']),
  p('class-ranges', '[A-Z0-9_]', '[A-Z0-9_]+', '', 'exec', ['ab_X9-', 'ab']),
  p('class-hex', '[0-9a-fA-F]', '[0-9a-fA-F]+', '', 'exec', ['xyz09afAFg', 'xyz']),
  p('class-negated-range', '[^0-9]', '[^0-9]+', '', 'exec', ['12ab3', '123']),
  p('class-escape-d', r`[\d.]`, r`[\d.]+`, '', 'exec', ['v1.25x', 'abc']),
  p('class-escape-w', r`[\w-]`, r`[\w-]+`, '', 'exec', ['  a-b_c!', '!!']),
  p('class-escape-s', r`[\s,]`, r`[\s,]+`, '', 'exec', ['a , \tb', 'ab']),
  p('class-dot', '[.] (dot in a class)', 'a[.]b', '', 'exec', ['axb', 'a.b']),
  p('class-escaped-bracket', r`[\]]`, r`[\]]`, '', 'exec', ['a]', 'a']),
  p('class-escaped-backslash', r`[\\]`, r`[\\]`, '', 'exec', ['a\\', 'a']),
  p('class-escaped-dash', r`[a\-z]`, r`[a\-z]+`, '', 'exec', ['b-az', 'b']),
  p('class-dash-first', '[-a]', '[-a]+', '', 'exec', ['b-a', 'b']),
  p('class-dash-last', '[a-]', '[a-]+', '', 'exec', ['b-a', 'b']),
  p('class-dash-after-range', '[a-c-e]', '[a-c-e]', '', 'exec', ['-', 'd', 'e', 'b']),
  p('class-syntax-chars', '[$^*+?(){}] (syntax chars in a class)', 'x[$*+?(){}^]', '', 'exec', ['x$', 'x^', 'x{', 'x)', 'xa']),
  p('class-pipe', '[|] (unescaped | in a class)', 'a[|]b', '', 'exec', ['a|b', 'ab']),
  p('class-pipe-alternation', '[|] in a pattern with alternation', 'a[|b]c|d', '', 'exec', ['d', 'abc', 'a|c', 'b]c']),
  p('class-escaped-pipe-alternation', r`[\|] in a pattern with alternation`, r`a[\|b]c|d`, '', 'exec', ['d', 'abc', 'a|c', 'b]c']),
  p('class-open-bracket', '[[] (unescaped [ in a class)', 'a[[]', '', 'exec', ['a[', 'ab']),
  p('class-slash', '[/] (unescaped / in a class)', 'a[/]', '', 'exec', ['a/', 'ab']),
  p('class-escaped-slash', r`[\/]`, r`a[\/]`, '', 'exec', ['a/', 'ab']),
  p('class-empty', '[] (empty class)', 'a[]', '', 'exec', ['a', 'a]']),
  p('class-negated-empty', '[^] (any char)', 'a[^]', '', 'exec', ['ab', 'a\n', 'a']),
  // ---- ranges
  p('range-same', '[a-a] (range with equal ends)', '[a-a]', '', 'exec', ['xa', 'x']),
  p('range-x', r`[\x41-\x5a] (range with \x ends)`, r`[\x41-\x5a]+`, '', 'exec', ['abCDe', 'abc']),
  p('range-control', r`[\t-\r] (range with control escapes)`, r`[\t-\r]`, '', 'exec', ['a\nb', 'a b']),
  p('range-punct', '[!-/] (range of punctuation)', '[!-/]', '', 'exec', ['ab#', 'ab0']),
  p('range-u', r`[\u0041-\u005a] (range with \u ends)`, r`[\u0041-\u005a]`, '', 'exec', ['aB', 'a5', 'au', 'ab']),
  p('range-u-nonascii', r`[\u007f-\uffff] (protocol/bytes.ts, the JSON escaper)`, r`[\u007f-\uffff]`, 'g', 'replace-fn', ['{"a":"hello"}', '{"id":"pico-07","ok":true}', 'ABC.xyz[]']),
  p('range-x-high', r`[\x7f-\xff] (range above 7f)`, r`[\x7f-\xff]`, '', 'exec', ['a\u00e9', 'a\u007f', 'ab']),
  p('range-dot-low', '[.-9] (unescaped . as the low end)', '[.-9]', '', 'exec', ['x5', 'x-', 'x/']),
  p('range-dot-high', '[!-.] (unescaped . as the high end)', '[!-.]', '', 'exec', ['a#', 'ab']),
  p('range-escaped-dot', r`[\.-9] (escaped . as the low end)`, r`[\.-9]`, '', 'exec', ['x5', 'x-', 'x/']),
  p('range-escape-class', r`[\d-z] (range from a class escape)`, r`[\d-z]+`, '', 'exec', ['-5z', 'y']),
  p('range-mixed-case', '[A-z] (range over [\\]^_`)', '[A-z]', '', 'exec', ['0[', '0_', '0a']),
  p('range-mixed-case-i', '[A-z] with i', '[A-z]', 'i', 'exec', ['0[', '0_', '0a']),
  p('range-punct-upper-i', '[@-Z] with i', '[@-Z]', 'i', 'exec', ['0[', '0q', '0@']),
  p('range-upper-i', '[A-F] with i', '[A-F]+', 'i', 'exec', ['xcdG', 'xyz']),
  p('range-lower-i', '[a-f] with i', '[a-f]+', 'i', 'exec', ['xCDg', 'xyz']),
  p('range-digits-i', '[0-9] with i', '[0-9]+', 'i', 'exec', ['ab12c']),
  // ---- quantifiers
  p('star', 'x*', 'ba*c', '', 'exec', ['bc', 'xbac', 'baaac', 'ba']),
  p('star-alone', 'x* alone', 'a*', '', 'exec', ['', 'aaa', 'baaa']),
  p('star-class', '[..]*', '^[0-9a-f]*$', '', 'test', ['', '00ff', '0g', LONG_HEX]),
  p('star-escape', r`\d*`, r`x\d*y`, '', 'exec', ['xy', 'x123y', 'x1a']),
  p('star-backtrack', 'x* then x', 'a*ab', '', 'exec', ['aaab', 'ab', 'b']),
  p('star-greedy-groups', 'greedy x* with a group after', '(a*)(a*)b', '', 'exec', ['aab']),
  p('plus', 'x+', 'ba+c', '', 'exec', ['bc', 'bac', 'baaac']),
  p('plus-alone', 'x+ alone', '[0-9]+', '', 'exec', ['x123y', 'xy']),
  p('plus-then-other', 'x+ then a char x cannot match', 'a+b', '', 'exec', ['aab', 'b', 'ab']),
  p('plus-end', 'x+ then $', '^[0-9a-f]+$', '', 'test', ['', '00ff', '0g', LONG_HEX]),
  p('plus-overlap', 'x+ then a char x can match', 'a+a', '', 'exec', ['a', 'aa', 'aaa']),
  p('plus-overlap-class', 'x+ then a class overlapping x', 'a+[a-z]', '', 'exec', ['a', 'ab', 'aab']),
  p('plus-overlap-star', 'x+ then y* then x', 'a+b*a', '', 'exec', ['a', 'aba', 'ba']),
  p('plus-then-star', 'x+ then y* at the end', 'a+b*', '', 'exec', ['a', 'aabb', 'b']),
  p('plus-negated-end', '[^x]+ at the end of the input', 'a[^b]+', '', 'exec', ['a', 'ac', 'ab']),
  p('plus-negated-empty', '[^x]+ on the empty string', '[^b]+', '', 'exec', ['', 'b', 'ab']),
  p('plus-D-end', r`\D+ at the end of the input`, r`a\D+`, '', 'exec', ['a', 'ab']),
  p('plus-W-end', r`\W+ at the end of the input`, r`a\W+`, '', 'exec', ['a', 'a-']),
  p('plus-S-end', r`\S+ at the end of the input`, r`a\S+`, '', 'exec', ['a', 'ab']),
  p('plus-negated-rewritten', '[^x][^x]* (the + of a negated class written out)', 'a[^b][^b]*', '', 'exec', ['a', 'acc', 'ab']),
  p('star-negated-end', '[^x]* at the end of the input', 'a[^b]*', '', 'exec', ['a', 'acc']),
  p('trim-end', r`\s+$`, r`\s+$`, '', 'replace', ['ab  ', 'ab', ' a b '], ''),
  p('optional', 'x? (optional)', 'colou?r', '', 'exec', ['color', 'colour', 'colou?r']),
  p('optional-short', 'x? (optional)', 'ab?c', '', 'exec', ['ac', 'abc', 'ab?c']),
  p('lazy-star', 'x*? (lazy)', 'a*?b', '', 'exec', ['aab', 'a*?b']),
  p('lazy-plus', 'x+? (lazy)', 'a+?', '', 'exec', ['aaa', 'a+?']),
  p('lazy-optional', 'x?? (lazy optional)', 'ba??', '', 'exec', ['ba', 'ba??']),
  p('counted', 'x{n}', 'a{2}', '', 'exec', ['aa', 'a{2}']),
  p('counted-range', 'x{n,m}', 'a{2,3}', '', 'exec', ['aaaa', 'a{2,3}']),
  p('counted-open', 'x{n,}', 'a{2,}', '', 'exec', ['aaaa', 'a{2,}']),
  p('counted-hex32', 'x{32} (firmware/core/session-handlers.ts, session nonce)', '^[0-9a-fA-F]{32}$', '', 'test', [HEX32, HEX32 + '0', 'z'.repeat(32)]),
  p('counted-hex64', 'x{64} (firmware/core/session-handlers.ts, rekey keys)', '^[0-9a-fA-F]{64}$', '', 'test', [HEX64, HEX64.slice(1)]),
  p('counted-group-plus', '(x{2})+ (firmware/core/session-handlers.ts, session message)', '^([0-9a-fA-F]{2})+$', '', 'test', ['00ff', '0ff', '']),
  // ---- anchors
  p('anchor-start', '^', '^ab', '', 'exec', ['abc', 'cab']),
  p('anchor-end', '$', 'bc$', '', 'exec', ['abc', 'bca', 'bcbc']),
  p('anchor-end-i', '$ with i (Espruino compares the literal tail case-sensitively first)', 'BC$', 'i', 'exec', ['abc', 'aBC', 'bca']),
  p('anchor-both', '^...$', '^abc$', '', 'test', ['abc', 'abcd', 'xabc']),
  p('anchor-empty', '^$', '^$', '', 'test', ['', 'a']),
  p('anchor-end-middle', '$ in the middle', 'a$b', '', 'exec', ['a', 'ab']),
  p('anchor-start-middle', '^ in the middle', 'a^b', '', 'exec', ['ab', 'a^b']),
  p('anchor-start-middle-alt', '^ in the middle, with alternation', 'x^|x', '', 'exec', ['x', 'ax']),
  p('anchor-start-class-end', '^[..]*$ on hex (firmware/core/psd.ts)', '^[0-9a-fA-F]*$', '', 'test', [HEX64, '00zz', '']),
  // ---- alternation
  p('alt', 'a|b', 'cat|dog', '', 'exec', ['hotdog', 'cat', 'bird']),
  p('alt-three', 'a|b|c', 'ab|cd|ef', '', 'exec', ['xxef', 'xcd', 'ace']),
  p('alt-prefix', 'alternatives that share a prefix', 'ab|a', '', 'exec', ['a', 'ab', 'xab']),
  p('alt-order', 'first alternative wins', 'a|ab', '', 'exec', ['ab']),
  p('alt-anchors', '^a|^b', '^a|^b', '', 'exec', ['b', 'xb', 'a']),
  p('alt-anchor-first-only', '^ on the first alternative only', '^a|b', '', 'exec', ['xb', 'a', 'b']),
  p('alt-anchor-later-only', '^ on a later alternative only', 'b|^a', '', 'exec', ['xb', 'a', 'xa']),
  p('alt-end-anchor', '$ in an alternative', 'a$|b', '', 'exec', ['ab', 'ba', 'xa']),
  p('alt-class', 'alternation of classes', '[0-9]x|[a-f]y', '', 'exec', ['zz5x', 'zzcy', 'zz5y']),
  p('alt-empty', 'an empty alternative', 'a|', '', 'exec', ['b', 'a']),
  p('alt-star', 'x* with alternation', 'x*y|xx', '', 'exec', ['xxz', 'xxy']),
  p('alt-star-backtrack', 'x* with alternation (star keeps the last success)', 'a*ab|aaa', '', 'exec', ['aaab', 'aab']),
  p('alt-plus', 'x+ with alternation', 'a+b|c', '', 'exec', ['aab', 'c', 'xc']),
  p('alt-group', 'a group in an alternative', '(a)x|b', '', 'exec', ['b', 'ax']),
  p('alt-in-group', 'alternation inside a group', 'a(b|c)d', '', 'exec', ['acd', 'ab', 'abd']),
  // ---- groups
  p('group', '(x)', '(ab)c', '', 'exec', ['xabc', 'ab']),
  p('group-three', '(a)(b)(c)', '(a)(b)(c)', '', 'exec', ['xabc']),
  p('group-star-inside', '(x*)', '(a*)b', '', 'exec', ['aab', 'b']),
  p('group-nested', '((x)y)', '((a)b)c', '', 'exec', ['abc']),
  p('group-plus', '(xy)+', '(ab)+', '', 'exec', ['abab', 'ab)+']),
  p('group-star', '(xy)*', '(ab)*c', '', 'exec', ['ababc', 'c']),
  p('group-ten', 'ten groups', '(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)', '', 'exec', ['abcdefghij']),
  p('group-nine', 'nine groups', '(a)(b)(c)(d)(e)(f)(g)(h)(i)', '', 'exec', ['abcdefghi']),
  p('group-non-capturing', '(?:x)', '(?:ab)c', '', 'exec', ['abc', '?:abc']),
  p('lookahead', '(?=x)', 'a(?=b)', '', 'exec', ['ab', 'a?=b']),
  p('lookahead-negative', '(?!x)', 'a(?!b)', '', 'exec', ['ab', 'ac']),
  p('lookbehind', '(?<=x)', '(?<=a)b', '', 'exec', ['ab', 'b']),
  p('named-group', '(?<name>x)', '(?<n>a)', '', 'exec', ['a']),
  // ---- dot
  p('dot', '. (any char but a line terminator)', 'a.c', '', 'exec', ['abc', 'a\nc', 'a\rc', 'ac']),
  p('dot-star', '.*', 'a.*', '', 'exec', ['xabc\ndef']),
  // ---- flags
  p('flag-i', 'i', 'abc', 'i', 'exec', ['xABC', 'aBc', 'abd']),
  p('flag-i-class', 'i with a class', '[a-f]+', 'i', 'exec', ['xABCx']),
  p('flag-i-negated', 'i with a negated class', '[^a-z]+', 'i', 'exec', ['AB1c', 'ab']),
  p('flag-i-escape', r`i with \x`, r`\x41`, 'i', 'exec', ['a', 'A']),
  p('flag-m-start', 'm with ^', '^b', 'm', 'exec', ['a\nb', 'b']),
  p('flag-m-end', 'm with $', 'a$', 'm', 'exec', ['a\nb', 'ba']),
  p('flag-m-plain', 'm without anchors', 'b', 'm', 'exec', ['abc']),
  p('flag-s', 's (dotAll)', 'a.c', 's', 'exec', ['a\nc']),
  p('flag-y', 'y (sticky)', 'b', 'y', 'exec', ['ab', 'b']),
  p('flag-u', r`u with \u`, r`\u0041`, 'u', 'exec', ['A']),
  p('flag-g-test', 'g with test() called three times', 'a', 'g', 'test-repeat', ['aa', 'b']),
  p('flag-g-test-end', 'g with test() and a pattern ending in $', 'b$', 'g', 'test-repeat', ['ab', 'b']),
  p('flag-g-exec-loop', 'g with an exec() loop', r`\d+`, 'g', 'exec-loop', ['1 22 333', 'none']),
  p('flag-g-exec-loop-empty', 'g with an exec() loop, empty matches', 'x*', 'g', 'exec-loop', ['ab']),
  p('no-g-test', 'test() without g called three times', 'a', '', 'test-repeat', ['aa']),
  // ---- String / RegExp methods
  p('replace-first', 'replace, string, first match', 'b', '', 'replace', ['abcb', 'xyz'], 'X'),
  p('replace-global', 'replace, string, g', 'b', 'g', 'replace', ['abcb', 'bbb', 'xyz'], 'X'),
  p('replace-groups', 'replace, $1 $2', '(b)(c)', '', 'replace', ['abcd'], '[$2$1]'),
  p('replace-group-missing', 'replace, $n beyond the groups', '(b)', '', 'replace', ['abc'], '[$3]'),
  p('replace-dollar-zero', 'replace, $0', 'b', '', 'replace', ['abc'], '[$0]'),
  p('replace-dollar-10', 'replace, $10 with one group', '(b)', '', 'replace', ['abc'], '[$10]'),
  p('replace-dollar-letter', 'replace, $ before a letter', 'b', '', 'replace', ['abc'], '[$x]'),
  p('replace-dollar-amp', 'replace, $&', 'b', '', 'replace', ['abc'], '[$&]'),
  p('replace-dollar-dollar', 'replace, $$', 'b', '', 'replace', ['abc'], '[$$]'),
  p('replace-dollar-before', 'replace, $`', 'b', '', 'replace', ['abc'], '[$`]'),
  p('replace-dollar-after', "replace, $'", 'b', '', 'replace', ['abc'], "[$']"),
  p('replace-dollar-end', 'replace, a trailing $', 'b', '', 'replace', ['abc'], 'x$'),
  p('replace-empty-global', 'replace, g, empty matches', 'x*', 'g', 'replace', ['abc', ''], '-'),
  p('replace-star-global', 'replace, g, x* matching some', 'b*', 'g', 'replace', ['abbc'], '-'),
  p('replace-end-global', 'replace, g, $', '$', 'g', 'replace', ['ab'], '!'),
  p('replace-anchored-global', 'replace, g, ^', '^', 'g', 'replace', ['ab'], '!'),
  p('replace-fn', 'replace with a function (match, groups, offset, input)', '(b)(c)', '', 'replace-fn', ['xabcbc']),
  p('replace-fn-global', 'replace with a function, g', 'b', 'g', 'replace-fn', ['abab', 'xyz']),
  p('replace-fn-class-global', 'replace with a function, g, a class', '[^a-z]', 'g', 'replace-fn', ['a1b-c', 'abc']),
  p('replace-fn-end-global', 'replace with a function, g, literal tail', 'b$', 'g', 'replace-fn', ['abb', 'ab']),
  p('match', 'match without g', 'b', '', 'match', ['abc', 'xyz']),
  p('match-groups', 'match without g, groups', r`(\d)(\d)`, '', 'match', ['a12b', 'a1b']),
  p('match-global', 'match with g', r`\d`, 'g', 'match', ['a1b2', 'ab']),
  p('match-global-empty', 'match with g, empty matches', 'x*', 'g', 'match', ['ab']),
  p('split', 'split', ',', '', 'split', [',a,,b,', 'ab', '']),
  p('split-class', 'split on a class and x*', '[,;] *', '', 'split', ['a, b;c', 'abc']),
  p('split-whitespace', r`split on \s+`, r`\s+`, '', 'split', ['a  b\tc', ' a ']),
  p('split-global', 'split with g', ',', 'g', 'split', ['a,b,c']),
  p('split-group', 'split with a capturing group', '(,)', '', 'split', ['a,b']),
  p('split-limit', 'split with a limit', ',', '', 'split-limit', ['a,b,c'], 2),
  p('split-empty-match', 'split on a pattern that matches the empty string', 'x*', '', 'split', ['abc']),
  p('split-end', 'split on $', '$', '', 'split', ['ab']),
  p('ctor', 'RegExp constructor', r`\d+`, '', 'ctor', ['ab12c']),
  p('ctor-counted', 'RegExp constructor with x{n}', 'a{2}', '', 'ctor', ['aa']),
  // ---- the regexes the firmware keeps (protocol/bytes.ts: isHex, asciiJson)
  p('firmware-hex-digits', '^[0-9a-fA-F]*$ (protocol/bytes.ts isHex)', '^[0-9a-fA-F]*$', '', 'test', ['0123456789abcdefABCDEF', HEX64, LONG_HEX, '', '/', ':', '@', 'G', '`', 'g', ' 00', '00 ', '0x00', '00\n', '\u000000']),
  p('firmware-not-ascii', '[^\\x00-\\x7e] (protocol/bytes.ts asciiJson)', '[^\\x00-\\x7e]', '', 'test', [ASCII_PRINTABLE, ASCII_CONTROL, '', '{"a":"hello","n":-1.5e3,"t":true}', '\u007f', 'abc\u007f']),
  // ---- non-ASCII input: Espruino walks the UTF-8 bytes of a string
  p('nonascii-detect', '[^\\x00-\\x7e] on non-ASCII strings (asciiJson on V8-made text)', '[^\\x00-\\x7e]', '', 'test', ['\u0080', 'a\u00e9', '\u00ff', '\u0100', 'x\u20ac', '\uffff', 'a\ud83d\ude00', '\ud800']),
  p('nonascii-index', 'a plain literal after a non-ASCII char', 'b', '', 'exec', ['\u00e9b', '\u20acb']),
  p('nonascii-negated', 'a negated class on a non-ASCII char', '[^a]', '', 'exec', ['\u00e9', '\u20ac']),
  p('nonascii-literal', 'a non-ASCII literal in the pattern', '\u00e9', '', 'exec', ['a\u00e9']),
  p('nonascii-class-literal', 'a non-ASCII literal in a class', '[\u00e9a]', '', 'exec', ['x\u00e9']),
  p('nonascii-w', r`\w on a non-ASCII letter`, r`\w`, '', 'exec', ['\u00e9']),
  p('nonascii-s', r`\s on U+00A0`, r`\s`, '', 'exec', ['a\u00a0']),
  p('nonascii-replace', 'replace on a non-ASCII string', 'b', 'g', 'replace', ['\u00e9b\u00e9b'], 'X')
];

/** A JS string literal (double quotes) with every char outside printable ASCII escaped. */
export function jsString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + (c | 0x10000).toString(16).slice(1);
    else out += s[i];
  }
  return out + '"';
}

const FN_REPLACER = 'function () { var a = []; for (var i = 0; i < arguments.length; i++) a.push(arguments[i] === undefined ? "(undefined)" : String(arguments[i])); return "<" + a.join(",") + ">"; }';

/** ES5 expression (source text, evaluated by `eval` on both engines) for one probe and input. */
export function probeExpression(probe: RegexProbe, input: string): string {
  const re = '/' + probe.source + '/' + probe.flags;
  const s = jsString(input);
  switch (probe.method) {
    case 'exec': return `N(${re}.exec(${s}))`;
    case 'test': return `${re}.test(${s})`;
    case 'match': return `N(${s}.match(${re}))`;
    case 'split': return `N(${s}.split(${re}))`;
    case 'split-limit': return `N(${s}.split(${re}, ${Number(probe.arg)}))`;
    case 'replace': return `${s}.replace(${re}, ${jsString(String(probe.arg))})`;
    case 'replace-fn': return `${s}.replace(${re}, ${FN_REPLACER})`;
    case 'test-repeat': return `(function (r) { return [r.test(${s}), r.lastIndex, r.test(${s}), r.lastIndex, r.test(${s}), r.lastIndex]; })(${re})`;
    case 'exec-loop': return `(function (r) { var out = [], m, n = 0; while (n++ < 10 && (m = r.exec(${s}))) out.push(m[0] + "@" + m.index + ">" + r.lastIndex); out.push(m === null ? "null" : typeof m); return out; })(${re})`;
    case 'ctor': return `N(new RegExp(${jsString(probe.source)}, ${jsString(probe.flags)}).exec(${s}))`;
  }
}

/** Helpers of the probe program: N normalises match arrays (index kept, undefined made visible). */
const PRELUDE = [
  'function N(v) {',
  '  if (v === undefined) return { undefined: true };',
  '  if (v === null || typeof v !== "object") return v;',
  '  var a = [], i, o;',
  '  for (i = 0; i < v.length; i++) a.push(v[i] === undefined ? { undefined: true } : v[i]);',
  '  o = { array: a };',
  '  if (typeof v.index === "number") o.index = v.index;',
  '  return o;',
  '}',
  'function R(id, code) {',
  '  print("@@S " + id);',
  '  var out;',
  '  try { out = { v: eval(code) }; } catch (e) { out = { error: String(e) }; }',
  '  print("@@R " + id + " " + JSON.stringify(out));',
  '}',
  ''
].join('\n');

export interface ProbeCase { key: string; probe: RegexProbe; input: string; index: number }

export function probeCases(probes: RegexProbe[]): ProbeCase[] {
  return probes.flatMap((probe) => probe.inputs.map((input, index) => ({ key: probe.id + '#' + index, probe, input, index })));
}

/** The whole program for a list of cases: prints `@@S key` before and `@@R key {json}` after each. */
export function probeProgram(cases: ProbeCase[]): string {
  return PRELUDE + cases.map((c) => `R(${jsString(c.key)}, ${jsString(probeExpression(c.probe, c.input))});\n`).join('');
}

function parseAnswers(lines: string[]): Map<string, ProbeAnswer> {
  const out = new Map<string, ProbeAnswer>();
  for (const l of lines) {
    const sp = l.indexOf(' ');
    out.set(l.slice(0, sp), JSON.parse(l.slice(sp + 1)));
  }
  return out;
}

/** Answers of V8 (this Node), from the same program text. */
export function runOnV8(cases: ProbeCase[]): Map<string, ProbeAnswer> {
  const printed: string[] = [];
  vm.runInNewContext(probeProgram(cases), { print: (s: string) => printed.push(String(s)) }, { timeout: 10000 });
  return parseAnswers(markedLines(printed.join('\n'), '@@R '));
}

/**
 * Answers of the binary. One run for all cases; when a case does not finish within
 * `timeoutMs`, it is recorded as a hang and the run starts again after it.
 */
export function runOnEspruino(binary: string, cases: ProbeCase[], timeoutMs = 5000): Map<string, ProbeAnswer> {
  const answers = new Map<string, ProbeAnswer>();
  let rest = cases;
  while (rest.length) {
    const run = runSnippet(binary, probeProgram(rest), timeoutMs);
    for (const [k, v] of parseAnswers(markedLines(run.stdout, '@@R '))) answers.set(k, v);
    const started = markedLines(run.stdout, '@@S ');
    const last = started[started.length - 1];
    const lastAt = rest.findIndex((c) => c.key === last);
    if (lastAt < 0) throw new Error(`espruino ran no probe at all (status ${run.status}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
    if (!answers.has(last)) {
      if (!run.timedOut) throw new Error(`espruino stopped inside probe ${last} (status ${run.status}):\n${run.stdout.slice(-2000)}`);
      answers.set(last, { hang: true });
    }
    rest = rest.slice(lastAt + 1);
    if (rest.length && !run.timedOut && !answers.has(rest[0].key)) {
      throw new Error(`espruino ended after probe ${last} without running ${rest[0].key} (status ${run.status}):\n${run.stdout.slice(-2000)}`);
    }
  }
  return answers;
}

export function sameAnswer(a: ProbeAnswer, b: ProbeAnswer): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Records for the data file: both engines' answers per input. */
export function probeRecords(probes: RegexProbe[], espruino: Map<string, ProbeAnswer>, v8: Map<string, ProbeAnswer>): ProbeRecord[] {
  return probes.map((probe) => {
    const results = probe.inputs.map((input, i) => {
      const key = probe.id + '#' + i;
      const e = espruino.get(key);
      const v = v8.get(key);
      if (!e || !v) throw new Error(`no answer for ${key}`);
      return { input, espruino: e, v8: v, same: sameAnswer(e, v) };
    });
    return { ...probe, results, same: results.every((x) => x.same) };
  });
}

export const DATA_FILE = new URL('regex-2v29.json', import.meta.url);

export interface RegexData {
  interpreter: string;
  generatedBy: string;
  inputs: string;
  /** the subset derived from the probes (tools/profile/regex.ts): allowed constructs and forbidden rules, each with its probes */
  allowed: Array<{ construct: string; evidence: string[] }>;
  forbidden: Record<string, RegexRule>;
  probes: ProbeRecord[];
}

/** The data file's text: one probe per line, so a regeneration diffs line by line. */
export function formatData(data: RegexData): string {
  const { probes, allowed, forbidden, ...head } = data;
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  lines.push('  "allowed": [\n' + allowed.map((a) => '    ' + JSON.stringify(a)).join(',\n') + '\n  ],');
  lines.push('  "forbidden": {\n' + Object.entries(forbidden).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n') + '\n  },');
  return '{\n' + lines.join('\n') + '\n  "probes": [\n' + probes.map((p) => '    ' + JSON.stringify(p)).join(',\n') + '\n  ]\n}\n';
}

function main() {
  const binary = findEspruino();
  if (!binary) {
    console.error(noEspruinoReason());
    process.exit(2);
  }
  const version = runSnippet(binary, 'print("@@V " + process.version + " " + process.env.BOARD);', 10000);
  const cases = probeCases(PROBES);
  const records = probeRecords(PROBES, runOnEspruino(binary, cases), runOnV8(cases));
  const data: RegexData = {
    interpreter: 'Espruino ' + markedLines(version.stdout, '@@V ').join(' ') + ' (the Linux build; regex engine src/jswrap_regexp.c shared with the board builds)',
    generatedBy: 'node --import tsx tools/profile/regex-probe.ts (ESPRUINO_BIN set); V8 is Node ' + process.version,
    inputs: 'Inputs are ASCII except in probes whose id starts with nonascii-: on non-ASCII strings Espruino walks UTF-8 bytes, so indices and classes differ from V8 for every pattern.',
    allowed: REGEX_ALLOWED,
    forbidden: REGEX_RULES,
    probes: records
  };
  writeFileSync(DATA_FILE, formatData(data));
  const differ = records.filter((x) => !x.same);
  console.log(`${records.length} probes, ${cases.length} cases; ${differ.length} probes differ from V8: ${differ.map((x) => x.id).join(', ')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
