// Espruino API layer that runs INSIDE the virtual board's node:vm context, in four files that
// board.ts evaluates as one script: this one (intrinsics, binary data, events, uncaught errors
// and Promise, JSON, time and timers, the entry points, the strip of what Espruino lacks) and
// the parts it calls, runtime-devices.js (serial devices, console, pins and watches, E, other
// globals), runtime-modules.js (require: Flash, Storage, crypto, Storage modules) and
// runtime-builtins.js (Espruino's own versions of standard functions and errors).
// It is evaluated once per power-up and called with (native, cfgJson, ES, parts). `native` is a
// host object of host functions; it stays in these closures (and in `shared`, which only the
// parts see) and is never reachable from the image. Host functions only receive and return
// primitives (binary strings: one char = one byte) or objects of this context.
// The function returns the entry points the host uses to deliver events.
(function (native, cfgJson, ES, parts) {
  'use strict';
  var G = globalThis;
  var cfg = JSON.parse(cfgJson);

  // ---- intrinsics captured before the strip script removes what Espruino lacks ----
  var OP = Object.prototype;
  var hasOwn = Function.prototype.call.bind(OP.hasOwnProperty);
  var defProp = Object.defineProperty;
  var isView = ArrayBuffer.isView;
  var WM = WeakMap;
  var proxyNames = new WM(); // constructors this file wraps in a Proxy -> their global name
  var RConstruct = Reflect.construct;
  var PProxy = Proxy;
  var ODate = Date;
  var Oparse = Date.parse;
  var OJSONparse = JSON.parse;
  var fromCC = String.fromCharCode;
  var OStr = String;
  var OError = Error;
  var OTypeError = TypeError;
  var OU8 = Uint8Array;
  var OAB = ArrayBuffer;
  var OArray = Array;
  var OObject = Object;
  var Oeval = eval;
  var OSyntaxError = SyntaxError;
  var TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);

  var ORegExp = RegExp;
  function hide(obj, name, value) {
    defProp(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
  }
  function slice(a, from) {
    var r = [];
    for (var i = from || 0; i < a.length; i++) r.push(a[i]);
    return r;
  }

  // ---- binary helpers ----
  // Espruino iterates data "each element treated as a byte": strings by char code,
  // numbers as one byte, arrays recursively, typed arrays by element, {data,count}.
  // Espruino's jsvIterateCallback (src/jsvariterator.c): numbers and booleans are one byte,
  // strings, arrays and typed arrays their elements, {data, count} (count a number) repeats,
  // {callback} calls; anything else is a TypeError, undefined and null included.
  function toBin(d) {
    if (d === undefined || d === null) throw new OTypeError('Expecting Number or iterable, got ' + (d === null ? 'null' : 'undefined'));
    var t = typeof d;
    if (t === 'string') return d;
    if (t === 'number') return fromCC(d & 255);
    if (t === 'boolean') return fromCC(d ? 1 : 0);
    if (d instanceof OAB) d = new OU8(d);
    if (isView(d)) {
      if (d instanceof OU8) return native.u8ToBin(d);
      var s = '';
      if (typeof d.length === 'number') for (var i = 0; i < d.length; i++) s += fromCC(d[i] & 255);
      else { var u = new OU8(d.buffer, d.byteOffset, d.byteLength); s = native.u8ToBin(u); }
      return s;
    }
    if (OArray.isArray(d)) {
      var r = '';
      for (var j = 0; j < d.length; j++) r += toBin(d[j]);
      return r;
    }
    if (t === 'object' && typeof d.callback === 'function') {
      var got = d.callback();
      return got === undefined ? '' : toBin(got);
    }
    if (t === 'object' && d.data !== undefined && typeof d.count === 'number') {
      var one = toBin(d.data), out = '';
      for (var k = 0; k < d.count; k++) out += one;
      return out;
    }
    if (t === 'object') throw new OTypeError('If specifying an object, it must be of the form {data : ..., count : N} or {callback : fn} - got ' + JSON.stringify(d));
    throw new OTypeError('Expecting Number or iterable, got ' + t);
  }
  function binToU8(s) {
    var u = new OU8(s.length);
    for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 255;
    return u;
  }
  function binToAB(s) { return binToU8(s).buffer; }

  // ---- formatting like Espruino's console (kit/vboard/espruino.js) ----
  // jsvAsString: what `Uncaught %v`, String() and string concatenation inside Espruino give
  function asString(v) {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return ES.numStr(v, 10);
    if (typeof v === 'function') return ES.fnText(v);
    if (v && typeof v === 'object' && OArray.isArray(v)) return v.join(',');
    if (v instanceof ORegExp) return '[object Object]';
    try { return OStr(v); } catch (e) { return '[object Object]'; }
  }
  // the REPL's `=value` (JSON_SOME_NEWLINES|JSON_PRETTY|JSON_SHOW_DEVICES|JSON_SHOW_OBJECT_NAMES|JSON_DROP_QUOTES)
  function replValue(v) {
    var F = ES.FLAGS;
    return ES.getJSON(v, F.SOME_NEWLINES | F.PRETTY | F.SHOW_DEVICES | F.SHOW_OBJECT_NAMES | F.DROP_QUOTES, null);
  }
  function crlf(s) { return s.replace(/\n/g, '\r\n'); }
  function consolePrint(s) { native.consoleOut(s); }

  // ---- events on every object (Espruino has Object.prototype.on/emit/...) ----
  function listeners(obj, evt) { var k = '#on' + evt; return hasOwn(obj, k) ? obj[k] : null; }
  hide(OP, 'on', function (evt, fn) {
    var l = listeners(this, evt);
    if (!l) hide(this, '#on' + evt, [fn]); else l.push(fn);
    if (this === G.E && evt === 'init') { /* handled at boot */ }
  });
  hide(OP, 'addListener', OP.on);
  hide(OP, 'prependListener', function (evt, fn) {
    var l = listeners(this, evt);
    if (!l) hide(this, '#on' + evt, [fn]); else l.unshift(fn);
  });
  hide(OP, 'emit', function (evt) {
    var l = listeners(this, evt);
    if (!l) return;
    var args = slice(arguments, 1), copy = l.slice();
    for (var i = 0; i < copy.length; i++) copy[i].apply(this, args);
  });
  hide(OP, 'removeListener', function (evt, fn) {
    var l = listeners(this, evt);
    if (!l) return;
    var i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
    if (!l.length) delete this['#on' + evt];
  });
  hide(OP, 'removeAllListeners', function (evt) {
    if (evt === undefined) {
      var names = OObject.getOwnPropertyNames(this);
      for (var i = 0; i < names.length; i++) if (names[i].indexOf('#on') === 0) delete this[names[i]];
    } else delete this['#on' + evt];
  });

  // ---- uncaught errors and the promise job queue ----
  function uncaught(e) {
    var l = listeners(G.process, 'uncaughtException');
    if (l && l.length) {
      try { G.process.emit('uncaughtException', e); return; } catch (e2) { e = e2; }
    }
    try { consolePrint(crlf('Uncaught ' + asString(e) + '\n')); } catch (e3) { /* board off */ }
  }
  var jobs = [], unhandled = [];
  function drain() {
    var guard = 0;
    while (jobs.length || unhandled.length) {
      while (jobs.length) {
        var j = jobs.shift();
        try { j(); } catch (e) { uncaught(e); }
        if (++guard > 1e6) return;
      }
      var u = unhandled; unhandled = [];
      for (var i = 0; i < u.length; i++) if (!u[i]._handled) uncaught(new OError('Unhandled promise rejection: ' + asString(u[i]._v)));
    }
  }
  function call(fn, thisArg, args) {
    try { fn.apply(thisArg, args || []); } catch (e) { uncaught(e); }
  }

  // Espruino's Promise: then-callbacks run after the current task, not on V8's queue
  // (which would also make Node treat a rejection as its own unhandled rejection).
  function P(executor) {
    if (!(this instanceof P)) throw new OTypeError('Promise must be called with new');
    init(this);
    var self = this, done = false;
    try {
      executor(function (v) { if (!done) { done = true; resolveP(self, v); } },
        function (e) { if (!done) { done = true; settle(self, 2, e); } });
    } catch (e) { if (!done) { done = true; settle(self, 2, e); } }
  }
  function init(p) { hide(p, '_s', 0); hide(p, '_v', undefined); hide(p, '_h', []); hide(p, '_handled', false); }
  function resolveP(p, v) {
    if (v === p) { settle(p, 2, new OTypeError('Promise resolved with itself')); return; }
    if (v && (typeof v === 'object' || typeof v === 'function')) {
      var then;
      try { then = v.then; } catch (e) { settle(p, 2, e); return; }
      if (typeof then === 'function') {
        var called = false;
        jobs.push(function () {
          try {
            then.call(v, function (x) { if (!called) { called = true; resolveP(p, x); } },
              function (e) { if (!called) { called = true; settle(p, 2, e); } });
          } catch (e) { if (!called) { called = true; settle(p, 2, e); } }
        });
        return;
      }
    }
    settle(p, 1, v);
  }
  function settle(p, s, v) {
    if (p._s) return;
    p._s = s; p._v = v;
    if (s === 2 && !p._handled) unhandled.push(p);
    var hs = p._h; p._h = [];
    for (var i = 0; i < hs.length; i++) queueHandler(p, hs[i]);
  }
  function queueHandler(p, h) {
    jobs.push(function () {
      var cb = p._s === 1 ? h.f : h.r;
      if (typeof cb !== 'function') { if (p._s === 1) resolveP(h.c, p._v); else settle(h.c, 2, p._v); return; }
      var r;
      try { r = cb(p._v); } catch (e) { settle(h.c, 2, e); return; }
      resolveP(h.c, r);
    });
  }
  P.prototype.then = function (onF, onR) {
    var child = OObject.create(P.prototype);
    init(child);
    this._handled = true;
    var h = { f: onF, r: onR, c: child };
    if (this._s) queueHandler(this, h); else this._h.push(h);
    return child;
  };
  P.prototype['catch'] = function (onR) { return this.then(undefined, onR); };
  P.resolve = function (v) { if (v instanceof P) return v; return new P(function (res) { res(v); }); };
  P.reject = function (e) { return new P(function (res, rej) { rej(e); }); };
  P.all = function (arr) {
    return new P(function (res, rej) {
      var n = arr.length, out = new OArray(n);
      if (!n) { res(out); return; }
      arr.forEach(function (x, i) {
        P.resolve(x).then(function (v) { out[i] = v; if (--n === 0) res(out); }, rej);
      });
    });
  };
  G.Promise = P;

  // ---- JSON as Espruino does it (src/jswrap_json.c): its own writer (typed arrays as arrays,
  // replacer ignored, \u escapes above 126) and a parser over its JavaScript lexer (lenient:
  // trailing text, trailing commas, single quotes, hex, \x escapes; the first of duplicate
  // keys wins; integers wrap at 2^64; no reviver) ----
  JSON.stringify = function (v, replacer, space) { return ES.stringify(v, replacer, space); };
  JSON.parse = function (s) { return ES.parse(s, false); };

  // ---- time ----
  function now() { return native.getTime(); }
  G.getTime = function () { return now(); };
  G.setTime = function (t) { native.setTime(+t); };
  ODate.now = function () { return now() * 1000; };
  ODate.parse = function (s) { return dateParse(s); };
  proxyNames.set(ODate, 'Date');
  G.Date = new PProxy(ODate, {
    construct: function (t, args, nt) {
      if (args.length === 1 && typeof args[0] === 'string') args = [dateParse(args[0])];
      return RConstruct(t, args.length ? args : [now() * 1000], nt);
    },
    apply: function () { return new ODate(now() * 1000).toString(); }
  });

  var timerCbs = {};
  function addTimer(fn, ms, interval, args) {
    if (typeof fn !== 'function' && typeof fn !== 'string') throw new OError('Function or String not supplied!');
    var id = native.timerAdd(+ms || 0, interval ? 1 : 0);
    timerCbs[id] = { fn: fn, args: args };
    return id;
  }
  G.setTimeout = function (fn, ms) { return addTimer(fn, ms, false, slice(arguments, 2)); };
  G.setInterval = function (fn, ms) { return addTimer(fn, ms, true, slice(arguments, 2)); };
  function clearT(name, args) {
    if (args.length === 0) { timerCbs = {}; native.timerClear(-1); return; }
    var id = args[0];
    if (id === undefined) throw new OError('clear' + name + '(undefined) not allowed. Use clear' + name + '() instead');
    if (id === null || !hasOwn(timerCbs, id)) return;
    delete timerCbs[id];
    native.timerClear(+id);
  }
  G.clearTimeout = function () { return clearT('Timeout', arguments); };
  G.clearInterval = function () { return clearT('Interval', arguments); };
  G.changeInterval = function (id, ms) { native.timerChange(+id, +ms || 0); };


  // jswrap_date_parse gives 0 for text it cannot read (V8: NaN)
  function dateParse(s) { var t = Oparse(asString(s)); return t === t ? t : 0; }

  // ---- helpers the parts share ----
  /** the type name Espruino's messages give a value ("Expecting String, got Array") */
  function typeName(v) {
    if (v === null) return 'null';
    if (OArray.isArray(v)) return 'Array';
    if (isView(v)) return ES.getJSON(v, 0, null).replace(/^new ([A-Za-z0-9]+).*$/, '$1');
    var t = typeof v;
    return t === 'object' ? 'Object' : t === 'number' ? 'Number' : t === 'string' ? 'String' : t === 'boolean' ? 'Boolean' : t === 'function' ? 'Function' : t;
  }
  /** the bytes Espruino holds for a string: a string with a character above 255 is UTF-8 */
  function strBytes(s) {
    var i, wide = false;
    for (i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) wide = true;
    if (!wide) return s;
    var r = '';
    for (i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xD800 && c < 0xDC00 && i + 1 < s.length) { c = 0x10000 + ((c & 0x3FF) << 10) + (s.charCodeAt(++i) & 0x3FF); }
      if (c < 0x80) r += fromCC(c);
      else if (c < 0x800) r += fromCC(0xC0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) r += fromCC(0xE0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else r += fromCC(0xF0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return r;
  }
  // Espruino's built-in objects answer typeof with "function"
  function asFunctionObject(o) {
    var f = ({ f: function () { throw new OTypeError('Not a function'); } }).f;
    delete f.name;
    delete f.length;
    var names = OObject.getOwnPropertyNames(o);
    for (var i = 0; i < names.length; i++) defProp(f, names[i], OObject.getOwnPropertyDescriptor(o, names[i]));
    return f;
  }

  // ---- what the parts share: intrinsics, helpers, devices and the registries ----
  var devName = new WM(); // a serial device or pin -> its name
  var devices = {}; // serial devices by name
  var rxBuf = {}; // bytes received for a device with no 'data' listener, by device name
  var touched = {}; // devices the code has named (only they receive bytes; runtime-devices.js)
  var shared = {
    G: G, cfg: cfg, native: native, ES: ES, OP: OP, hasOwn: hasOwn, defProp: defProp,
    isView: isView, proxyNames: proxyNames, RConstruct: RConstruct, PProxy: PProxy, ODate: ODate,
    OJSONparse: OJSONparse, fromCC: fromCC, OError: OError, OTypeError: OTypeError, OU8: OU8,
    OAB: OAB, OArray: OArray, OObject: OObject, OSyntaxError: OSyntaxError,
    TypedArrayProto: TypedArrayProto, hide: hide, slice: slice, toBin: toBin, binToU8: binToU8,
    binToAB: binToAB, asString: asString, crlf: crlf, consolePrint: consolePrint,
    typeName: typeName, strBytes: strBytes, asFunctionObject: asFunctionObject,
    devName: devName, devices: devices, rxBuf: rxBuf, touched: touched,
    /** the watches' callbacks by watch id (runtime-devices.js setWatch; the memory model reads it) */
    watchCbs: {},
    /** the E object (runtime-devices.js) */
    E: null,
    /** the module cache by name (the memory model reads it) */
    modules: {},
    /** modules written in JavaScript (Storage files), by name: they cost what their objects cost */
    jsModules: {}
  };
  parts.devices(shared);
  parts.modules(shared);

  // ---- entry points for the host ----
  function runCb(fn, args) {
    if (typeof fn === 'string') { try { Oeval(fn); } catch (e) { uncaught(e); } return; }
    call(fn, G, args);
  }
  var rt = {
    drain: drain,
    timer: function (id, keep) {
      var t = timerCbs[id];
      if (!t) return;
      if (!keep) delete timerCbs[id];
      runCb(t.fn, t.args);
      drain();
    },
    data: function (dev, s) {
      var d = devices[dev];
      if (!d || !touched[dev]) return;
      if (listeners(d, 'data')) { try { d.emit('data', s); } catch (e) { uncaught(e); } }
      else rxBuf[dev] = (rxBuf[dev] || '') + s;
      drain();
    },
    watch: function (id, state, time, lastTime, keep) {
      var w = shared.watchCbs[id];
      if (!w) return;
      if (!keep) delete shared.watchCbs[id];
      runCb(w.fn, [{ state: !!state, time: time, lastTime: lastTime, pin: w.pin }]);
      drain();
    },
    init: function () {
      try { shared.E.emit('init'); } catch (e) { uncaught(e); }
      drain();
    },
    // returns 1 when the line is an incomplete statement (REPL continues it)
    repl: function (code) {
      var r;
      try { r = Oeval(code); } catch (e) {
        if (e instanceof OSyntaxError && /end of input|Unterminated/.test(e.message)) return 1;
        uncaught(e);
        drain();
        return 0;
      }
      try { if (r !== undefined) consolePrint(crlf('=' + replValue(r) + '\n')); } catch (e) { /* off */ }
      drain();
      return 0;
    },
    uncaught: uncaught
  };


  // ---- Espruino's own versions of standard functions and errors (runtime-builtins.js) ----
  parts.builtins(shared);

  // ---- finally: remove what the real interpreter does not have ----
  Oeval(cfg.strip);

  // kit/vboard/transform.ts turns `Array.prototype.slice` into a call of this: a built-in
  // method read through a prototype is undefined on Espruino (instances still have it)
  var protoSnap = new WM();
  ['Array', 'String', 'Number', 'Boolean', 'Function', 'Date', 'RegExp', 'Error', 'TypeError', 'SyntaxError', 'ReferenceError', 'Promise',
    'ArrayBuffer', 'DataView', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array',
    'Float64Array', 'Uint8ClampedArray'].forEach(function (n) {
    var C = G[n];
    if (!C) return;
    var snap = {};
    for (var o = C.prototype; o && o !== OP; o = OObject.getPrototypeOf(o)) {
      OObject.getOwnPropertyNames(o).forEach(function (k) {
        var d = OObject.getOwnPropertyDescriptor(o, k);
        if (!hasOwn(snap, k) && d && 'value' in d) snap[k] = d.value;
      });
    }
    protoSnap.set(C.prototype, snap);
  });
  defProp(G, '\u0275vbProtoGet', { value: function (P, m) {
    var v = P[m];
    if (m === 'toString' || m === 'valueOf' || m === 'hasOwnProperty' || m === 'constructor') return v;
    var snap = protoSnap.get(P);
    return snap && hasOwn(snap, m) && snap[m] === v ? undefined : v;
  }, writable: false, enumerable: false, configurable: false });
  return rt;
})
