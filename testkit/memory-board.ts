// An in-memory Board for testing the firmware core in Node (the OpenSK way: the core is
// written against the board interface, and tests give it a test environment).
import nodeCrypto from 'node:crypto';
import { crc32 } from '../protocol/crc32.ts';
import { ed25519KeyPair, ed25519Sign } from '../firmware/core/crypto/nacl.ts';
import { ed25519SelfTest } from '../firmware/core/crypto/selftest.ts';
import type { Board } from '../firmware/board.ts';
import { ON_DEMAND } from './on-demand.ts';
import { NorFlash } from '../kit/vboard/flash.ts';

export interface MemoryBoard extends Board {
  /** bytes the firmware wrote to the serial line */
  sent: string[];
  /** deliver bytes to the firmware as the serial line would */
  receive(bytes: string): void;
  flashBytes: Uint8Array;
  /** the flash chip (kit/vboard/flash.ts NOR physics; arm a power cut on it) */
  flash: NorFlash;
  reboots: number;
  clock: { ms: number };
}

/** AES-128-CBC without padding, as Espruino's mbedtls does it (throws unless a multiple of 16). */
function aesCbc(encrypt: boolean) {
  return (key: string, iv: string, data: string): string => {
    if (data.length % 16) throw new Error('AES-CBC: data length must be a multiple of 16');
    const k = Buffer.from(key, 'latin1');
    const v = Buffer.from(iv, 'latin1');
    const c = encrypt ? nodeCrypto.createCipheriv('aes-128-cbc', k, v) : nodeCrypto.createDecipheriv('aes-128-cbc', k, v);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(Buffer.from(data, 'latin1')), c.final()]).toString('latin1');
  };
}

/** `aes: false` models a board without native AES (MDBT42Q, Original): aesCbc is null. */
/** `ed25519: true` models an Ed25519 board (ESP32, Bangle.js 2): blocks are signed. */
/** `flash`: the chip to use (e.g. the same chip after a power cut: `flash.reboot()`). */
export function memoryBoard(opts: { pageBytes?: number; pageCount?: number; sha256?: boolean; aes?: boolean; ed25519?: boolean; flash?: NorFlash } = {}): MemoryBoard {
  const flash = opts.flash ?? new NorFlash({ pageBytes: opts.pageBytes ?? 4096, pageCount: opts.pageCount ?? 8, writeAlign: 4 });
  const flashBytes = flash.bytes;
  let handler: ((b: string) => void) | null = null;
  const clock = { ms: Date.UTC(2026, 10, 24, 9, 0, 0) };
  const bootMs = clock.ms;
  const board: MemoryBoard = {
    id: 'memory',
    hardware: 'MEMORY',
    interpreter: 'node',
    serialNumber: '0001',
    sent: [],
    flashBytes,
    reboots: 0,
    clock,
    receive(bytes) {
      handler!(bytes);
    },
    serial: {
      write(bytes) {
        board.sent.push(bytes);
      },
      onData(h) {
        handler = h;
      }
    },
    flash,
    // the on-demand modules as the sources themselves (the image loads them from Storage)
    load(name) {
      const m = ON_DEMAND[name];
      if (!m) throw new Error(`Module "${name}" not found`);
      return m;
    },
    unload() {},
    uptime: () => (clock.ms - bootMs) / 1000,
    random32: () => nodeCrypto.randomBytes(4).readUInt32BE(0),
    crc32,
    sha256: (b) => nodeCrypto.createHash('sha256').update(Buffer.from(b, 'latin1')).digest().toString('latin1'),
    aesCbc: opts.aes === false ? null : { encrypt: aesCbc(true), decrypt: aesCbc(false) },
    ed25519: opts.ed25519 ? { keyPairFromSeed: ed25519KeyPair, sign: ed25519Sign, selfTest: ed25519SelfTest } : null,
    tamper: null,
    memory: () => null,
    resetFlags: [],
    reboot() {
      board.reboots++;
    },
    setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
    clearTimer: (h) => clearTimeout(h as NodeJS.Timeout)
  };
  return board;
}
