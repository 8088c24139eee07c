// The facts a firmware image is built with (firmware/build-info.ts buildInfo()): what tools/build.ts
// bakes into each image, and what the test harness hands the core when it runs it unbuilt.
import { readFileSync } from 'node:fs';
import type { BoardDef } from '../board-defs/index.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
/** What the build hashes in place of the hash (kit/flash/image.ts checks it the same way). */
export const HASH_PLACEHOLDER = '@@BUILD_HASH@@';

/** The facts an image is built with. `profile`: another board whose features (seal, crypto
 * the image uses, code split) and table sizes a linux image takes, so that the real
 * interpreter with that board's variables measures that board (flash layout and natives
 * stay the linux board's: they are the binary's). */
export function buildInfoFor(board: BoardDef, serialPath: string | null, profile: BoardDef = board) {
  return {
    board: board.id,
    profile: profile.id,
    firmwareVersion: pkg.version,
    buildHash: HASH_PLACEHOLDER,
    dataPort: board.dataPort,
    serialPath,
    flash: {
      dataStart: board.flash.dataStart,
      pageBytes: board.flash.pageBytes,
      dataPages: board.flash.dataPages,
      writeAlignBytes: board.flash.writeAlignBytes
    },
    // the code area is the board's flash (a linux image with a profile keeps its code in
    // Storage); the build makes it the constant CODE_AREA, not a build info property
    codeArea: board.codeArea ? { addr: board.codeArea.addr, bytes: board.codeArea.bytes } : null,
    // the statistics in Storage's own flash, which Flash.getFree() does not list (STATS_IN_STORAGE)
    statsInStorage: !!board.flash.inStorage,
    nativeCrypto: board.nativeCrypto.filter((c) => profile.nativeCrypto.includes(c)),
    seal: profile.seal,
    naclBuild: profile.naclBuild ?? 'fast',
    tamper: board.tamper,
    leds: board.leds,
    maxRecords: profile === board ? maxRecords(board) : Math.min(maxRecords(board), maxRecords(profile))
  };
}

/** Records per tier: as many as the board's variables hold through the extraction of a full
 * table, and a checkpoint of all records must fit a third of the statistics flash (two
 * checkpoints are kept writable). Variables: measured on Espruino 2v29's 2,630-variable Linux
 * build (test/real-memory-budget.test.ts, 2026-12-01): some 1,500-1,600 in use after boot and
 * about 3.6 more per record at the peak of extracting the table; with variables / 14 (187
 * records) the Puck.js's image ran out of variables at 175-180 records and stopped answering.
 * (variables - 2,100) / 4 leaves the peak some 7 % below the total. */
export function maxRecords(board: BoardDef): number {
  const byVariables = Math.floor((board.variables - 2100) / 4);
  const byFlash = Math.floor(((board.flash.pageBytes * board.flash.dataPages) / 3 - 1024) / 24);
  return Math.min(480, byVariables, byFlash);
}
