// Espruino 2v29's own conversions, ported to JavaScript for the virtual board: number to text
// (src/jsutils.c itostr/ftoa_bounded_extra), text to number (stringToIntWithRadix,
// stringToFloatWithRadix), JSON and console output (src/jswrap_json.c jsfGetJSONWithCallback,
// escapeCharacter), JSON.parse (jswrap_json_parse_internal over the src/jslex.c lexer) and
// Array.prototype.sort (src/jswrap_array.c). Evaluated INSIDE the board's node:vm context
// before runtime.js (which installs them); it returns an object of plain functions.
// Limits: V8 cannot tell Espruino's int32 values from doubles, so an integral value in the
// int32 range is taken as an int (the two print the same), anything else as a double.
(function () {
  'use strict';
  var fromCC = String.fromCharCode;
  var fromCP = String.fromCodePoint;
  var OparseInt = parseInt;
  var ONumber = Number;
  var OString = String;
  var OArray = Array;
  var OObject = Object;
  var isView = ArrayBuffer.isView;
  var OAB = ArrayBuffer;
  var ODataView = DataView;
  var OError = Error;
  var OSyntaxError = SyntaxError;
  var OBigInt = BigInt;
  var fnToStr = Function.prototype.toString;
  var getProto = Object.getPrototypeOf;
  var getDesc = Object.getOwnPropertyDescriptor;
  var objToString = Object.prototype.toString;
  var U64 = OBigInt(64);

  /** C's (int) cast of a double as x86-64 does it: truncation, INT_MIN when out of range */
  function cInt(x) {
    if (!(x > -2147483649 && x < 2147483648)) return -2147483648;
    return x < 0 ? -Math.floor(-x) : Math.floor(x);
  }
  function isInt32(v) {
    return v === Math.floor(v) && v >= -2147483648 && v <= 2147483647;
  }
  function itoch(v) {
    return fromCC(((v < 10 ? 48 + v : 97 + v - 10) + 256) & 255);
  }
  function itostr(v, base) {
    var s = '';
    if (v < 0) { s = '-'; v = -v; }
    var digits = 1, tmp = v;
    while (tmp >= base) { digits++; tmp = Math.floor(tmp / base); }
    var out = new OArray(digits);
    for (var i = digits - 1; i >= 0; i--) { out[i] = itoch(v % base); v = Math.floor(v / base); }
    return s + out.join('');
  }
  function ftoa(val, radix, fractionalDigits) {
    var stopAtError = 0.0000001;
    if (val !== val) return 'NaN';
    if (val === Infinity) return 'Infinity';
    if (val === -Infinity) return '-Infinity';
    var s = '';
    if (val < 0) { s = '-'; val = -val; }
    var exponent = 0;
    if (radix === 10 && val > 0 && fractionalDigits < 0) {
      if (val >= 1e21) {
        while (val > 100000) { val /= 100000; exponent += 5; }
        while (val > 10) { val /= 10; exponent++; }
      } else if (val < 1e-6) {
        while (val < 1e-5) { val *= 100000; exponent -= 5; }
        while (val < 1) { val *= 10; exponent--; }
      }
    }
    if (cInt(val + stopAtError) === ((1 + cInt(val)) | 0)) val = (1 + cInt(val)) | 0;
    var d = 1;
    while (d * radix <= val) d *= radix;
    while (d >= 1) {
      var v = cInt(val / d);
      val -= v * d;
      s += itoch(v);
      d /= radix;
    }
    if ((fractionalDigits < 0 && val > 0) || fractionalDigits > 0) {
      var hasPt = false;
      val *= radix;
      while ((fractionalDigits < 0 && fractionalDigits > -12 && val > stopAtError) || fractionalDigits > 0) {
        var w = cInt(val + (fractionalDigits === 1 ? 0.5 : 0.00000001));
        val = (val - w) * radix;
        if (w === radix) w = radix - 1;
        if (!hasPt) { hasPt = true; s += '.'; }
        s += itoch(w);
        fractionalDigits--;
      }
    }
    if (exponent) s += 'e' + (exponent > 0 ? '+' : '') + itostr(exponent, 10);
    return s;
  }
  /** jsvGetString of a number */
  function numStr(v, radix) {
    radix = radix || 10;
    if (isInt32(v)) return itostr(v === 0 ? 0 : v, radix);
    return ftoa(v, radix, -1);
  }
  function toFixed(v, digits) {
    digits = digits | 0;
    if (digits < 0) digits = 0;
    if (digits > 20) digits = 20;
    return ftoa(v, 10, digits);
  }

  // ---- text to number ----
  function isWhitespace(c) { return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f'; }
  function chtod(c) {
    var n = c.charCodeAt(0);
    if (n >= 48 && n <= 57) return n - 48;
    if (n >= 97 && n <= 122) return n - 97 + 10;
    if (n >= 65 && n <= 90) return n - 65 + 10;
    return -1;
  }
  /** getRadix: returns [radix, index after the prefix] */
  function getRadix(s, i) {
    var radix = 10;
    if (s.charAt(i) === '0') {
      radix = 8;
      i++;
      var c = s.charAt(i);
      if (c === 'o' || c === 'O') { radix = 8; i++; }
      else if (c === 'x' || c === 'X') { radix = 16; i++; }
      else if (c === 'b' || c === 'B') { radix = 2; i++; }
      else {
        for (var p = i; p < s.length; p++) {
          var ch = s.charAt(p);
          if (ch === '.' || ch === '8' || ch === '9') radix = 10;
          else if (ch < '0' || ch > '9') break;
        }
      }
    }
    return [radix, i];
  }
  /** stringToIntWithRadix: long long arithmetic (wraps at 2^64); returns {v: Number, error, end} */
  function stringToInt(s, forceRadix) {
    var i = 0;
    while (i < s.length && isWhitespace(s.charAt(i))) i++;
    var neg = false;
    if (s.charAt(i) === '-') { neg = true; i++; } else if (s.charAt(i) === '+') i++;
    var start = i, radix = forceRadix;
    if (!radix) { var r = getRadix(s, i); radix = r[0]; i = r[1]; }
    var v = OBigInt(0), R = OBigInt(radix);
    while (i < s.length) {
      var d = chtod(s.charAt(i));
      if (d < 0 || d >= radix) break;
      v = OBigInt.asUintN(64, v * R + OBigInt(d));
      i++;
    }
    if (neg) v = OBigInt.asUintN(64, -v);
    return { v: ONumber(OBigInt.asIntN(64, v)), error: i === start, end: i };
  }
  function stringToFloat(s, forceRadix) {
    var i = 0;
    while (i < s.length && isWhitespace(s.charAt(i))) i++;
    var neg = false;
    if (s.charAt(i) === '-') { neg = true; i++; } else if (s.charAt(i) === '+') i++;
    var start = i, radix = forceRadix;
    if (!radix) { var r = getRadix(s, i); radix = r[0]; i = r[1]; }
    var v = 0, mul = 0.1, d;
    while (i < s.length) {
      d = chtod(s.charAt(i));
      if (d < 0 || d >= radix) break;
      v = v * radix + d;
      i++;
    }
    if (radix === 10) {
      if (s.charAt(i) === '.') {
        i++;
        while (i < s.length && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
          v += mul * (s.charCodeAt(i) - 48);
          mul /= 10;
          i++;
        }
      }
      if (s.charAt(i) === 'e' || s.charAt(i) === 'E') {
        i++;
        var eneg = false;
        if (s.charAt(i) === '-' || s.charAt(i) === '+') { eneg = s.charAt(i) === '-'; i++; }
        var e = 0;
        while (i < s.length && s.charAt(i) >= '0' && s.charAt(i) <= '9') { e = e * 10 + (s.charCodeAt(i) - 48); i++; }
        if (eneg) e = -e;
        while (e > 0) { v *= 10; e--; }
        while (e < 0) { v /= 10; e++; }
      }
    }
    var end = i;
    if (start === end || (s.charAt(start) === '.' && end === start + 1)) return { v: NaN, end: end };
    return { v: neg ? -v : v, end: end };
  }
  /** jsvGetFloat of a string (Number('x'), arithmetic on strings) */
  function strToNumber(s) {
    if (s === '') return 0;
    if (s === 'Infinity') return Infinity;
    if (s === '-Infinity') return -Infinity;
    // jsvAsNumber: an integer string keeps long long arithmetic
    if (/^[-+]?[0-9]+$/.test(s) || /^[-+]?0[xXbBoO][0-9a-fA-F]+$/.test(s)) {
      var r = stringToInt(s, 0);
      return r.v;
    }
    var f = stringToFloat(s, 0);
    return f.end === s.length ? f.v : NaN;
  }
  function parseIntE(v, radixVar) {
    var radix = 0;
    if (typeof radixVar === 'number' || typeof radixVar === 'boolean') radix = cInt(+radixVar);
    else if (typeof radixVar === 'string' && radixVar !== '' && strToNumber(radixVar) === strToNumber(radixVar)) radix = cInt(strToNumber(radixVar));
    if (typeof v === 'number' && (v !== v || v === Infinity || v === -Infinity)) return NaN;
    var s = toStr(v), start = 0;
    if ((!radix || radix === 16) && s.charAt(0) === '0' && (s.charAt(1) === 'x' || s.charAt(1) === 'X')) { radix = 16; start = 2; }
    if (!radix) radix = 10;
    var r = stringToInt(s.substring(start), radix);
    return r.error ? NaN : r.v;
  }
  function parseFloatE(v) {
    var s = toStr(v);
    if (s === 'Infinity') return Infinity;
    if (s === '-Infinity') return -Infinity;
    return stringToFloat(s, 0).v;
  }

  /** jsvAsString for the values print/JSON meet as %v */
  function toStr(v) {
    if (typeof v === 'number') return numStr(v, 10);
    if (typeof v === 'string') return v;
    return OString(v);
  }

  // ---- escapes (escapeCharacter) ----
  function dtohex(d) { d &= 15; return fromCC(d < 10 ? 48 + d : 65 + d - 10); }
  function numericEscape(ch, useUnicode) {
    return '\\' + (useUnicode ? 'u' + dtohex(ch >> 12) + dtohex(ch >> 8) : 'x') + dtohex(ch >> 4) + dtohex(ch);
  }
  function escapeCharacter(ch, nextCh, jsonStyle) {
    if (ch === 10) return '\\n';
    if (ch === 9) return '\\t';
    if (ch === 8) return '\\b';
    if (ch === 11 && !jsonStyle) return '\\v';
    if (ch === 12) return '\\f';
    if (ch === 13) return '\\r';
    if (ch === 92) return '\\\\';
    if (ch === 34) return '\\"';
    if (ch < 8 && !jsonStyle && (nextCh < 48 || nextCh > 55)) return '\\' + fromCC(48 + ch);
    if (ch < 32 || ch >= 127) {
      var p = '';
      if (ch >= 0x10000) {
        ch -= 0x10000;
        p = numericEscape(0xD800 | ((ch >> 10) & 0x3FF), true);
        ch = 0xDC00 | (ch & 0x3FF);
        jsonStyle = true;
      }
      return p + numericEscape(ch, jsonStyle || ch > 255);
    }
    return fromCC(ch);
  }
  /** %q (jsonStyle false) / %Q (true): the string in double quotes, escaped by code point */
  function quote(s, jsonStyle) {
    var cps = [], i, c;
    for (i = 0; i < s.length; i++) {
      c = s.charCodeAt(i);
      if (c >= 0xD800 && c < 0xDC00 && i + 1 < s.length) {
        var lo = s.charCodeAt(i + 1);
        if (lo >= 0xDC00 && lo < 0xE000) { c = 0x10000 + ((c & 0x3FF) << 10) + (lo & 0x3FF); i++; }
      }
      if (c > 255) jsonStyle = true; // a UTF-8 string on Espruino
      cps.push(c);
    }
    var out = '"';
    for (i = 0; i < cps.length; i++) out += escapeCharacter(cps[i], i + 1 < cps.length ? cps[i + 1] : -1, jsonStyle);
    return out + '"';
  }

  // ---- functions as Espruino prints them ----
  function fnText(fn) {
    var src;
    try { src = fnToStr.call(fn); } catch (e) { return 'function () { [native code] }'; }
    if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
      return 'function () { [native code] }';
    }
    var m = /^[^(]*\(([^)]*)\)\s*(?:=>\s*)?\{([\s\S]*)\}\s*$/.exec(src);
    if (!m) return 'function () {' + src + '}';
    var params = m[1].split(',').map(function (p) { return p.trim(); }).filter(function (p) { return p; }).join(',');
    var body = m[2].trim();
    var nl = body.indexOf('\n') >= 0;
    return 'function (' + params + ') ' + (nl ? '{\n  ' : '{') + body + (nl ? '\n}' : '}');
  }

  // ---- jsfGetJSONWithCallback ----
  var F = {
    SOME_NEWLINES: 1, ALL_NEWLINES: 2, PRETTY: 4, IGNORE_FUNCTIONS: 16, SHOW_DEVICES: 32, NO_UNDEFINED: 64,
    ARRAYBUFFER_AS_ARRAY: 128, SHOW_OBJECT_NAMES: 256, DROP_QUOTES: 512, ALL_UNICODE_ESCAPE: 2048, NO_NAN: 4096,
    ALLOW_TOJSON: 8192, INDENT: 16384
  };
  F.JSON_COMPATIBLE = F.ALL_UNICODE_ESCAPE | F.NO_NAN;
  var ITEMS_ON_LINE_OBJECT = 4;
  /** parsed objects with duplicate keys: obj -> [{at, key, value}] (Espruino keeps both children) */
  var duplicates = new WeakMap();
  var hooks = {
    deviceName: function () { return null; },
    globalName: function () { return null; },
    isDefaultToString: function () { return false; }
  };

  function needsNewLine(v) { return !(v === undefined || v === null || typeof v === 'number' || typeof v === 'boolean'); }
  function isIdString(s) { return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s); }
  function isIntegerish(k) { return /^-?[0-9]+$/.test(k) && isInt32(+k); }

  function getJSON(v, flags, whitespace) {
    var out = [];
    var seen = [];
    emit(v, null, flags, whitespace === undefined || whitespace === null ? '  ' : whitespace, out, seen);
    return out.join('');
  }
  function newLine(flags, ws, out) {
    out.push('\n');
    var indent = Math.floor(flags / F.INDENT);
    while (indent--) out.push(ws);
  }
  function objectEntries(o) {
    // Espruino's DataView is an object holding these three children
    if (o instanceof ODataView) return [{ key: 'buffer', value: o.buffer }, { key: 'byteOffset', value: o.byteOffset }, { key: 'byteLength', value: o.byteLength }];
    var keys = OObject.keys(o), r = [], dups = duplicates.get(o), i, j;
    for (i = 0; i < keys.length; i++) {
      var d = getDesc(o, keys[i]);
      r.push({ key: keys[i], value: d && 'value' in d ? d.value : undefined, accessor: !!(d && !('value' in d)) });
      if (dups) for (j = 0; j < dups.length; j++) if (dups[j].at === i + 1) r.push({ key: dups[j].key, value: dups[j].value, accessor: false });
    }
    return r;
  }
  function emitObjectItems(entries, flags, ws, nflags, out, seen, first) {
    var needNewLine = false, sinceNewLine = 0;
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i], item = e.value;
      var hidden = e.accessor || ((flags & F.IGNORE_FUNCTIONS) && typeof item === 'function') || ((flags & F.NO_UNDEFINED) && item === undefined);
      if (hidden) continue;
      sinceNewLine++;
      if (!first) out.push((flags & F.PRETTY) ? ', ' : ',');
      var newNeeds = (flags & F.SOME_NEWLINES) && needsNewLine(item);
      if ((flags & F.SOME_NEWLINES) && sinceNewLine > ITEMS_ON_LINE_OBJECT) needNewLine = true;
      if (flags & F.ALL_NEWLINES) { needNewLine = true; newNeeds = true; }
      if (needNewLine || newNeeds) { newLine(nflags, ws, out); needNewLine = false; sinceNewLine = 0; }
      var addQuotes = true;
      if (flags & F.DROP_QUOTES) {
        if (isIntegerish(e.key)) addQuotes = false;
        else if (e.key.length < 63 && isIdString(e.key)) addQuotes = false;
      }
      out.push((addQuotes ? quote(e.key, !!(flags & F.ALL_UNICODE_ESCAPE)) : e.key) + ((flags & F.PRETTY) ? ': ' : ':'));
      first = false;
      emit(item, e.key, nflags, ws, out, seen);
      needNewLine = !!newNeeds;
    }
    return needNewLine;
  }
  function emit(v, name, flags, ws, out, seen) {
    var nflags = flags + F.INDENT;
    if (v === undefined) { out.push((flags & F.NO_UNDEFINED) ? 'null' : 'undefined'); return; }
    var t = typeof v;
    if ((t === 'object' || t === 'function') && v !== null) {
      if (seen.indexOf(v) >= 0) { out.push(' ... '); return; }
      seen.push(v);
      try { emitComplex(v, name, flags, nflags, ws, out, seen); } finally { seen.pop(); }
      return;
    }
    if (t === 'string') { out.push(quote(v, !!(flags & F.ALL_UNICODE_ESCAPE))); return; }
    if (t === 'number') {
      if ((flags & F.NO_NAN) && !isInt32(v) && (v !== v || v === Infinity || v === -Infinity)) { out.push('null'); return; }
      out.push(numStr(v, 10));
      return;
    }
    out.push(OString(v));
  }
  function emitComplex(v, name, flags, nflags, ws, out, seen) {
    var i;
    if (OArray.isArray(v)) {
      var length = v.length, needNewLine = false, first = true;
      out.push((flags & F.PRETTY) ? '[ ' : '[');
      for (i = 0; i < length; i++) {
        var has = i in v, item = has ? v[i] : undefined;
        if (!first) out.push((flags & F.PRETTY) ? ', ' : ',');
        first = false;
        var newNeeds = (flags & F.SOME_NEWLINES) && needsNewLine(item);
        if (flags & F.ALL_NEWLINES) { needNewLine = true; newNeeds = true; }
        if (needNewLine || newNeeds) { newLine(nflags, ws, out); needNewLine = false; }
        if (has) emit(item, OString(i), nflags, ws, out, seen);
        else out.push((flags & F.NO_UNDEFINED) ? 'null' : 'undefined');
        needNewLine = !!newNeeds;
      }
      if (flags & F.PRETTY) {
        var extra = OObject.keys(v).filter(function (k) { return !/^(0|[1-9][0-9]*)$/.test(k); }).map(function (k) {
          var d = getDesc(v, k);
          return { key: k, value: d && 'value' in d ? d.value : undefined, accessor: !!(d && !('value' in d)) };
        });
        if (emitObjectItems(extra, flags, ws, nflags, out, seen, first)) needNewLine = true;
      }
      if (needNewLine) newLine(flags, ws, out);
      out.push((flags & F.PRETTY) ? ' ]' : ']');
      return;
    }
    if (v instanceof OAB || (isView(v) && !(v instanceof ODataView))) {
      var isAB = v instanceof OAB;
      var arr = isAB ? new Uint8Array(v) : v;
      var allZero = true;
      for (i = 0; i < arr.length; i++) if (arr[i] !== 0) allZero = false;
      var asArray = !!(flags & F.ARRAYBUFFER_AS_ARRAY);
      var cname = isAB ? 'ArrayBuffer' : typedName(v);
      if (allZero && !asArray) { out.push('new ' + cname + '(' + (isAB ? v.byteLength : v.length) + ')'); return; }
      var aname = isAB ? 'Uint8Array' : cname;
      out.push(asArray ? '[' : 'new ' + aname + '([');
      if (flags & F.ALL_NEWLINES) newLine(nflags, ws, out);
      for (i = 0; i < arr.length; i++) {
        if (i > 0) out.push((flags & F.PRETTY) ? ', ' : ',');
        if (flags & F.ALL_NEWLINES) newLine(nflags, ws, out);
        emit(arr[i], null, nflags, ws, out, seen);
      }
      if (flags & F.ALL_NEWLINES) newLine(flags, ws, out);
      out.push(asArray ? ']' : '])');
      if (isAB && !asArray) out.push('.buffer');
      return;
    }
    if (typeof v === 'function') {
      if (flags & F.IGNORE_FUNCTIONS) out.push('undefined');
      else out.push(fnText(v));
      return;
    }
    // an object
    var dev = (flags & F.SHOW_DEVICES) ? hooks.deviceName(v) : null;
    if (dev) { out.push(dev); return; }
    var showContents = true;
    if (flags & F.SHOW_OBJECT_NAMES) {
      var proto = getProto(v);
      if (proto && proto !== OObject.prototype && OObject.prototype.hasOwnProperty.call(proto, 'constructor')) {
        var constr = proto.constructor;
        var gname = hooks.globalName(constr);
        if (gname) out.push(gname + ': ');
        var ts = v.toString;
        if (typeof ts === 'function' && ts !== objToString && !hooks.isDefaultToString(v, ts)) {
          out.push(toStr(ts.call(v)));
          showContents = false;
        }
      }
    }
    if (!showContents) return;
    var toJSON = (flags & F.ALLOW_TOJSON) ? v.toJSON : undefined;
    if (typeof toJSON === 'function') {
      var r = toJSON.call(v, name === null || name === undefined ? undefined : OString(name));
      emit(r, null, flags & ~F.ALLOW_TOJSON, ws, out, r === v ? [] : seen);
      return;
    }
    out.push((flags & F.PRETTY) ? '{ ' : '{');
    var nl = emitObjectItems(objectEntries(v), flags, ws, nflags, out, seen, true);
    if (nl) newLine(flags, ws, out);
    out.push((flags & F.PRETTY) ? ' }' : '}');
  }
  function typedName(v) {
    var names = ['Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Uint8ClampedArray'];
    var tag = objToString.call(v).slice(8, -1);
    return names.indexOf(tag) >= 0 ? tag : 'Uint8Array';
  }

  /** JSON.stringify(v, replacer (ignored), space) */
  function stringify(v, replacer, space) {
    var flags = F.IGNORE_FUNCTIONS | F.NO_UNDEFINED | F.ARRAYBUFFER_AS_ARRAY | F.JSON_COMPATIBLE | F.ALLOW_TOJSON;
    var ws = '';
    if (space === undefined || space === null) ws = '';
    else if (typeof space === 'number' || typeof space === 'boolean') {
      var n = cInt(+space);
      if (n < 0) n = 0;
      if (n > 10) n = 10;
      ws = new OArray(n + 1).join(' ');
    } else ws = toStr(space).substr(0, 9);
    if (ws.length) flags |= F.ALL_NEWLINES | F.PRETTY;
    return getJSON(v, flags, ws);
  }
  /** print / console.log of one non-string argument */
  function printValue(v) {
    return getJSON(v, F.PRETTY | F.SOME_NEWLINES | F.SHOW_OBJECT_NAMES, null);
  }

  // ---- JSON.parse over Espruino's lexer ----
  var EOF = 'EOF';
  function Lexer(s) { this.s = s; this.i = 0; this.next(); }
  Lexer.prototype.ch = function (k) { return this.s.charAt(this.i + (k || 0)); };
  Lexer.prototype.skip = function () {
    for (;;) {
      while (this.i < this.s.length && isWhitespace(this.ch())) this.i++;
      if (this.ch() === '/' && this.ch(1) === '/') {
        while (this.i < this.s.length && this.ch() !== '\n') this.i++;
        this.i++;
        continue;
      }
      if (this.ch() === '/' && this.ch(1) === '*') {
        this.i += 2;
        while (this.i < this.s.length && !(this.ch() === '*' && this.ch(1) === '/')) this.i++;
        if (this.i >= this.s.length) { this.tk = 'UNFINISHED COMMENT'; return false; }
        this.i += 2;
        continue;
      }
      return true;
    }
  };
  Lexer.prototype.next = function () {
    this.value = null;
    if (!this.skip()) return;
    if (this.i >= this.s.length) { this.tk = EOF; return; }
    var c = this.ch(), start = this.i;
    if (/[A-Za-z_$]/.test(c)) {
      while (this.i < this.s.length && /[A-Za-z0-9_$]/.test(this.ch())) this.i++;
      this.value = this.s.substring(start, this.i);
      this.tk = this.value === 'true' || this.value === 'false' || this.value === 'null' ? this.value : 'ID';
      return;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && this.ch(1) >= '0' && this.ch(1) <= '9')) { this.number(); return; }
    if (c === '"' || c === "'" || c === '`') { this.string(c); return; }
    this.i++;
    this.tk = c;
  };
  Lexer.prototype.number = function () {
    var tok = '', canBeFloating = true, tk;
    if (this.ch() === '.') { this.i++; tk = 'FLOAT'; tok = '.'; }
    else {
      if (this.ch() === '0') {
        tok += '0'; this.i++;
        if (/[xXbBoO]/.test(this.ch())) { canBeFloating = false; tok += this.ch(); this.i++; }
      }
      tk = 'INT';
      while (/[0-9_]/.test(this.ch()) || (!canBeFloating && /[0-9a-fA-F]/.test(this.ch()))) { if (this.ch() !== '_') tok += this.ch(); this.i++; }
      if (canBeFloating && this.ch() === '.') { tk = 'FLOAT'; tok += '.'; this.i++; }
    }
    if (tk === 'FLOAT') while (/[0-9_]/.test(this.ch())) { if (this.ch() !== '_') tok += this.ch(); this.i++; }
    if (canBeFloating && (this.ch() === 'e' || this.ch() === 'E')) {
      tk = 'FLOAT'; tok += this.ch(); this.i++;
      if (this.ch() === '-' || this.ch() === '+') { tok += this.ch(); this.i++; }
      while (/[0-9_]/.test(this.ch())) { if (this.ch() !== '_') tok += this.ch(); this.i++; }
    }
    this.tk = tk;
    this.value = tok;
  };
  Lexer.prototype.string = function (delim) {
    this.i++;
    var cps = [], nesting = 0, lastCh = delim, err = null, hi = 0;
    while (this.i < this.s.length && (this.ch() !== delim || nesting)) {
      var c = this.ch();
      if (delim === '`') {
        if ((lastCh === '$' || nesting) && c === '{') nesting++;
        else if (nesting && c === '}') nesting--;
      }
      if (!nesting && c === '\\') {
        this.i++;
        var e = this.ch(), code;
        if (e === 'n') { code = 10; this.i++; }
        else if (e === 'b') { code = 8; this.i++; }
        else if (e === 'f') { code = 12; this.i++; }
        else if (e === 'r') { code = 13; this.i++; }
        else if (e === 't') { code = 9; this.i++; }
        else if (e === 'v') { code = 11; this.i++; }
        else if (e === 'u' || e === 'x') {
          this.i++;
          var n = e === 'u' ? 4 : 2, hex = '';
          while (n--) {
            if (!/[0-9a-fA-F]/.test(this.ch())) { err = err || 'Invalid escape sequence'; break; }
            hex += this.ch(); this.i++;
          }
          code = hex ? OparseInt(hex, 16) : 0;
          if (e === 'u') {
            if (hi) {
              if (code >= 0xDC00 && code < 0xE000) code = 0x10000 + ((code & 0x3FF) | ((hi & 0x3FF) << 10));
              else err = err || 'Unmatched Unicode surrogate';
              hi = 0;
            } else if (code >= 0xD800 && code < 0xDC00) { hi = code; continue; }
            else if (code >= 0xDC00 && code < 0xE000) err = err || 'Unmatched Unicode surrogate';
          }
        } else if (e >= '0' && e <= '7') {
          var oct = e; this.i++;
          if (this.ch() >= '0' && this.ch() <= '7') { oct += this.ch(); this.i++; if (this.ch() >= '0' && this.ch() <= '7') { oct += this.ch(); this.i++; } }
          code = parseInt(oct, 8) & 255;
        } else { code = e.charCodeAt(0); this.i++; }
        cps.push({ c: code, raw: e === 'x' || (e >= '0' && e <= '7') });
        lastCh = fromCC(code & 255);
      } else if (c === '\n' && delim !== '`') {
        break;
      } else {
        cps.push({ c: c.charCodeAt(0), raw: true });
        lastCh = c;
        this.i++;
      }
    }
    if (hi) err = err || 'Unmatched Unicode surrogate';
    var unfinished = this.ch() !== delim;
    this.i++;
    this.tk = unfinished ? 'UNFINISHED STRING' : 'STR';
    this.value = utf8Join(cps);
    this.err = err;
  };
  /** Bytes that form valid UTF-8 sequences become one code point each (Espruino marks the
   * string UTF-8 and iterates code points); every other byte stays as it is. */
  function utf8Join(cps) {
    var out = '', i = 0;
    while (i < cps.length) {
      var b = cps[i].c;
      if (cps[i].raw && b >= 0xC0 && b <= 0xF7) {
        var len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2, ok = i + len <= cps.length, k;
        for (k = 1; ok && k < len; k++) if (!cps[i + k].raw || (cps[i + k].c & 0xC0) !== 0x80) ok = false;
        if (ok) {
          var cp = b & (len === 2 ? 0x1F : len === 3 ? 0x0F : 0x07);
          for (k = 1; k < len; k++) cp = (cp << 6) | (cps[i + k].c & 0x3F);
          out += fromCP(cp);
          i += len;
          continue;
        }
      }
      out += b > 0xFFFF ? fromCP(b) : fromCC(b);
      i++;
    }
    return out;
  }
  function tokenName(lx) {
    var t = lx.tk;
    if (t === 'STR') return 'String';
    if (t === 'ID' || t === 'INT' || t === 'FLOAT' || t === EOF) return t;
    if (t === 'true' || t === 'false' || t === 'null') return t;
    return "'" + t + "'";
  }
  function fail(msg) { throw new OSyntaxError(msg); }
  function match(lx, tk) {
    if (lx.tk !== tk) fail('Got ' + tokenName(lx) + ' expected ' + (tk === 'STR' ? 'String' : "'" + tk + "'"));
    lx.next();
  }
  function parseValue(lx, dropQuotes) {
    var v;
    if (lx.err) fail(lx.err);
    switch (lx.tk) {
      case 'true': lx.next(); return true;
      case 'false': lx.next(); return false;
      case 'null': lx.next(); return null;
      case '-':
        lx.next();
        if (lx.tk !== 'INT' && lx.tk !== 'FLOAT') fail('Expecting valid value, got ' + tokenName(lx));
        v = parseValue(lx, dropQuotes);
        return v === 0 ? 0 : -v;
      case 'INT': v = stringToInt(lx.value, 0).v; lx.next(); return v;
      case 'FLOAT': v = stringToFloat(lx.value, 0).v; lx.next(); return v;
      case 'STR': v = lx.value; lx.next(); return v;
      case '[': {
        var arr = [];
        lx.next();
        while (lx.tk !== ']') {
          v = parseValue(lx, dropQuotes);
          if (lx.tk !== ']') match(lx, ',');
          arr.push(v);
        }
        match(lx, ']');
        return arr;
      }
      case '{': {
        var obj = {}, dups = null, count = 0;
        lx.next();
        while (lx.tk === 'STR' || lx.tk === 'INT' || lx.tk === 'ID' || lx.tk === 'true' || lx.tk === 'false' || lx.tk === 'null') {
          if (!dropQuotes && lx.tk !== 'STR') { match(lx, 'STR'); return obj; }
          var key = lx.tk === 'INT' ? numStr(stringToInt(lx.value, 0).v, 10) : lx.value;
          lx.next();
          match(lx, ':');
          v = parseValue(lx, dropQuotes);
          if (lx.tk !== '}') match(lx, ',');
          if (OObject.prototype.hasOwnProperty.call(obj, key)) {
            if (!dups) { dups = []; duplicates.set(obj, dups); }
            dups.push({ at: count, key: key, value: v });
          } else {
            OObject.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
            count++;
          }
        }
        match(lx, '}');
        return obj;
      }
      default:
        fail('Expecting valid value, got ' + tokenName(lx));
    }
  }
  function parse(text, dropQuotes) {
    var lx = new Lexer(toStr(text));
    return parseValue(lx, !!dropQuotes);
  }

  // ---- Array.prototype.sort (a quicksort; not stable) ----
  function sortCompare(a, b, cmp) {
    if (a === undefined) return 1;
    if (b === undefined) return -1;
    if (cmp) {
      var f = +cmp(a, b);
      if (f === 0) return 0;
      return f < 0 ? -1 : 1;
    }
    var sa = toStr(a), sb = toStr(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  function quicksort(a, head, n, cmp) {
    if (n < 2) return;
    var pivot = head;
    if (n > 10) {
      var mid = head + (n >> 1), high = head + n - 1;
      var lowV = a[pivot], midV = a[mid], highV = a[high];
      var lowMid = sortCompare(lowV, midV, cmp), midHigh = sortCompare(midV, highV, cmp), lowHigh = sortCompare(lowV, highV, cmp);
      if ((lowMid <= 0 && midHigh <= 0) || (lowHigh <= 0 && midHigh >= 0)) { a[pivot] = midV; a[mid] = lowV; }
      else if ((lowMid >= 0 && lowHigh <= 0) || (midHigh >= 0 && lowHigh >= 0)) { a[pivot] = highV; a[high] = lowV; }
    }
    var pivotLowest = true, pivotValue = a[pivot], nlo = 0, nhigh = 0, it = head + 1;
    while (--n) {
      var itValue = a[it];
      var c = sortCompare(itValue, pivotValue, cmp);
      if (c <= 0) {
        if (c < 0) pivotLowest = false;
        nlo++;
        a[pivot] = itValue;
        pivot++;
        a[it] = a[pivot];
        a[pivot] = pivotValue;
      } else nhigh++;
      it++;
    }
    quicksort(a, pivot + 1, nhigh, cmp);
    if (!pivotLowest) quicksort(a, head, nlo, cmp);
  }
  /** sort `values` (a plain array of the defined elements) in place as Espruino does */
  function sortValues(values, cmp) {
    quicksort(values, 0, values.length, cmp);
    return values;
  }

  return {
    numStr: numStr, ftoa: ftoa, itostr: itostr, toFixed: toFixed, toStr: toStr, cInt: cInt, isInt32: isInt32,
    stringToInt: stringToInt, stringToFloat: stringToFloat, strToNumber: strToNumber, parseInt: parseIntE, parseFloat: parseFloatE,
    quote: quote, escapeCharacter: escapeCharacter, fnText: fnText,
    FLAGS: F, getJSON: getJSON, stringify: stringify, printValue: printValue, parse: parse,
    sortValues: sortValues, hooks: hooks
  };
})
