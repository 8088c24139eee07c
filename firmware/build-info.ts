// Filled in by the build (rollup replaces this module per board); see tools/build.js.
export interface BuildInfo {
  board: string;
  firmwareVersion: string;
  buildHash: string;
  dataPort: string;
  serialPath: string | null;
  flash: { dataStart: number; pageBytes: number; dataPages: number; writeAlignBytes: number };
  nativeCrypto: string[];
  tamper: { pin: string; activeLevel: number } | null;
  leds: string[];
}

export declare var BUILD: BuildInfo;
