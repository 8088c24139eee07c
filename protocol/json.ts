// Strict JSON for request payloads. Espruino 2v29's JSON.parse accepts much that is not JSON
// (trailing bytes, trailing commas, single quotes, hex numbers, \x escapes), keeps both of two
// equal keys (reading the field gives the FIRST value; V8 keeps the last), wraps integer
// literals past 2^64 (18446744073709551617 is 1; in an exponent too: 1e4294967297 is 10),
// spends time linear in an exponent's value (1e1000000000 takes seconds on a PC), turns a lone
// surrogate escape into nothing, and after a "__proto__" key with a primitive value, reading
// any absent field of the object fails an ASSERT that ends the interpreter. So the device runs
// every payload through jsonError before JSON.parse sees it (firmware/core/device.ts,
// parseRequest). ES5, no regular expression, two function objects.
//
// Written for the interpreter's cost model: Espruino runs the source text itself, and every
// pass through a loop body (or call of a function) lexes all of it, taken branches or not
// (a 2 KB body costs some 60 us a pass on a PC, tens of times more on a board). So the main
// loop is short and makes one pass per member or bracket, and the rarely needed per-char
// scan of a string lives in its own function.

/** Deepest nesting of objects and arrays a payload may have (requests need 3). */
export var MAX_JSON_DEPTH = 8;

/**
 * -1 when `s` is JSON as RFC 8259 defines it and keeps to the device's limits; else the offset
 * of the first byte refused. On top of the grammar, as I-JSON (RFC 7493) asks: no key twice
 * in one object at any depth (keys compared decoded), no "__proto__" key, no lone surrogate
 * escape, no number whose integer part exceeds 2^53; and, for the interpreter: only ASCII
 * bytes, at most 3 exponent digits, at most MAX_JSON_DEPTH levels. `s` is a byte string
 * (chars 0-255), as frames deliver it (V8's encodeURIComponent throws on a lone surrogate).
 */
export function jsonError(s: string): number {
  var n = s.length;
  var i = 0;
  var c: number;
  var k: number;
  var start: number;
  var key: string;
  /** one entry per open container: the keys seen so far (object) or null (array) */
  var open: any[] = [];
  /** the innermost container's entry */
  var keys: string[] | null = null;
  /** what comes next: 0 a value, 1 a value or ']', 2 a key, 3 a key or '}', 4 what follows a value */
  var want = 0;
  for (;;) {
    while ((c = s.charCodeAt(i)) === 32 || c === 9 || c === 10 || c === 13) i++;
    if (want && want !== 2 && open.length && c === (keys ? 125 : 93)) {
      open.pop();
      keys = open.length ? open[open.length - 1] : null;
      want = 4;
      i++;
      continue;
    }
    if (want === 4) {
      // after a value: a comma, or at the top the end of the text
      if (!open.length) return i < n ? i : -1;
      if (c !== 44) return i;
      want = keys ? 2 : 0;
      while ((c = s.charCodeAt(++i)) === 32 || c === 9 || c === 10 || c === 13);
    }
    if (want > 1) {
      // a key: a string none of its object's other keys equals (decoded), then a colon
      if (c !== 34) return i;
      k = stringEnd(s, i);
      if (k < 0) return ~k;
      key = s.substring(i + 1, k);
      if (key.indexOf('\\') >= 0) key = JSON.parse(s.substring(i, k + 1));
      if (key === '__proto__' || keys!.indexOf(key) >= 0) return i;
      keys!.push(key);
      i = k + 1;
      while ((c = s.charCodeAt(i)) === 32 || c === 9 || c === 10 || c === 13) i++;
      if (c !== 58) return i;
      while ((c = s.charCodeAt(++i)) === 32 || c === 9 || c === 10 || c === 13);
    }
    // a value
    if (c === 123 || c === 91) {
      if (open.length >= MAX_JSON_DEPTH) return i;
      keys = c === 123 ? [] : null;
      open.push(keys);
      want = c === 123 ? 3 : 1;
      i++;
      continue;
    }
    want = 4;
    if (c === 34) {
      k = stringEnd(s, i);
      if (k < 0) return ~k;
      i = k + 1;
      continue;
    }
    if (c > 101) {
      // true, null, false
      k = c === 102 ? 5 : 4;
      if (s.substr(i, k) !== (c === 116 ? 'true' : c === 110 ? 'null' : 'false')) return i;
      i += k;
      continue;
    }
    // a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]{1,3})?, integer part at most 2^53
    start = i;
    if (c === 45) c = s.charCodeAt(++i);
    k = i;
    if (c === 48) i++;
    else if (c >= 49 && c <= 57) while ((c = s.charCodeAt(++i)) >= 48 && c <= 57);
    else return i;
    if (i - k > 16 || (i - k === 16 && s.substring(k, i) > '9007199254740992')) return start;
    if (s.charCodeAt(i) === 46) {
      k = ++i;
      while ((c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
      if (i === k) return i;
    }
    c = s.charCodeAt(i);
    if (c === 101 || c === 69) {
      c = s.charCodeAt(++i);
      if (c === 43 || c === 45) i++;
      k = i;
      while ((c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
      if (i === k || i - k > 3) return k;
    }
  }
}

/** The offset of the quote that ends the string whose opening quote is at `i`, or ~offset
 * (negative) of the first byte refused: printable ASCII, the RFC's escapes, surrogate escapes
 * in pairs only. */
function stringEnd(s: string, i: number): number {
  var end = s.indexOf('"', i + 1);
  var text = s.substring(i + 1, end);
  // natively, the usual case: up to the next quote only chars encodeURIComponent leaves alone
  // (letters, digits, - _ . ! ~ * ' ( )), such as hex and names
  if (end > i && encodeURIComponent(text).length === text.length) return end;
  var hi = false;
  var c: number;
  var d: number;
  var u: number;
  var k: number;
  for (;;) {
    c = s.charCodeAt(++i);
    if (i >= s.length || c < 32 || c > 127 || (hi && (c !== 92 || s.charCodeAt(i + 1) !== 117))) return ~i;
    if (c === 34) return i;
    if (c !== 92) continue;
    c = s.charCodeAt(++i);
    if (c !== 117) {
      if ('"\\/bfnrt'.indexOf(String.fromCharCode(c)) < 0) return ~i;
      continue;
    }
    for (u = 0, k = 0; k < 4; k++) {
      d = s.charCodeAt(++i);
      d = d >= 48 && d <= 57 ? d - 48 : (d | 32) >= 97 && (d | 32) <= 102 ? (d | 32) - 87 : -1;
      if (d < 0) return ~i;
      u = u * 16 + d;
    }
    if ((u >= 0xdc00 && u <= 0xdfff) !== hi) return ~i;
    hi = u >= 0xd800 && u <= 0xdbff;
  }
}
