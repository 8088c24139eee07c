// Espruino API layer that runs INSIDE the virtual board's node:vm context.
// It is evaluated once per power-up as a function expression and called with
// (native, cfgJson). `native` is a host object of host functions; it stays in this
// closure and is never reachable from the image. Host functions only receive and return
// primitives (binary strings: one char = one byte) or objects of this context.
// The function returns the entry points the host uses to deliver events.
(function (native, cfgJson) {
  'use strict';
  var G = globalThis;
  var cfg = JSON.parse(cfgJson);

  // ---- intrinsics captured before the strip script removes what Espruino lacks ----
  var OP = Object.prototype;
  var hasOwn = Function.prototype.call.bind(OP.hasOwnProperty);
  var defProp = Object.defineProperty;
  var isView = ArrayBuffer.isView;
  var WM = WeakMap;
  var RConstruct = Reflect.construct;
  var PProxy = Proxy;
  var ODate = Date;
  var OJSONstringify = JSON.stringify;
  var OJSONparse = JSON.parse;
  var fromCC = String.fromCharCode;
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
  function toBin(d) {
    if (d === undefined || d === null) return '';
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
    if (t === 'object' && d.data !== undefined) {
      var one = toBin(d.data), c = d.count === undefined ? 1 : d.count, out = '';
      for (var k = 0; k < c; k++) out += one;
      return out;
    }
    return '';
  }
  function binToU8(s) {
    var u = new OU8(s.length);
    for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 255;
    return u;
  }
  function binToAB(s) { return binToU8(s).buffer; }

  // ---- formatting like Espruino's console ----
  function fmt(v, nested, depth) {
    depth = depth || 0;
    if (v === undefined) return 'undefined';
    if (v === null) return 'null';
    var t = typeof v;
    if (t === 'string') return nested ? OJSONstringify(v) : v;
    if (t === 'number' || t === 'boolean') return String(v);
    if (t === 'function') return 'function () { [code] }';
    if (depth > 4) return '...';
    if (v instanceof OAB) return 'new ArrayBuffer([' + slice(new OU8(v)).join(', ') + '])';
    if (isView(v)) {
      var nm = v.constructor && v.constructor.name ? v.constructor.name : 'Uint8Array';
      return 'new ' + nm + '([' + slice(v).join(', ') + '])';
    }
    if (OArray.isArray(v)) {
      var a = [];
      for (var i = 0; i < v.length; i++) a.push(fmt(v[i], true, depth + 1));
      return '[ ' + a.join(', ') + ' ]';
    }
    if (v instanceof OError || (v && typeof v.message === 'string' && v.stack !== undefined)) return errStr(v);
    var keys = OObject.keys(v), parts = [];
    for (var k = 0; k < keys.length; k++) parts.push(OJSONstringify(keys[k]) + ': ' + fmt(v[keys[k]], true, depth + 1));
    return '{ ' + parts.join(', ') + ' }';
  }
  function errStr(e) {
    if (e && typeof e === 'object' && typeof e.message === 'string') return (e.name || 'Error') + ': ' + e.message;
    return fmt(e, true);
  }
  function crlf(s) { return s.replace(/\r?\n/g, '\r\n'); }
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
    try { consolePrint(crlf('Uncaught ' + errStr(e) + '\n')); } catch (e3) { /* board off */ }
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
      for (var i = 0; i < u.length; i++) if (!u[i]._handled) uncaught(u[i]._v);
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

  // ---- JSON as Espruino does it: typed arrays become arrays, no reviver ----
  JSON.stringify = function (v, replacer, space) {
    return OJSONstringify(v, function (k, val) {
      if (val && typeof val === 'object' && isView(val) && !(val instanceof DataView)) val = slice(val);
      if (typeof replacer === 'function') val = replacer.call(this, k, val);
      return val;
    }, space);
  };
  JSON.parse = function (s) { return OJSONparse(s); };

  // ---- time ----
  function now() { return native.getTime(); }
  G.getTime = function () { return now(); };
  G.setTime = function (t) { native.setTime(+t); };
  ODate.now = function () { return now() * 1000; };
  G.Date = new PProxy(ODate, {
    construct: function (t, args, nt) { return RConstruct(t, args.length ? args : [now() * 1000], nt); },
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
  function clearT(id) {
    if (arguments.length === 0) { timerCbs = {}; native.timerClear(-1); return; }
    if (id === undefined || id === null) return;
    if (!hasOwn(timerCbs, id)) return;
    delete timerCbs[id];
    native.timerClear(+id);
  }
  G.clearTimeout = function () { return clearT.apply(null, arguments); };
  G.clearInterval = G.clearTimeout;
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
  Serial.prototype.print = function (s) { native.out(devName.get(this), crlf(String(s))); };
  Serial.prototype.println = function (s) { native.out(devName.get(this), crlf(String(s)) + '\r\n'); };
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
  Serial.prototype.toString = function () { return devName.get(this); };
  G.Serial = Serial;
  cfg.devices.forEach(function (n) {
    var d = OObject.create(Serial.prototype);
    devName.set(d, n);
    devices[n] = d;
    G[n] = d;
  });
  function devOf(x) {
    if (x === null) return 'null';
    if (x === undefined) return '';
    var n = devName.get(x);
    if (n) return n;
    return String(x);
  }

  // ---- console ----
  function logArgs(args) {
    var parts = [];
    for (var i = 0; i < args.length; i++) parts.push(fmt(args[i], false));
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
  var E = {};
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
  E.setConsole = function (dev, opts) { native.setConsole(devOf(dev)); };
  E.getConsole = function () { var c = native.getConsole(); return c || undefined; };
  G.E = E;

  // ---- misc globals ----
  G.global = G;
  G.getSerial = function () { return native.getSerial(); };
  G.btoa = function (s) { return native.btoa(toBin(s)); };
  G.atob = function (s) { return native.atob(String(s)); };
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
  function mkFlash() {
    return {
      getPage: function (addr) { var s = native.flashGetPage(+addr); return s ? OJSONparse(s) : undefined; },
      getFree: function () { return OJSONparse(native.flashGetFree()); },
      erasePage: function (addr) {
        if (addr && typeof addr === 'object') addr = addr.addr;
        native.flashErase(+addr);
      },
      write: function (data, addr) { native.flashWrite(toBin(data), +addr); },
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
      write: function (n, data, offset, size) {
        return !!native.stWrite(name(n), toBin(typeof data === 'string' || isView(data) || data instanceof OAB || OArray.isArray(data) ? data : String(data)),
          offset === undefined ? -1 : +offset, size === undefined ? -1 : +size);
      },
      writeJSON: function (n, data) { return !!native.stWrite(name(n), JSON.stringify(data), -1, -1); },
      read: function (n, offset, length) {
        var s = native.stRead(name(n), offset === undefined ? 0 : +offset, length === undefined ? -1 : +length);
        return s === null ? undefined : s;
      },
      readJSON: function (n, noExceptions) {
        var s = native.stRead(name(n), 0, -1);
        if (s === null) return undefined;
        try { return OJSONparse(s); } catch (e) { if (noExceptions) return undefined; throw e; }
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
            return binToAB(native.aes(enc ? 1 : 0, toBin(msg), toBin(key), iv, mode));
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
      c.AES = AES;
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
    else throw new OError('Module ' + n + ' not found');
    modules[n] = m;
    return m;
  };

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
      if (!d) return;
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
      try { consolePrint('=' + fmt(r, true).replace(/\n/g, '\r\n') + '\r\n'); } catch (e) { /* off */ }
      drain();
      return 0;
    },
    uncaught: uncaught
  };

  // ---- finally: remove what the real interpreter does not have ----
  Oeval(cfg.strip);
  return rt;
})
