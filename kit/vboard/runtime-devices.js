// The virtual board's runtime, part: serial devices, the console, pins and watches, the E
// object and other globals (btoa, atob, encodeURIComponent, process). runtime.js calls it once
// per power-up with its shared internals; see runtime.js.
(function (shared) {
  'use strict';
  var G = shared.G, cfg = shared.cfg, native = shared.native, ES = shared.ES,
    hasOwn = shared.hasOwn, defProp = shared.defProp, isView = shared.isView,
    OJSONparse = shared.OJSONparse, fromCC = shared.fromCC, OError = shared.OError,
    OAB = shared.OAB, OArray = shared.OArray, OObject = shared.OObject, toBin = shared.toBin,
    binToU8 = shared.binToU8, binToAB = shared.binToAB, asString = shared.asString,
    crlf = shared.crlf, consolePrint = shared.consolePrint, typeName = shared.typeName,
    strBytes = shared.strBytes, asFunctionObject = shared.asFunctionObject,
    devName = shared.devName, devices = shared.devices, rxBuf = shared.rxBuf,
    touched = shared.touched;

  // ---- serial devices ----
  function Serial() { throw new OError('Serial objects are built in'); }
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
    shared.watchCbs[id] = { fn: fn, pin: pinObj(pinName(pin)) };
    return id;
  };
  G.clearWatch = function (id) {
    if (arguments.length === 0) { shared.watchCbs = {}; native.watchClear(-1); return; }
    if (id === undefined || id === null) return;
    if (!hasOwn(shared.watchCbs, id)) throw new OError('Unknown Watch ' + id);
    delete shared.watchCbs[id];
    native.watchClear(+id);
  };

  // ---- E ----
  var E = asFunctionObject({});
  E.hwRand = function () { return native.hwRand(); };
  E.CRC32 = function (data) { return native.crc32(toBin(data)); };
  // jswrap_espruino_memoryArea: a string over memory; here only flash (the data region and the
  // code area) is memory
  E.memoryArea = function (addr, len) { return native.memoryArea(+addr, len | 0); };
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
  shared.E = E;

  // ---- misc globals ----
  G.global = G;
  G.getSerial = function () { return native.getSerial(); };
  // jswrap_btoa / jswrap_atob: strings iterate their bytes (UTF-8 ones encoded)
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

})
