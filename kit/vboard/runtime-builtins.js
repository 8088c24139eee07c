// The virtual board's runtime, part: Espruino's own versions of standard functions (number and
// string conversions, Math.round and pow, sort, typed arrays, DataView, Date, defineProperty,
// errors); kit/vboard/espruino.js has the ports. runtime.js calls it once per power-up, after
// the modules and before the strip script; see runtime.js.
(function (shared) {
  'use strict';
  var G = shared.G, ES = shared.ES, OP = shared.OP, defProp = shared.defProp,
    isView = shared.isView, proxyNames = shared.proxyNames, RConstruct = shared.RConstruct,
    PProxy = shared.PProxy, ODate = shared.ODate, fromCC = shared.fromCC, OError = shared.OError,
    OTypeError = shared.OTypeError, OU8 = shared.OU8, OAB = shared.OAB, OArray = shared.OArray,
    OObject = shared.OObject, OSyntaxError = shared.OSyntaxError,
    TypedArrayProto = shared.TypedArrayProto, hide = shared.hide, slice = shared.slice,
    binToU8 = shared.binToU8, asString = shared.asString, typeName = shared.typeName,
    strBytes = shared.strBytes, devName = shared.devName;

  // ---- Espruino's own versions of standard functions (kit/vboard/espruino.js has the ports) ----
  // Only explicit calls can be redirected: V8 still converts numbers itself for `'' + x`,
  // templates and join, and parses source number literals itself.
  var NP = Number.prototype, SP = String.prototype, OString = String, ONumber = Number;
  var Osplit = SP.split, Oreplace = SP.replace, OreplaceAll = SP.replaceAll, ORegExp = RegExp;
  hide(NP, 'toString', function (radix) {
    var v = ONumber(this), r = radix === undefined ? 10 : ES.cInt(+radix);
    if (r < 2 || r > 36) r = 10;
    return ES.numStr(v, r);
  });
  hide(NP, 'toFixed', function (d) { return ES.toFixed(ONumber(this), d === undefined ? 0 : ES.cInt(+d)); });
  proxyNames.set(OString, 'String');
  proxyNames.set(ONumber, 'Number');
  G.String = new PProxy(OString, { apply: function (t, self, args) { return args.length ? asString(args[0]) : ''; } });
  // jswrap_number_constructor: no trimming, integer strings keep 64-bit arithmetic
  function toNumber(v) {
    if (typeof v === 'number') return v;
    if (v === null || v === false) return 0;
    if (v === true) return 1;
    if (typeof v === 'string') return ES.strToNumber(v);
    return NaN;
  }
  G.Number = new PProxy(ONumber, { apply: function (t, self, args) {
    if (!args.length) return 0;
    var v = args[0];
    if (OArray.isArray(v)) {
      if (v.length === 0) return 0;
      if (v.length === 1) return v[0] === '' ? 0 : typeof v[0] === 'boolean' ? NaN : toNumber(v[0]);
      return NaN;
    }
    if (v === undefined || (typeof v === 'object' && v !== null) || typeof v === 'function') return NaN;
    return toNumber(v);
  } });
  G.parseInt = function (v, radix) { return ES.parseInt(v, radix); };
  G.parseFloat = function (v) { return ES.parseFloat(v); };
  // Espruino strings hold bytes: fromCharCode keeps the low byte; case maps ASCII only
  String.fromCharCode = function () {
    var r = '';
    for (var i = 0; i < arguments.length; i++) { var n = +arguments[i]; r += fromCC((n === n && isFinite(n) ? ES.cInt(n) : 0) & 255); }
    return r;
  };
  var Oupper = SP.toUpperCase, Olower = SP.toLowerCase;
  hide(SP, 'toUpperCase', function () { return Oreplace.call(OString(this), /[a-z]+/g, function (m) { return Oupper.call(m); }); });
  hide(SP, 'toLowerCase', function () { return Oreplace.call(OString(this), /[A-Z]+/g, function (m) { return Olower.call(m); }); });
  // split ignores a limit; replace with a string finds text only (no $ patterns, a function is
  // inserted as its text); with a RegExp both stay V8's (the build limits regular expressions)
  hide(SP, 'split', function (sep) { return sep instanceof ORegExp ? Osplit.apply(this, arguments) : Osplit.call(this, sep); });
  function replaceText(all) {
    return function (pat, rep) {
      if (pat instanceof ORegExp) return (all ? OreplaceAll : Oreplace).apply(this, arguments);
      var str = OString(this), sub = asString(pat), ns = asString(rep), idx = str.indexOf(sub), guard = 0;
      while (idx >= 0 && guard++ < 1e6) {
        str = str.substring(0, idx) + ns + str.substring(idx + sub.length);
        idx = all ? str.indexOf(sub, idx + ns.length) : -1;
        if (all && !sub.length) idx = idx < str.length ? idx + 1 : -1;
      }
      return str;
    };
  }
  hide(SP, 'replace', replaceText(false));
  hide(SP, 'replaceAll', replaceText(true));
  // Object.prototype.toString is jsvAsString of the value
  var objToString = function () { return this === undefined || this === null ? OString(this) : asString(this); };
  hide(OP, 'toString', function () {
    if (this === undefined || this === null) return OString(this);
    if (typeof this === 'object' && !OArray.isArray(this)) return '[object Object]';
    return asString(this);
  });
  ES.hooks.globalName = function (c) {
    if (proxyNames.has(c)) return proxyNames.get(c);
    var names = OObject.getOwnPropertyNames(G);
    for (var i = 0; i < names.length; i++) { var d = OObject.getOwnPropertyDescriptor(G, names[i]); if (d && d.value === c) return names[i]; }
    return null;
  };
  ES.hooks.deviceName = function (o) { return devName.get(o) || null; };
  // jswrap_math_round / jswrap_math_pow
  var Oexp = Math.exp, Olog = Math.log;
  Math.round = function (x) {
    x = +x;
    if (!isFinite(x) || (x === 0 && 1 / x < 0)) return x;
    x += x < 0 ? -0.5 : 0.5;
    var i = x < 0 ? -Math.floor(-x) : Math.floor(x);
    if (i === 0 && x < 0) return -0;
    return i;
  };
  Math.pow = function (x, y) {
    x = +x; y = +y;
    var yi = ES.cInt(y), p;
    if (yi >= 0 && yi < 10 && yi === y) {
      if (yi === 0) return 1;
      p = x;
      while (yi > 1) { p *= x; yi--; }
      return p;
    }
    if (x < 0 && y % 1 === 0) return y % 2 === 0 ? Oexp(Olog(-x) * y) : -Oexp(Olog(-x) * y);
    if (x !== 0 || 0 >= y) return Oexp(Olog(x) * y);
    return 0;
  };
  // jswrap_array_sort: Espruino's quicksort (not stable; default order compares text)
  function sortWith(self, cmp, typed) {
    if (cmp !== undefined && typeof cmp !== 'function') throw new OError('Expecting compare function, got ' + typeName(cmp));
    if (typed && cmp === undefined) cmp = function (a, b) { return a - b; };
    var vals = [], n = self.length, i;
    for (i = 0; i < n; i++) if (typed || i in self) vals.push(self[i]);
    ES.sortValues(vals, cmp);
    for (i = 0; i < vals.length; i++) self[i] = vals[i];
    if (!typed) for (i = vals.length; i < n; i++) delete self[i];
    return self;
  }
  hide(OArray.prototype, 'sort', function (cmp) { return sortWith(this, cmp, false); });
  hide(TypedArrayProto, 'sort', function (cmp) { return sortWith(this, cmp, true); });
  // jswrap_arraybufferview_set: copies what fits, never throws for length
  hide(TypedArrayProto, 'set', function (arr, offset) {
    if (!(typeof arr === 'string' || OArray.isArray(arr) || isView(arr) || arr instanceof OAB)) throw new OError('First argument must be Array, not ' + typeName(arr));
    var src = typeof arr === 'string' ? binToU8(strBytes(arr)) : arr instanceof OAB ? new OU8(arr) : arr;
    var vals = [], i;
    for (i = 0; i < src.length; i++) vals.push(src[i]);
    offset = offset === undefined ? 0 : ES.cInt(+offset);
    for (i = 0; i < vals.length && offset + i < this.length; i++) if (offset + i >= 0) this[offset + i] = vals[i];
  });
  // DataView reads and writes past the end: missing bytes read as 0, writes are dropped
  ['Int8', 'Uint8', 'Int16', 'Uint16', 'Int32', 'Uint32', 'Float32', 'Float64'].forEach(function (ty) {
    var get = DataView.prototype['get' + ty], set = DataView.prototype['set' + ty], size = ty.replace(/[A-Za-z]+/, '') / 8;
    hide(DataView.prototype, 'get' + ty, function (off, le) {
      off = ES.cInt(+off || 0);
      if (off >= 0 && off + size <= this.byteLength) return get.call(this, off, le);
      var tmp = new OU8(size), own = new OU8(this.buffer, this.byteOffset, this.byteLength);
      for (var i = 0; i < size; i++) tmp[i] = off + i >= 0 && off + i < own.length ? own[off + i] : 0;
      return get.call(new DataView(tmp.buffer), 0, le);
    });
    hide(DataView.prototype, 'set' + ty, function (off, v, le) {
      off = ES.cInt(+off || 0);
      if (off >= 0 && off + size <= this.byteLength) return set.call(this, off, v, le);
      var tmp = new DataView(new OAB(size)), own = new OU8(this.buffer, this.byteOffset, this.byteLength);
      set.call(tmp, 0, v, le);
      for (var i = 0; i < size; i++) if (off + i >= 0 && off + i < own.length) own[off + i] = tmp.getUint8(i);
    });
  });
  // jswrap_date_toString: "Tue Nov 14 2023 22:13:20 GMT+0000" (the day not padded; UTC)
  var DAYS = 'Sun Mon Tue Wed Thu Fri Sat'.split(' '), MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  var DPr = ODate.prototype, dGet = {};
  ['Day', 'Month', 'Date', 'FullYear', 'Hours', 'Minutes', 'Seconds'].forEach(function (k) { dGet[k] = DPr['getUTC' + k]; });
  hide(DPr, 'toString', function () {
    var t = this.getTime(), self = this;
    if (t !== t) return 'Invalid Date';
    function g(k) { return dGet[k].call(self); }
    return DAYS[g('Day')] + ' ' + MONTHS[g('Month')] + ' ' + g('Date') + ' ' + g('FullYear') + ' ' +
      pad2(g('Hours')) + ':' + pad2(g('Minutes')) + ':' + pad2(g('Seconds')) + ' GMT+0000';
  });

  // kit/vboard/transform.ts turns `x.length = v` into a call of this (sloppy, like Espruino):
  // an array's length is read-only there
  var sloppySet = Function('x', 'v', 'x.length = v; return v;');
  defProp(G, '\u0275vbSetLength', { value: function (x, v) {
    if (OArray.isArray(x)) throw new G.TypeError('Assignment to a constant');
    return sloppySet(x, v);
  }, writable: false, enumerable: false, configurable: false });
  // Object.defineProperty: Espruino has no non-enumerable properties, and a descriptor's
  // writable / configurable default to true
  var OdefineProperty = OObject.defineProperty;
  function espDesc(d) {
    var r = {}, k;
    for (k in d) r[k] = d[k];
    if (!('get' in r) && !('set' in r) && !('writable' in r)) r.writable = true;
    if (!('configurable' in r)) r.configurable = true;
    r.enumerable = true;
    return r;
  }
  OObject.defineProperty = function (o, k, d) { return OdefineProperty(o, k, d && typeof d === 'object' ? espDesc(d) : d); };
  OObject.defineProperties = function (o, ds) { for (var k in ds) OObject.defineProperty(o, k, ds[k]); return o; };
  // Functions print as Espruino keeps them: `function (a,b) {body}`
  hide(Function.prototype, 'toString', function () { return ES.fnText(this); });
  // jswrap_typedarray_constructor: a length, an array, a typed array or an ArrayBuffer only
  ['Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Uint8ClampedArray'].forEach(function (name) {
    var T = G[name];
    proxyNames.set(T, name);
    G[name] = new PProxy(T, { construct: function (t, args, nt) {
      var a = args[0];
      if (typeof a === 'boolean') args = [+a];
      else if (typeof a === 'number') {
        if (a < 0) throw new OError('Invalid length for ArrayBuffer');
        args = [a === a ? Math.floor(a) : 0];
      } else if (!(OArray.isArray(a) || isView(a) || a instanceof OAB)) throw new OError('Unsupported first argument of type ' + typeName(a));
      return RConstruct(t, args, nt);
    } });
  });
  // Errors as Espruino makes them: own message, type and stack; an object that only inherits
  // from Error.prototype (Object.create) converts to text as a plain object does. Espruino's
  // TypeError does not inherit from Error (and what the engine throws for `null.x` is an
  // Error there), so TypeError gets a prototype of its own.
  var errProtos = [OTypeError.prototype];
  var typeErrorProto = OObject.create(OP);
  hide(typeErrorProto, 'toString', function () { return 'TypeError' + (this.message ? ': ' + this.message : ''); });
  ['Error', 'TypeError', 'SyntaxError', 'ReferenceError'].forEach(function (name) {
    var C = G[name], proto = name === 'TypeError' ? typeErrorProto : C.prototype;
    errProtos.push(proto);
    function make(t, args) {
      var e = RConstruct(t, args, t);
      if (name === 'TypeError') OObject.setPrototypeOf(e, typeErrorProto);
      delete e.stack;
      if (args.length) defProp(e, 'message', { value: asString(args[0]), writable: true, enumerable: true, configurable: true });
      defProp(e, 'type', { value: name, writable: true, enumerable: true, configurable: true });
      defProp(e, 'stack', { value: '', writable: true, enumerable: true, configurable: true });
      return e;
    }
    var P;
    if (name === 'TypeError') {
      // a plain function, so that its prototype can be one of its own
      P = function TypeError(message) { return make(C, slice(arguments)); };
      P.prototype = typeErrorProto;
      hide(typeErrorProto, 'constructor', P);
    } else {
      P = new PProxy(C, { construct: function (t, args) { return make(t, args); }, apply: function (t, self, args) { return make(t, args); } });
      proxyNames.set(C, name);
    }
    G[name] = P;
  });
  // SyntaxError and ReferenceError (also those the engine throws) do not inherit from Error
  // either; a TypeError the engine throws (`null.x`) stands for Espruino's plain Error
  [[OSyntaxError, 'SyntaxError'], [ReferenceError, 'ReferenceError']].forEach(function (x) {
    OObject.setPrototypeOf(x[0].prototype, OP);
    hide(x[0].prototype, 'toString', function () { return x[1] + (this.message ? ': ' + this.message : ''); });
  });
  [OTypeError, OSyntaxError, ReferenceError].forEach(function (C) { delete C.prototype.name; });
  var OerrToString = OError.prototype.toString;
  var errToString = function () {
    if (errProtos.indexOf(OObject.getPrototypeOf(this)) < 0) return '[object Object]';
    return OerrToString.call(this);
  };
  hide(OError.prototype, 'toString', errToString);
  ES.hooks.isDefaultToString = function (v, ts) {
    return ts === OP.toString || (ts === errToString && errProtos.indexOf(OObject.getPrototypeOf(v)) < 0);
  };

})
