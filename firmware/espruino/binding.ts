// The one place that touches Espruino's globals: it binds the board interface to them.
import { Board } from '../board.ts';
import { BuildInfo, HAS_SHA256, HAS_AES, HAS_ED25519, CODE_AREA, STATS_IN_STORAGE } from '../build-info.ts';
import { loadFromCodeArea } from './code-area.ts';
import { sha256 } from '../../protocol/sha256.ts';
import { ed25519KeyPair, ed25519Sign, naclUseRandom, ed25519SelfTest } from '../core/crypto/nacl.ts';

declare var Modules: any, USB: any, Serial1: any, Bluetooth: any, LoopbackA: any, E: any, getTime: () => number, getSerial: () => string, process: any;
declare function digitalRead(pin: any): number;
declare function setWatch(fn: () => void, pin: any, opts: any): unknown;
declare var global: any;

/** What the linux image prints on stdout before E.reboot() (kit/real/runner.ts looks for it). */
export var REBOOT_NOTICE = '\r\nPSD: reboot\r\n';

function dataPort(build: BuildInfo): any {
  if (build.dataPort === 'USB') return USB;
  if (build.dataPort === 'Bluetooth') return Bluetooth;
  return Serial1;
}

/** What is wrong with the statistics flash on this board ('' when nothing): board.ts
 * FlashRegion.problem. Called once, at binding (terser inlines it there). */
function flashProblem(build: BuildInfo, Flash: any): string {
  var base = build.flash.dataStart;
  var pageBytes = build.flash.pageBytes;
  var end = base + pageBytes * build.flash.dataPages;
  var free = Flash.getFree() || [];
  var inside = false;
  for (var i = 0; i < free.length; i++) if (base >= free[i].addr && end <= free[i].addr + free[i].length) inside = true;
  // Storage's own flash (saved code) is never listed by Flash.getFree(): its pages are checked below
  if (!inside && !STATS_IN_STORAGE) return 'statistics flash 0x' + base.toString(16) + '-0x' + end.toString(16) + ' is not free flash here (Flash.getFree: ' + JSON.stringify(free) + ')';
  for (var a = base; a < end; a += pageBytes) {
    var p = Flash.getPage(a);
    if (!p || p.addr !== a || p.length !== pageBytes) return 'Flash.getPage(0x' + a.toString(16) + ') is ' + JSON.stringify(p) + ', the image expects pages of ' + pageBytes + ' bytes';
  }
  return '';
}

export function espruinoBoard(build: BuildInfo): Board {
  var port = dataPort(build);
  if (port === Serial1) Serial1.setup(115200, build.serialPath ? { path: build.serialPath } : {});
  // The REPL on the data port would hand anyone the keys: park the console on a loopback
  // device, forced so that plugging USB in does not bring it back.
  LoopbackA.setConsole(true);
  if (HAS_ED25519)
    naclUseRandom(function () {
      return E.hwRand() >>> 0;
    });
  var resetFlags: string[] = E.getErrorFlags() || [];

  var Flash = require('Flash');
  var base = build.flash.dataStart;
  var pageBytes = build.flash.pageBytes;
  var crypto = HAS_SHA256 || HAS_AES ? require('crypto') : null;
  var tamper = build.tamper;

  return {
    id: build.board,
    hardware: process.env.BOARD,
    interpreter: process.env.VERSION,
    serialNumber: getSerial(),
    serial: {
      write: function (bytes) {
        port.write(bytes);
      },
      onData: function (handler) {
        port.on('data', handler);
      }
    },
    flash: {
      pageBytes: pageBytes,
      pageCount: build.flash.dataPages,
      writeAlign: build.flash.writeAlignBytes,
      read: function (offset, length) {
        // Flash.read(0) is undefined on Espruino, and E.toString(undefined) throws
        if (length <= 0) return '';
        return E.toString(Flash.read(length, base + offset));
      },
      write: function (offset, bytes) {
        Flash.write(E.toUint8Array(bytes), base + offset);
      },
      erase: function (page) {
        Flash.erasePage(base + page * pageBytes);
      },
      problem: flashProblem(build, Flash)
    },
    // Espruino's natives themselves where they fit the interface as they are: a closure over
    // one costs some 7 variables for as long as the image runs, a native reference one or two
    uptime: getTime,
    random32: function () {
      return E.hwRand() >>> 0;
    },
    crc32: function (bytes) {
      return E.CRC32(bytes) >>> 0;
    },
    sha256: HAS_SHA256
        ? function (bytes) {
            return E.toString(new Uint8Array(crypto.SHA256(bytes)));
          }
        : sha256,
    // Espruino's AES takes strings or buffers and returns an ArrayBuffer; CBC without padding
    // (mbedtls refuses a length that is not a multiple of 16, which aead.ts never passes).
    aesCbc: HAS_AES
      ? {
          encrypt: function (key, iv, data) {
            return E.toString(new Uint8Array(crypto.AES.encrypt(data, key, { iv: iv, mode: 'CBC' })));
          },
          decrypt: function (key, iv, data) {
            return E.toString(new Uint8Array(crypto.AES.decrypt(data, key, { iv: iv, mode: 'CBC' })));
          }
        }
      : null,
    ed25519: HAS_ED25519 ? { keyPairFromSeed: ed25519KeyPair, sign: ed25519Sign, selfTest: ed25519SelfTest } : null,
    tamper: tamper
      ? {
          active: function () {
            return digitalRead(tamper!.pin) === tamper!.activeLevel;
          },
          watch: function (handler) {
            setWatch(handler, tamper!.pin, { repeat: true, edge: tamper!.activeLevel ? 'rising' : 'falling' });
          }
        }
      : null,
    memory: function () {
      // after a garbage collection: what is live, not what is left to collect (a peak of
      // garbage is no peak), and what the virtual board's memory model counts
      var m = process.memory(true);
      return m && m.total ? { used: m.usage, total: m.total } : null;
    },
    resetFlags: resetFlags,
    reboot: function () {
      // The Linux build's E.reboot() exits with status 1 and prints on the (moved) console;
      // say it on stdout so the runner (kit/real/runner.ts) restarts it as a board would.
      if (process.env.BOARD === 'LINUX') USB.write(REBOOT_NOTICE);
      E.reboot();
    },
    // an on-demand module is a Storage file, or a file of the code area on boards that have
    // one: evaluated from flash either way (its function bodies stay there), its exports cached
    // in Modules until removeCached
    load: function (name) {
      return CODE_AREA ? loadFromCodeArea(CODE_AREA, name) : require(name);
    },
    // with it go the chunks on-demand modules share (tools/build.ts names them psd.x*)
    unload: function (name) {
      Modules.removeCached(name);
      var cached = Modules.getCached();
      for (var i = 0; i < cached.length; i++) if (cached[i].substr(0, 5) === 'psd.x') Modules.removeCached(cached[i]);
    },
    setTimer: setTimeout,
    clearTimer: clearTimeout as any
  };
}
