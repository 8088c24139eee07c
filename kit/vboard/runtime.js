// Espruino API layer that runs INSIDE the virtual board's node:vm context.
// It is evaluated once per power-up as a function expression and called with
// (native, cfgJson). `native` is a host object of host functions; it stays in this
// closure and is never reachable from the image. Host functions only receive and return
// primitives (binary strings: one char = one byte) or objects of this context.
// The function returns the entry points the host uses to deliver events.
(function (native, cfgJson, ES) {
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

  // ---- serial devices ----
  var devName = new WM();
  function Serial() { throw new OError('Serial objects are built in'); }
  var devices = {};
  var rxBuf = {};
  Serial.prototype.setup = function (baud, opts) { native.setup(devName.get(this), +baud || 9600); };
  Serial.prototype.write = function () {
    var s = '';
    for (var i = 0; i < arguments.length; i++) s += toBin(arguments[i]);
    if (s.length) native.out(devName.get(this), s);
  };
  Serial.prototype.print = function (s) { native.out(devName.get(this), asString(s)); };
  Serial.prototype.println = function (s) { native.out(devName.get(this), asString(s) + '\r\n'); };
  Serial.prototype.setConsole = function (force) { native.setConsole(devName.get(this)); };
  Serial.prototype.available = function () { var b = rxBuf[devName.get(this)]; return b ? b.length : 0; };
  Serial.prototype.read = function (n) {
    var nm = devName.get(this), b = rxBuf[nm] || '';
    if (n === undefined || n < 0 || n > b.length) n = b.length;
    rxBuf[nm] = b.substr(n);
    return b.substr(0, n);
  };
  Serial.prototype.inject = function () {
    var s = '';
    for (var i = 0; i < arguments.length; i++) s += toBin(arguments[i]);
    native.inject(devName.get(this), s);
  };
  G.Serial = Serial;
  // A device object exists once the code names it (jsiGetClassNameFromDevice finds it in the
  // root scope); bytes that arrive for a device nobody has named yet are dropped.
  var touched = {};
  cfg.devices.forEach(function (n) {
    var d = OObject.create(Serial.prototype);
    devName.set(d, n);
    devices[n] = d;
    defProp(G, n, {
      configurable: true, enumerable: true,
      get: function () { touched[n] = true; return d; },
      set: function (v) { defProp(G, n, { value: v, writable: true, configurable: true, enumerable: true }); }
    });
  });


  // ---- console ----
  function logArgs(args) {
    var parts = [];
    for (var i = 0; i < args.length; i++) parts.push(typeof args[i] === 'string' ? args[i] : ES.printValue(args[i]));
    consolePrint(crlf(parts.join(' ') + '\n'));
  }
  G.print = function () { logArgs(arguments); };
  var con = {};
  ['log', 'debug', 'info', 'warn', 'error'].forEach(function (n) { con[n] = function () { logArgs(arguments); }; });
  con.trace = function () { logArgs(arguments); };
  G.console = con;

  // ---- pins ----
  var pins = {};
  function Pin(name) {
    if (!(this instanceof Pin)) return pinObj(String(name));
    devName.set(this, String(name));
  }
  function pinObj(name) { if (!pins[name]) pins[name] = new Pin(name); return pins[name]; }
  function pinName(p) {
    if (p instanceof Pin) return devName.get(p);
    if (typeof p === 'string') return p;
    if (typeof p === 'number') return 'D' + p;
    throw new OError('Invalid pin!');
  }
  Pin.prototype.read = function () { return !!native.pinRead(devName.get(this)); };
  Pin.prototype.write = function (v) { native.pinWrite(devName.get(this), v ? 1 : 0); };
  Pin.prototype.set = function () { native.pinWrite(devName.get(this), 1); };
  Pin.prototype.reset = function () { native.pinWrite(devName.get(this), 0); };
  Pin.prototype.toggle = function () { var v = !native.pinRead(devName.get(this)); native.pinWrite(devName.get(this), v ? 1 : 0); return v; };
  Pin.prototype.mode = function (m) { native.pinMode(devName.get(this), String(m)); };
  Pin.prototype.getMode = function () { return native.pinGetMode(devName.get(this)); };
  Pin.prototype.getInfo = function () { return { port: devName.get(this).charAt(0), num: parseInt(devName.get(this).substr(1), 10) || 0 }; };
  Pin.prototype.toString = function () { return devName.get(this); };
  G.Pin = Pin;
  cfg.pins.forEach(function (n) { G[n] = pinObj(n); });
  G.digitalRead = function (p) {
    if (OArray.isArray(p)) { var v = 0; for (var i = 0; i < p.length; i++) v = (v << 1) | native.pinRead(pinName(p[i])); return v; }
    return native.pinRead(pinName(p));
  };
  G.digitalWrite = function (p, val) {
    if (OArray.isArray(p)) { for (var i = p.length - 1; i >= 0; i--) { native.pinWrite(pinName(p[i]), val & 1); val >>= 1; } return; }
    native.pinWrite(pinName(p), val ? 1 : 0);
  };
  G.pinMode = function (p, mode) { native.pinMode(pinName(p), mode === undefined ? 'auto' : String(mode)); };
  G.getPinMode = function (p) { return native.pinGetMode(pinName(p)); };
  var watchCbs = {};
  G.setWatch = function (fn, pin, opts) {
    if (typeof fn !== 'function' && typeof fn !== 'string') throw new OError('Function or String not supplied!');
    var repeat = false, edge = 'both', debounce = 0;
    if (typeof opts === 'boolean') repeat = opts;
    else if (opts && typeof opts === 'object') {
      repeat = !!opts.repeat;
      if (opts.edge !== undefined) edge = opts.edge === 1 || opts.edge === 'rising' ? 'rising' : opts.edge === -1 || opts.edge === 'falling' ? 'falling' : 'both';
      if (opts.debounce !== undefined) debounce = +opts.debounce || 0;
    }
    var id = native.watchAdd(pinName(pin), edge, repeat ? 1 : 0, debounce);
    watchCbs[id] = { fn: fn, pin: pinObj(pinName(pin)) };
    return id;
  };
  G.clearWatch = function (id) {
    if (arguments.length === 0) { watchCbs = {}; native.watchClear(-1); return; }
    if (id === undefined || id === null) return;
    if (!hasOwn(watchCbs, id)) throw new OError('Unknown Watch ' + id);
    delete watchCbs[id];
    native.watchClear(+id);
  };

  // ---- E ----
  var E = asFunctionObject({});
  E.hwRand = function () { return native.hwRand(); };
  E.CRC32 = function (data) { return native.crc32(toBin(data)); };
  E.getErrorFlags = function () { var s = native.errorFlags(); return s ? s.split(',') : []; };
  E.toString = function () {
    var s = '';
    for (var i = 0; i < arguments.length; i++) s += toBin(arguments[i]);
    return s;
  };
  E.toUint8Array = function () {
    var s = '';
    for (var i = 0; i < arguments.length; i++) s += toBin(arguments[i]);
    return binToU8(s);
  };
  E.toArrayBuffer = function (s) { return binToAB(toBin(s)); };
  E.getSizeOf = function (v, depth) { return native.sizeOf(v); };
  E.reboot = function () { native.reboot(); };
  E.kickWatchdog = function () {};
  E.enableWatchdog = function () {};
  E.getTemperature = function () { return 25; };
  E.getAnalogVRef = function () { return 3.3; };
  E.setTimeZone = function () {};
  E.setDeepSleep = function () {};
  E.setSleepIndicator = function () {};
  // jswrap_espruino_setConsole: a Serial object or a device name; null = no console
  E.setConsole = function (dev, opts) {
    var n = dev === null ? 'null' : typeof dev === 'string' ? (cfg.devices.indexOf(dev) >= 0 ? dev : '') : (dev && typeof dev === 'object' && devName.get(dev)) || '';
    if (!n) throw new OError('Unknown device type "undefined"');
    native.setConsole(n);
  };
  E.getConsole = function () { var c = native.getConsole(); return c || null; };
  E.toJS = function (v) {
    var F = ES.FLAGS;
    return ES.getJSON(v, F.DROP_QUOTES | F.NO_UNDEFINED | F.ARRAYBUFFER_AS_ARRAY | F.ALLOW_TOJSON, null);
  };
  E.sum = function (arr) { var s = 0; for (var i = 0; i < arr.length; i++) s += +arr[i]; return s; };
  E.variance = function (arr, mean) { var s = 0; for (var i = 0; i < arr.length; i++) { var d = arr[i] - mean; s += d * d; } return s / arr.length; };
  E.HSBtoRGB = function (h, s, b) {
    var i = Math.floor(h * 6), f = h * 6 - i, p = b * (1 - s), q = b * (1 - f * s), t = b * (1 - (1 - f) * s), r, g, bl;
    switch (((i % 6) + 6) % 6) { case 0: r = b; g = t; bl = p; break; case 1: r = q; g = b; bl = p; break; case 2: r = p; g = b; bl = t; break;
      case 3: r = p; g = q; bl = b; break; case 4: r = t; g = p; bl = b; break; default: r = b; g = p; bl = q; }
    return (Math.round(bl * 255) << 16) | (Math.round(g * 255) << 8) | Math.round(r * 255);
  };
  G.E = E;

  // ---- misc globals ----
  G.global = G;
  G.getSerial = function () { return native.getSerial(); };
  // jswrap_btoa / jswrap_atob: strings iterate their bytes (UTF-8 ones encoded)
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
  G.btoa = function (s) {
    if (typeof s === 'string') return native.btoa(strBytes(s));
    if (OArray.isArray(s) || isView(s) || s instanceof OAB) return native.btoa(toBin(s));
    throw new OError('Expecting String or Array, got ' + typeName(s));
  };
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  G.atob = function (s) {
    if (typeof s !== 'string') throw new OError('Expecting String, got ' + typeName(s));
    s = strBytes(s);
    var ws = ' \t\n\r\v\f', chars = [], i;
    for (i = 0; i < s.length; i++) if (ws.indexOf(s.charAt(i)) < 0) chars.push(s.charAt(i));
    var outLen = Math.floor(chars.length * 3 / 4);
    if (chars[chars.length - 1] === '=') outLen--;
    if (chars[chars.length - 2] === '=') outLen--;
    var out = [], k = 0;
    while (k < chars.length) {
      var triple = 0, valid = 0;
      for (i = 0; i < 4; i++) {
        if (k < chars.length) {
          var sextet = B64.indexOf(chars[k++]);
          if (sextet >= 0) { triple |= sextet << ((3 - i) * 6); valid = i; }
        }
      }
      if (valid > 0) out.push((triple >> 16) & 255);
      if (valid > 1) out.push((triple >> 8) & 255);
      if (valid > 2) out.push(triple & 255);
    }
    var r = '';
    for (i = 0; i < Math.max(outLen, 0); i++) r += fromCC(i < out.length ? out[i] : 0);
    return r;
  };
  // jswrap_encodeURIComponent: bytes, with its signed-char quirk above 127
  G.encodeURIComponent = function (v) {
    var s = strBytes(asString(v)), r = '';
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || '_-.!~*\'()'.indexOf(s.charAt(i)) >= 0) { r += s.charAt(i); continue; }
      var u = c >= 128 ? (0xFFFFFF00 | c) >>> 0 : c, d = Math.floor(u / 16);
      r += '%' + fromCC(((d > 9 ? 65 + d - 10 : 48 + d) % 4294967296) & 255);
      d = u & 15;
      r += fromCC(d > 9 ? 65 + d - 10 : 48 + d);
    }
    return r;
  };
  G.peek8 = G.peek16 = G.peek32 = function () { return 0; };
  G.poke8 = G.poke16 = G.poke32 = function () {};
  G.echo = function (on) { native.echo(on ? 1 : 0); };
  G.reset = function () { native.reboot(); };
  G.load = function () { native.reboot(); };
  G.save = function () {};
  G.analogRead = function () { return 0; };
  G.analogWrite = function () {};

  var env = cfg.env;
  G.process = {
    version: cfg.version,
    env: env,
    memory: function (gc) { return OJSONparse(native.memory()); }
  };

  // ---- modules ----
  var modules = {};
  // modules written in JavaScript (Storage files), by name: they cost what their objects cost
  var jsModules = {};
  // the image's own Storage modules, registered by the boot script (board.ts bootSource)
  var imageModules = {};
  function mkFlash() {
    return {
      getPage: function (addr) { var s = native.flashGetPage(+addr); return s ? OJSONparse(s) : undefined; },
      getFree: function () { return OJSONparse(native.flashGetFree()); },
      // jswrap_flash_erasePage takes an integer address only
      erasePage: function (addr) {
        if (typeof addr !== 'number' || !ES.isInt32(addr)) throw new OError('Address should be an integer, got ' + typeName(addr));
        native.flashErase(addr);
      },
      write: function (data, addr) {
        if (data === undefined) throw new OError('Data is not defined');
        var d = toBin(data);
        if (d.length) native.flashWrite(d, ES.cInt(+addr));
      },
      read: function (length, addr) {
        length = length | 0;
        if (length <= 0) return undefined;
        return binToU8(native.flashRead(length, +addr));
      }
    };
  }
  function mkStorage() {
    function name(n) { return String(n); }
    return {
      // jswrap_storage_write: an object is written as its JSON; anything else as its bytes
      write: function (n, data, offset, size) {
        if (data && typeof data === 'object' && !OArray.isArray(data) && !isView(data) && !(data instanceof OAB) && typeof data.count !== 'number')
          return !!native.stWrite(name(n), ES.stringify(data), -1, -1);
        return !!native.stWrite(name(n), typeof data === 'string' ? strBytes(data) : toBin(data),
          offset === undefined ? -1 : +offset, size === undefined ? -1 : +size);
      },
      // jswrap_storage_writeJSON: unquoted names where they are identifiers, \x escapes kept
      writeJSON: function (n, data) {
        var F = ES.FLAGS;
        return !!native.stWrite(name(n), strBytes(ES.getJSON(data, F.DROP_QUOTES | F.IGNORE_FUNCTIONS | F.NO_UNDEFINED | F.ARRAYBUFFER_AS_ARRAY | F.NO_NAN | F.ALLOW_TOJSON, null)), -1, -1);
      },
      read: function (n, offset, length) {
        var s = native.stRead(name(n), offset === undefined ? 0 : +offset, length === undefined ? -1 : +length);
        return s === null ? undefined : s;
      },
      readJSON: function (n, noExceptions) {
        var s = native.stRead(name(n), 0, -1);
        if (s === null) return undefined;
        try { return ES.parse(s, true); } catch (e) { if (noExceptions) return undefined; throw e; }
      },
      readArrayBuffer: function (n) {
        var s = native.stRead(name(n), 0, -1);
        return s === null ? undefined : binToAB(s);
      },
      erase: function (n) { native.stErase(name(n)); },
      eraseAll: function () { native.stEraseAll(); },
      list: function (re) {
        var all = OJSONparse(native.stList());
        if (re === undefined) return all;
        return all.filter(function (n) { return re instanceof RegExp ? re.test(n) : n.indexOf(String(re)) >= 0; });
      },
      getFree: function () { return native.stFree(); },
      getStats: function () { return OJSONparse(native.stStats()); },
      compact: function () {}
    };
  }
  function mkCrypto() {
    var c = {}, algos = cfg.crypto;
    ['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'].forEach(function (a) {
      if (algos.indexOf(a) >= 0) c[a] = function (msg) { return binToAB(native.sha(a, toBin(msg))); };
    });
    if (algos.indexOf('PBKDF2') >= 0) {
      c.PBKDF2 = function (pass, salt, opts) {
        var keySize = 4, iter = 1, hasher = 'SHA1';
        if (opts && typeof opts === 'object') {
          keySize = opts.keySize | 0; if (keySize <= 0) keySize = 4;
          iter = opts.iterations | 0; if (iter < 1) iter = 1;
          if (opts.hasher !== undefined) hasher = String(opts.hasher);
        }
        return binToAB(native.pbkdf2(toBin(pass), toBin(salt), keySize * 4, iter, hasher));
      };
    }
    var hasAES = algos.indexOf('AES') >= 0, hasCCM = algos.indexOf('AES-CCM') >= 0;
    if (hasAES || hasCCM) {
      var AES = {};
      if (hasAES) {
        var crypt = function (enc) {
          return function (msg, key, opts) {
            var iv = '', mode = 'CBC';
            if (opts && typeof opts === 'object') {
              if (opts.iv !== undefined) iv = toBin(opts.iv);
              if (opts.mode !== undefined) mode = String(opts.mode);
            }
            var r = native.aes(enc ? 1 : 0, toBin(msg), toBin(key), iv, mode);
            if (r.charCodeAt(0) === 256) { consolePrint('ERROR: ' + r.substr(1) + '\r\n'); return undefined; }
            return binToAB(r);
          };
        };
        AES.encrypt = crypt(true);
        AES.decrypt = crypt(false);
      }
      if (hasCCM) {
        AES.ccmEncrypt = function (msg, key, iv, tagLen) {
          var r = OJSONparse(native.ccm(1, toBin(msg), toBin(key), toBin(iv), tagLen === undefined ? 16 : +tagLen, ''));
          return { data: binToAB(native.atob(r.data)), tag: binToAB(native.atob(r.tag)) };
        };
        AES.ccmDecrypt = function (msg, key, iv, tag) {
          var r = OJSONparse(native.ccm(0, toBin(msg), toBin(key), toBin(iv), 0, toBin(tag)));
          return binToAB(native.atob(r.data));
        };
      }
      c.AES = asFunctionObject(AES);
    }
    return c;
  }
  G.require = function (n) {
    n = String(n);
    if (hasOwn(modules, n)) return modules[n];
    var m;
    if (n === 'Flash') m = mkFlash();
    else if (n === 'Storage') m = mkStorage();
    else if (n === 'crypto' && cfg.crypto.length) m = mkCrypto();
    else {
      // jswrap_require: a Storage file of that name is evaluated as a module
      // (jspEvaluateModule: its own scope with exports and module; exports is what it gives)
      var fn = n.length <= 28 && hasOwn(imageModules, n) ? imageModules[n] : null;
      if (!fn) {
        var code = n.length <= 28 ? native.stRead(n, 0, -1) : null;
        if (code === null || code === undefined) throw new OError('Module "' + n + '" not found');
        fn = native.evalModule(n, code);
      }
      var scope = {};
      scope.exports = {};
      scope.module = scope;
      fn(scope.exports, scope);
      modules[n] = scope.exports;
      jsModules[n] = true;
      return scope.exports;
    }
    m = asFunctionObject(m);
    modules[n] = m;
    return m;
  };
  defProp(G, '\u0275vbModule', { value: function (n, fn) { imageModules[n] = fn; } });
  // jswrap_modules.c: the module cache
  G.Modules = asFunctionObject({
    getCached: function () { return OObject.keys(modules); },
    removeCached: function (n) {
      if (typeof n !== 'string') throw new OError('First argument must be String');
      if (!hasOwn(modules, n)) throw new OError('Module "' + n + '" not found');
      delete modules[n];
      delete jsModules[n];
    },
    addCached: function (n, code) {
      n = String(n);
      var scope = {};
      scope.exports = {};
      scope.module = scope;
      native.evalModule(n, String(code))(scope.exports, scope);
      modules[n] = scope.exports;
      jsModules[n] = true;
    }
  });

  // Espruino's built-in objects answer typeof with "function"
  function asFunctionObject(o) {
    var f = ({ f: function () { throw new OTypeError('Not a function'); } }).f;
    delete f.name;
    delete f.length;
    var names = OObject.getOwnPropertyNames(o);
    for (var i = 0; i < names.length; i++) defProp(f, names[i], OObject.getOwnPropertyDescriptor(o, names[i]));
    return f;
  }
  G.JSON = asFunctionObject(JSON);
  G.Math = asFunctionObject(Math);
  G.console = asFunctionObject(G.console);
  G.process = asFunctionObject(G.process);
  // process.env is made afresh on each read (CONSOLE is the console now)
  defProp(G.process, 'env', { enumerable: true, configurable: true, get: function () {
    var e = {}, k;
    for (k in cfg.env) e[k] = k === 'CONSOLE' ? (native.getConsole() || null) : cfg.env[k];
    return e;
  } });

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
      var w = watchCbs[id];
      if (!w) return;
      if (!keep) delete watchCbs[id];
      runCb(w.fn, [{ state: !!state, time: time, lastTime: lastTime, pin: w.pin }]);
      drain();
    },
    init: function () {
      try { E.emit('init'); } catch (e) { uncaught(e); }
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
  // jswrap_date_parse gives 0 for text it cannot read (V8: NaN)
  function dateParse(s) { var t = Oparse(asString(s)); return t === t ? t : 0; }

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
