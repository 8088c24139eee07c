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

// The board's functions are made here, at the module's top level, over the module's own
// variables (set once by espruinoBoard), not as closures inside espruinoBoard: on Espruino a
// function made inside another keeps a copy of both scopes, 3 variables more for every one of
// them for as long as the image runs (src/jsparse.c jspeiGetScopesAsVar; measured with
// E.dumpVariables: the binding's 15 closures cost 45 variables more than these).
var port: any, Flash: any, base = 0, pageBytes = 0, crypto: any = null, tamperPin: any = null, tamperLevel = 0;

function serialWrite(bytes: string) {
  port.write(bytes);
}
function serialOnData(handler: (bytes: string) => void) {
  port.on('data', handler);
}
function flashRead(offset: number, length: number) {
  // Flash.read(0) is undefined on Espruino, and E.toString(undefined) throws
  if (length <= 0) return '';
  return E.toString(Flash.read(length, base + offset));
}
function flashWrite(offset: number, bytes: string) {
  Flash.write(E.toUint8Array(bytes), base + offset);
}
function flashErase(page: number) {
  Flash.erasePage(base + page * pageBytes);
}
function random32() {
  return E.hwRand() >>> 0;
}
function crc32(bytes: string) {
  return E.CRC32(bytes) >>> 0;
}
function nativeSha256(bytes: string) {
  return E.toString(new Uint8Array(crypto.SHA256(bytes)));
}
// Espruino's AES takes strings or buffers and returns an ArrayBuffer; CBC without padding
// (mbedtls refuses a length that is not a multiple of 16, which aead.ts never passes).
function aesEncrypt(key: string, iv: string, data: string) {
  return E.toString(new Uint8Array(crypto.AES.encrypt(data, key, { iv: iv, mode: 'CBC' })));
}
function aesDecrypt(key: string, iv: string, data: string) {
  return E.toString(new Uint8Array(crypto.AES.decrypt(data, key, { iv: iv, mode: 'CBC' })));
}
function tamperActive() {
  return digitalRead(tamperPin) === tamperLevel;
}
function tamperWatch(handler: () => void) {
  setWatch(handler, tamperPin, { repeat: true, edge: tamperLevel ? 'rising' : 'falling' });
}
function memory() {
  // after a garbage collection: what is live, not what is left to collect (a peak of
  // garbage is no peak), and what the virtual board's memory model counts
  var m = process.memory(true);
  return m && m.total ? { used: m.usage, total: m.total } : null;
}
function reboot() {
  // The Linux build's E.reboot() exits with status 1 and prints on the (moved) console;
  // say it on stdout so the runner (kit/real/runner.ts) restarts it as a board would.
  if (process.env.BOARD === 'LINUX') USB.write(REBOOT_NOTICE);
  E.reboot();
}
// an on-demand module is a Storage file, or a file of the code area on boards that have
// one: evaluated from flash either way (its function bodies stay there), its exports cached
// in Modules until removeCached
function load(name: string) {
  return CODE_AREA ? loadFromCodeArea(CODE_AREA, name) : require(name);
}
// with it go the chunks on-demand modules share (tools/build.ts names them psd.x*)
function unload(name: string) {
  Modules.removeCached(name);
  var cached = Modules.getCached();
  for (var i = 0; i < cached.length; i++) if (cached[i].substr(0, 5) === 'psd.x') Modules.removeCached(cached[i]);
}

export function espruinoBoard(build: BuildInfo): Board {
  /** What is wrong with the statistics flash on this board ('' when nothing): board.ts
   * FlashRegion.problem. Made here, inside the one call that needs it: a function of the
   * module would hold its variables for as long as the image runs. */
  function flashProblem(Flash: any): string {
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

  port = build.dataPort === 'USB' ? USB : build.dataPort === 'Bluetooth' ? Bluetooth : Serial1;
  if (port === Serial1) Serial1.setup(115200, build.serialPath ? { path: build.serialPath } : {});
  // The REPL on the data port would hand anyone the keys: park the console on a loopback
  // device, forced so that plugging USB in does not bring it back.
  LoopbackA.setConsole(true);
  if (HAS_ED25519) naclUseRandom(random32);
  var resetFlags: string[] = E.getErrorFlags() || [];

  Flash = require('Flash');
  base = build.flash.dataStart;
  pageBytes = build.flash.pageBytes;
  crypto = HAS_SHA256 || HAS_AES ? require('crypto') : null;
  var tamper = build.tamper;
  if (tamper) {
    tamperPin = tamper.pin;
    tamperLevel = tamper.activeLevel;
  }

  return {
    id: build.board,
    hardware: process.env.BOARD,
    interpreter: process.env.VERSION,
    serialNumber: getSerial(),
    serial: { write: serialWrite, onData: serialOnData },
    flash: {
      pageBytes: pageBytes,
      pageCount: build.flash.dataPages,
      writeAlign: build.flash.writeAlignBytes,
      read: flashRead,
      write: flashWrite,
      erase: flashErase,
      problem: flashProblem(Flash)
    },
    // Espruino's natives themselves where they fit the interface as they are: a function
    // costs some 5 variables for as long as the image runs, a native reference one or two
    uptime: getTime,
    random32: random32,
    crc32: crc32,
    sha256: HAS_SHA256 ? nativeSha256 : sha256,
    aesCbc: HAS_AES ? { encrypt: aesEncrypt, decrypt: aesDecrypt } : null,
    ed25519: HAS_ED25519 ? { keyPairFromSeed: ed25519KeyPair, sign: ed25519Sign, selfTest: ed25519SelfTest } : null,
    tamper: tamper ? { active: tamperActive, watch: tamperWatch } : null,
    memory: memory,
    resetFlags: resetFlags,
    reboot: reboot,
    load: load,
    unload: unload,
    setTimer: setTimeout,
    clearTimer: clearTimeout as any
  };
}
