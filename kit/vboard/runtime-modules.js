// The virtual board's runtime, part: require() and its modules (Flash, Storage, crypto, modules
// in Storage files, the image's own), the module cache (Modules), and the built-in objects that
// answer typeof with "function". runtime.js calls it once per power-up; see runtime.js.
(function (shared) {
  'use strict';
  var G = shared.G, cfg = shared.cfg, native = shared.native, ES = shared.ES,
    hasOwn = shared.hasOwn, defProp = shared.defProp, isView = shared.isView,
    OJSONparse = shared.OJSONparse, OError = shared.OError, OAB = shared.OAB,
    OArray = shared.OArray, OObject = shared.OObject, toBin = shared.toBin,
    binToU8 = shared.binToU8, binToAB = shared.binToAB, consolePrint = shared.consolePrint,
    typeName = shared.typeName, strBytes = shared.strBytes,
    asFunctionObject = shared.asFunctionObject, modules = shared.modules,
    jsModules = shared.jsModules;

  // ---- modules ----
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
  // code as Espruino's lexer reads it: pretokenised bytes back to source (for what evaluates a
  // Storage file outside require, e.g. the flasher tests' stand-in booting .bootcde)
  // (and each of its top-level evals, transform.ts topLevelEvals, made one of the hidden call below)
  defProp(G, '\u0275vbSource', { value: function (code) { return native.scriptSource(String(code)); } });
  // eval at a script's top level (jswrap_eval in the root scope), of code Espruino's lexer
  // reads: pretokenised bytes back to source, run in the global scope (an indirect eval);
  // eval(undefined) gives undefined. The global eval stays V8's own: inside a function it sees
  // the function's variables, as Espruino's does
  var Oeval = G.eval;
  function topLevelEval(code) {
    if (code === undefined || code === null) return undefined;
    return Oeval(native.plainSource(String(code)));
  }
  defProp(G, '\u0275vbEval', { value: topLevelEval });
  // the boot code's eval of the resident core (board.ts bootSource puts the core itself in the
  // boot script, transform.ts rootCoreSource): true when `code` is the image's core, so its
  // block runs; anything else is evaluated as that eval would
  defProp(G, '\u0275vbRootCore', { value: function (code) {
    if (code !== undefined && code !== null && native.isImageModule('psd.core', String(code))) return true;
    topLevelEval(code);
    return false;
  } });
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
      code = String(code);
      (hasOwn(imageModules, n) && native.isImageModule(n, code) ? imageModules[n] : native.evalModule(n, code))(scope.exports, scope);
      modules[n] = scope.exports;
      jsModules[n] = true;
    }
  });

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

})
