// Espruino 2v29's own conversions, ported to JavaScript for the virtual board, part 1 of 3:
// number to text (src/jsutils.c itostr/ftoa_bounded_extra), text to number
// (stringToIntWithRadix, stringToFloatWithRadix), escapeCharacter and functions as Espruino
// prints them. espruino-json.js (JSON and console output, src/jswrap_json.c
// jsfGetJSONWithCallback) and espruino-parse.js (JSON.parse over the src/jslex.c lexer,
// Array.prototype.sort of src/jswrap_array.c) build on it. board.ts evaluates the three as one
// script INSIDE the board's node:vm context, before runtime.js (which installs them): this part
// returns its functions, the JSON part adds its own, the parse part returns the object of plain
// functions the runtime uses.
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
  // what espruino-json.js and espruino-parse.js build on
  return {
    fromCC: fromCC, fromCP: fromCP, OparseInt: OparseInt, OString: OString, OArray: OArray,
    OObject: OObject, isView: isView, OAB: OAB, ODataView: ODataView, OSyntaxError: OSyntaxError,
    getProto: getProto, getDesc: getDesc, objToString: objToString, cInt: cInt, isInt32: isInt32,
    itostr: itostr, ftoa: ftoa, numStr: numStr, toFixed: toFixed, isWhitespace: isWhitespace,
    stringToInt: stringToInt, stringToFloat: stringToFloat, strToNumber: strToNumber,
    parseIntE: parseIntE, parseFloatE: parseFloatE, toStr: toStr, escapeCharacter: escapeCharacter,
    quote: quote, fnText: fnText
  };
})
