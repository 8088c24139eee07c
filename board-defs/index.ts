/**
 * Board definitions for the PSD firmware: one JSON file per board in this folder.
 * Facts come from Espruino's board files and the Espruino 2v29 measurements; each file's
 * `notes` explains the flash layout choices and `sources` says where the numbers come from.
 */
import { readFileSync } from 'node:fs';

export type SerialDevice = 'USB' | 'Serial1' | 'Bluetooth';
export type ConsoleDevice = 'USB' | 'Serial1' | 'Bluetooth' | 'Terminal' | 'stdio';
export type NativeCrypto = 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512' | 'PBKDF2' | 'AES' | 'AES-CCM';

export interface BoardDef {
  /** short id used on the command line, e.g. "pico" */
  id: string;
  name: string;
  /** BOARD name used by Espruino / EspruinoTools, e.g. "PICO_R1_3" */
  espruinoBoard: string;
  /** bytes of Espruino's Storage on this board in all (require("Storage").getStats().totalBytes:
   * the board file's saved-code area), statistics pages inside it included */
  storageBytes?: number;
  mcu: string;
  /** 0 for the Linux build (host) */
  clockMHz: number;
  /** JS variables available (nominal for the Linux build) */
  variables: number;
  /** 0 for the Linux build (host) */
  ramKB: number;
  flashKB: number;
  image: {
    /** max bytes (Storage's file headers included) of the image's Storage files this board's
     * Storage should hold, leaving room; with a code area, only the boot code is in Storage */
    budgetBytes: number;
  };
  flash: {
    /** address (for require("Flash")) of the PSD statistics region */
    dataStart: number;
    /** erase page size of that region */
    pageBytes: number;
    /** number of erase pages in the region */
    dataPages: number;
    /** true when the region is part of Storage's own flash (Espruino's saved-code area, which
     * Flash.getFree() does not list): the firmware then checks its pages, not Flash.getFree() */
    inStorage?: boolean;
    writeAlignBytes: number;
    eraseCycles: number;
  };
  /** Where the code lives on boards whose Storage cannot hold it: free flash that Espruino's
   * Flash.getFree() hands out, written only by `psd flash` (never erased at run time). Storage
   * then keeps only the boot code (a loader); the resident core and the on-demand modules are a
   * code-area image there (kit/flash/code-area.ts). Absent: every file is in Storage. */
  codeArea?: {
    /** absolute address of the area (for require("Flash") and E.memoryArea) */
    addr: number;
    /** bytes of the area */
    bytes: number;
    /** erase page size inside it */
    pageBytes: number;
    /** where the numbers come from (Flash.getFree() on that board) */
    source: string;
  };
  /** serial device carrying our protocol */
  dataPort: SerialDevice;
  consoleDefault: ConsoleDevice;
  serial: { baud: number; rx: string | null; tx: string | null };
  /** crypto libraries built into the board's require("crypto") */
  nativeCrypto: NativeCrypto[];
  /** default sealing: hmac on small boards, ed25519 only where variables >= 12000 */
  seal: 'hmac' | 'ed25519';
  /** which published tweetnacl build an ed25519 board carries: 'fast' (nacl-fast.js, the one
   * the Espruino timings were measured with, ~32 KB) or 'compact' (nacl.js, ~19 KB, slower;
   * not timed on Espruino). Default fast. */
  naclBuild?: 'fast' | 'compact';
  tamper: { pin: string; activeLevel: 0 | 1 } | null;
  leds: string[];
  notes: string;
  sources: string[];
}

/** Board ids in a stable order (one JSON file each). */
export const BOARD_IDS = ['pico', 'wifi', 'original', 'puckjs', 'puckjs-lab', 'mdbt42q', 'mdbt42q-lab', 'banglejs2', 'esp32', 'linux'] as const;

export const NATIVE_CRYPTO_NAMES: readonly NativeCrypto[] = ['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'PBKDF2', 'AES', 'AES-CCM'];

let cache: BoardDef[] | null = null;

/** All board definitions, in BOARD_IDS order. */
export function loadBoards(): BoardDef[] {
  if (!cache) {
    cache = BOARD_IDS.map((id) => {
      const def = JSON.parse(readFileSync(new URL(`./${id}.json`, import.meta.url), 'utf8')) as BoardDef;
      if (def.id !== id) throw new Error(`board-defs/${id}.json has id "${def.id}"`);
      return def;
    });
  }
  // hand out copies so callers cannot alter the cache
  return cache.map((b) => structuredClone(b));
}

/** One board definition; throws an Error listing the valid ids when `id` is unknown. */
export function getBoard(id: string): BoardDef {
  const b = loadBoards().find((x) => x.id === id);
  if (!b) throw new Error(`unknown board "${id}"; valid boards: ${BOARD_IDS.join(', ')}`);
  return b;
}
