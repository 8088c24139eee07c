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
  tamper: { pin: string; activeLevel: number } | null;
  leds: string[];
  /** cumulative records each tier holds: bounded by the board's variables and flash */
  maxRecords: number;
}

export declare var BUILD: BuildInfo;

/** Compile-time flags, so code for crypto a board lacks is removed from its image. */
export declare var HAS_SHA256: boolean;
/** native AES (CBC) in require("crypto"): AEAD and the secure session */
export declare var HAS_AES: boolean;
/** board seals with Ed25519: tweetnacl (Ed25519, X25519) is in the image */
export declare var HAS_ED25519: boolean;
