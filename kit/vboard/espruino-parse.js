// Espruino 2v29's own conversions for the virtual board, part 3 of 3 (espruino.js is part 1):
// JSON.parse (jswrap_json_parse_internal over the src/jslex.c lexer) and Array.prototype.sort
// (src/jswrap_array.c). Called with what parts 1 and 2 built, it returns the object of plain
// functions runtime.js uses (ES there).
(function (X) {
  'use strict';
  var fromCC = X.fromCC, fromCP = X.fromCP, OparseInt = X.OparseInt, OObject = X.OObject,
    OSyntaxError = X.OSyntaxError, numStr = X.numStr, isWhitespace = X.isWhitespace,
    stringToInt = X.stringToInt, stringToFloat = X.stringToFloat, toStr = X.toStr, F = X.F,
    duplicates = X.duplicates;

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
    numStr: X.numStr, ftoa: X.ftoa, itostr: X.itostr, toFixed: X.toFixed, toStr: X.toStr, cInt: X.cInt, isInt32: X.isInt32,
    stringToInt: X.stringToInt, stringToFloat: X.stringToFloat, strToNumber: X.strToNumber, parseInt: X.parseIntE, parseFloat: X.parseFloatE,
    quote: X.quote, escapeCharacter: X.escapeCharacter, fnText: X.fnText,
    FLAGS: X.F, getJSON: X.getJSON, stringify: X.stringify, printValue: X.printValue, parse: parse,
    sortValues: sortValues, hooks: X.hooks
  };
})
