// The only world the firmware core sees. One binding maps it onto Espruino's API
// (firmware/espruino/binding.ts); tests of the core use an in-memory one.
// Bytes are byte strings (one char per byte), as Espruino's Serial and Flash use them.

export interface FlashRegion {
  pageBytes: number;
  pageCount: number;
  /** smallest write unit: offsets and lengths of writes are multiples of it */
  writeAlign: number;
  read(offset: number, length: number): string;
  /** programs bytes: flash can only clear bits, so the result is old AND new */
  write(offset: number, bytes: string): void;
  erase(page: number): void;
  /** what is wrong with the region on this board ('' when nothing): the image's layout
   * checked against what the interpreter reports (Flash.getFree, Flash.getPage), before
   * anything reads or writes it (an address outside the flash kills the Linux build); found
   * once when the board is bound (a string, not a method: each function object costs
   * interpreter variables for as long as the image runs) */
  problem?: string;
}

export interface SerialLine {
  write(bytes: string): void;
  onData(handler: (bytes: string) => void): void;
}

export interface TamperInput {
  active(): boolean;
  watch(handler: () => void): void;
}

export interface Board {
  /** board-defs id */
  id: string;
  /** Espruino's own board name and interpreter version, as the board reports them */
  hardware: string;
  interpreter: string;
  /** chip serial number (stable per chip) */
  serialNumber: string;
  serial: SerialLine;
  flash: FlashRegion;
  /** seconds since boot */
  uptime(): number;
  random32(): number;
  crc32(bytes: string): number;
  /** SHA-256 of a byte string (digest as byte string): native where the board has it */
  sha256: (bytes: string) => string;
  /** native AES-128-CBC without padding (data a multiple of 16 bytes), or null where the
   * board has no AES: such boards upload plain sealed blocks only, no secure session */
  aesCbc: { encrypt(key: string, iv: string, data: string): string; decrypt(key: string, iv: string, data: string): string } | null;
  /** Ed25519 where the board can afford it (board-defs seal "ed25519"), else null: such
   * boards seal blocks with HMAC-SHA256. Seconds per call on a real board. */
  ed25519: {
    keyPairFromSeed(seed: string): { publicKey: string; secretKey: string };
    sign(message: string, secretKey: string): string;
    /** RFC 8032 known-answer test: null when it passes, else what failed */
    selfTest(): string | null;
  } | null;
  tamper: TamperInput | null;
  /** interpreter variables in use (live, after a garbage collection) and in all, or null
   * where the board cannot tell */
  memory(): { used: number; total: number } | null;
  /** what the board says about the last reset (error flags, reset reason); empty if it says nothing */
  resetFlags: string[];
  reboot(): void;
  /** an on-demand module's exports (firmware/core/modules.ts): Espruino's require of the
   * Storage file of that name; throws when the file is missing */
  load(name: string): any;
  /** forgets a loaded module so its functions can be freed (Modules.removeCached) */
  unload(name: string): void;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}
