/**
 * A stand-in Espruino board for `psd flash` tests: a VirtualBoard whose "firmware" is only
 * Espruino's boot step, offered on a pseudo-terminal with USB-like flow control.
 *
 * - Its REPL is the VirtualBoard's own (echo, `>` prompt, `=value`, print), on the board's
 *   default console, with the board's `process.env` (BOARD, VERSION, CONSOLE, MODULES...):
 *   that is what EspruinoTools talks to.
 * - Storage and Flash are the VirtualBoard's (files in `dir`), so what the flasher writes
 *   with `require("Storage").write(".bootcde", ...)` is kept, and erases are real. On a board
 *   with a code area (board-defs codeArea) Flash.getFree() reports it and it is flash the
 *   flasher erases and writes (blank at start, kept across the stand-in's power cycles); give a
 *   board without `codeArea` to model one whose Flash.getFree() does not report it.
 * - At every power-up and at `load()` it runs `.bootcde` from Storage, as Espruino does; after
 *   `reset()` it starts clean without it (Espruino runs `.bootcde` only at boot and `load()`).
 *   So after the flasher's `load()` the stored image really runs, moves the console off the
 *   data port and answers the framed protocol: a STATUS read-back is real.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getBoard, type BoardDef } from '../board-defs/index.ts';
import { VirtualBoard } from '../kit/vboard/board.ts';
import { exposeBoard, type Exposed } from '../kit/vboard/expose.ts';

/** Marker file that reset() leaves so the next boot skips .bootcde (Storage is the only thing
 * that survives the VirtualBoard's reboot, and reset() and load() both reboot it). */
const NO_BOOT_MARK = '.standin-noboot';

/**
 * Espruino's boot step, as an ES5 "image" for the VirtualBoard: runs `.bootcde` in global
 * scope (indirect eval, as Espruino runs saved code at top level) unless reset() asked not to;
 * pretokenised code read back to source first (the virtual board's hidden \u0275vbSource).
 */
export const BOOT_STUB = `(function () {
  var S = require("Storage");
  var skip = S.read(${JSON.stringify(NO_BOOT_MARK)}) !== undefined;
  if (skip) S.erase(${JSON.stringify(NO_BOOT_MARK)});
  reset = function () { S.write(${JSON.stringify(NO_BOOT_MARK)}, "1"); load(); };
  var code = skip ? undefined : S.read(".bootcde");
  if (code !== undefined) (0, eval)(\u0275vbSource(code));
})();
`;

export interface StandinOptions {
  /** board id or definition (default pico) */
  board?: string | BoardDef;
  /** folder for the flash and Storage files (kept: a restart is a power cycle) */
  dir: string;
  /** symlink to the pty (default dir/tty) */
  ptyLink?: string;
  /** Storage capacity in bytes (default: the board's Storage, board-defs storageBytes: on the
   * Pico its whole saved-code area, 3 x 16 KB, which Espruino does not know the PSD shares;
   * see board-defs/pico.json notes) */
  storageBytes?: number;
  /** bytes handed to the board per event-loop turn (default 128): the flow control that USB
   * gives a real board, which the VirtualBoard's 1 KB receive buffer does not */
  paceBytes?: number;
  /** output of the board's other devices (default: dropped) */
  log?: (s: string) => void;
}

export interface Standin {
  vb: VirtualBoard;
  ptyPath: string;
  tcpUrl: string;
  /** the boots so far (1 after start) */
  boots(): number;
  /** what is stored as .bootcde, if anything */
  bootCode(): string | undefined;
  /** names of the files in Storage */
  storageFiles(): string[];
  close(): Promise<void>;
}

export async function startStandin(opts: StandinOptions): Promise<Standin> {
  const board = typeof opts.board === 'object' ? opts.board : getBoard(opts.board ?? 'pico');
  mkdirSync(opts.dir, { recursive: true });
  const vb = new VirtualBoard({
    board,
    image: BOOT_STUB,
    flashFile: join(opts.dir, 'flash.bin'),
    storageFile: join(opts.dir, 'storage.json'),
    storageBytes: opts.storageBytes ?? (board as { storageBytes?: number }).storageBytes ?? 49152,
    clock: 'real',
    log: opts.log ?? (() => {})
  });
  let boots = 0;
  vb.on('powercycle', () => boots++);
  vb.start();
  boots++;

  // What the host sends waits here and reaches the board a little per turn of the event loop
  // (the board takes at most 256 bytes per turn), so a fast upload never overflows its buffer.
  const pace = opts.paceBytes ?? 128;
  let queue: Buffer[] = [];
  let feeding = false;
  const feed = () => {
    if (!queue.length || !vb.running) {
      feeding = false;
      return;
    }
    let n = 0;
    const parts: Buffer[] = [];
    while (queue.length && n < pace) {
      const b = queue[0];
      const take = Math.min(pace - n, b.length);
      parts.push(b.subarray(0, take));
      n += take;
      if (take === b.length) queue.shift();
      else queue[0] = b.subarray(take);
    }
    vb.hostWrite(Buffer.concat(parts));
    setImmediate(feed);
  };
  const paced = {
    board: vb.board,
    hostWrite: (d: Buffer) => {
      queue.push(Buffer.from(d));
      if (!feeding) {
        feeding = true;
        setImmediate(feed);
      }
    },
    on: vb.on.bind(vb),
    off: vb.off.bind(vb)
  };
  let ex: Exposed;
  try {
    ex = await exposeBoard(paced as unknown as VirtualBoard, { pty: true, ptyLink: opts.ptyLink ?? join(opts.dir, 'tty') });
  } catch (e) {
    vb.stop();
    throw e;
  }
  return {
    vb,
    ptyPath: ex.ptyPath!,
    tcpUrl: ex.tcpUrl!,
    boots: () => boots,
    bootCode: () => {
      const b = vb.storage.read('.bootcde', 0, -1);
      return b ? b.toString('latin1') : undefined;
    },
    storageFiles: () => vb.storage.list().filter((n) => n !== NO_BOOT_MARK),
    close: async () => {
      queue = [];
      await ex.close();
      if (vb.running) vb.stop();
    }
  };
}

// `npx tsx testkit/standin-repl.ts [--board pico] [--dir .psd/standin]`: run one, to try
// `psd flash` without hardware. Prints the pty path; Ctrl-C stops it.
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
  };
  const board = arg('--board', 'pico');
  const s = await startStandin({ board, dir: arg('--dir', `.psd/standin-${board}`), log: (l) => process.stderr.write(l + '\n') });
  console.log(`stand-in Espruino ${board} (REPL until flashed) on ${s.ptyPath}`);
  console.log(`try: psd --port ${s.ptyPath} flash --board ${board}`);
  const stop = async () => {
    await s.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
