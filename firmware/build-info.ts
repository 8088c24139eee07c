// Filled in by the build (rollup replaces this module per board); see tools/build.js.
export interface BuildInfo {
  board: string;
  firmwareVersion: string;
  buildHash: string;
  dataPort: string;
  serialPath: string | null;
  flash: { dataStart: number; pageBytes: number; dataPages: number; writeAlignBytes: number };
  nativeCrypto: string[];
  /** how blocks are sealed: 'hmac' (HMAC-SHA256) or 'ed25519' */
  seal: string;
  /** tweetnacl build on ed25519 boards: 'fast' or 'compact' (board-defs naclBuild) */
  naclBuild?: string;
  tamper: { pin: string; activeLevel: number } | null;
  leds: string[];
  /** cumulative records each tier holds: bounded by the board's variables and flash */
  maxRecords: number;
}

/** This build's facts, a new object per call: kept, the object would hold ~44 variables of the
 * resident core for as long as the board runs (its fields' names are long), and they are read
 * at boot and by STATUS only. */
export declare function buildInfo(): BuildInfo;

/** Compile-time flags, so code for crypto a board lacks is removed from its image. The
 * build replaces this module per board; the values here are the host's, for the core's
 * tests in Node (where the test board says what it has). */
export var HAS_SHA256: boolean = true;
/** native AES (CBC) in require("crypto"): AEAD and the secure session */
export var HAS_AES: boolean = true;
/** board seals with Ed25519: tweetnacl (Ed25519, X25519) is in the image */
export var HAS_ED25519: boolean = false;
/** address of the board's code area (board-defs codeArea), where the on-demand modules are;
 * 0: they are Storage files */
export var CODE_AREA: number = 0;
/** the statistics region is part of Storage's own flash (board-defs flash.inStorage), which
 * Flash.getFree() does not list */
export var STATS_IN_STORAGE: boolean = false;
