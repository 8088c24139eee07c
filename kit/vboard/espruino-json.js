// Espruino 2v29's own conversions for the virtual board, part 2 of 3 (espruino.js is part 1):
// JSON and console output as src/jswrap_json.c jsfGetJSONWithCallback writes them. Called with
// what part 1 returned, it adds its own functions to that object.
(function (X) {
  'use strict';
  var OString = X.OString, OArray = X.OArray, OObject = X.OObject, isView = X.isView, OAB = X.OAB,
    ODataView = X.ODataView, getProto = X.getProto, getDesc = X.getDesc,
    objToString = X.objToString, cInt = X.cInt, isInt32 = X.isInt32, numStr = X.numStr,
    toStr = X.toStr, quote = X.quote, fnText = X.fnText;

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

  // what espruino-parse.js builds on and the runtime uses
  X.F = F;
  X.duplicates = duplicates;
  X.hooks = hooks;
  X.getJSON = getJSON;
  X.stringify = stringify;
  X.printValue = printValue;
  return X;
})
