import { fileURLToPath } from 'node:url';
/**
 * Run a built firmware image on the virtual board and offer its data port over TCP and a
 * pseudo-terminal (used by `psd sim`). The flash file is locked while the board runs (a
 * second board on it is refused), the board's own console output (what it prints on devices
 * other than the data port) goes to a file beside the flash file, and the run is listed by
 * `psd ports` (kit/vboard/running.ts).
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { getBoard } from '../../board-defs/index.ts';
import { VirtualBoard } from './board.ts';
import { exposeBoard } from './expose.ts';
import { lockFlashFile, registerRunning } from './running.ts';

export interface RunSimOptions {
  board: string;
  /** default dist/firmware/<board>.js */
  image?: string;
  /** default .psd/<board>.flash */
  flashFile?: string;
  tcpPort?: number;
  /** default true */
  pty?: boolean;
  ptyLink?: string;
  /** output to the console and other devices (default: to stderr); it is kept in consoleLog too */
  log?: (s: string) => void;
}

export interface RunningSim {
  vb: VirtualBoard;
  ptyPath?: string;
  tcpUrl: string;
  flashFile: string;
  /** the board's console output, kept across runs (`psd sim --console` shows it) */
  consoleLog: string;
  close(): Promise<void>;
}

/** The file where a virtual board on this flash file keeps its console output. */
export function consoleLogFor(flashFile: string): string {
  return resolve(flashFile).replace(/\.flash$/, '') + '.console.log';
}

/** The image to run is not there (not built yet, or a wrong --image): nothing was started. */
export class ImageMissingError extends Error {
  constructor(public imagePath: string, public hint: string) {
    super(`${imagePath} does not exist`);
  }
}

export async function runSim(o: RunSimOptions): Promise<RunningSim> {
  const board = getBoard(o.board);
  // the built image lives in the project, wherever `psd sim` is started from
  const imagePath = o.image ? resolve(o.image) : fileURLToPath(new URL(`../../dist/firmware/${board.id}.js`, import.meta.url));
  // before the lock and the console's power-up line: no board powers up without an image
  if (!existsSync(imagePath)) throw new ImageMissingError(imagePath, o.image ? 'check --image' : `build it first: npm run build -- --board ${board.id}`);
  const flashFile = resolve(o.flashFile ?? `.psd/${board.id}.flash`);
  mkdirSync(dirname(flashFile), { recursive: true });
  const release = lockFlashFile(flashFile);
  const consoleLog = consoleLogFor(flashFile);
  const echo = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const log = (s: string) => {
    try {
      appendFileSync(consoleLog, `${new Date().toISOString()} ${s}\n`);
    } catch {
      /* a full disk must not stop the board */
    }
    echo(s);
  };
  let vb: VirtualBoard;
  let ex;
  try {
    appendFileSync(consoleLog, `${new Date().toISOString()} [sim] power-up of ${board.id} (${imagePath}), process ${process.pid}\n`);
    vb = new VirtualBoard({ board, imagePath, flashFile, clock: 'real', log });
    vb.start();
  } catch (e) {
    release();
    throw e;
  }
  try {
    ex = await exposeBoard(vb, { pty: o.pty !== false, ptyLink: o.ptyLink, tcpPort: o.tcpPort ?? 0 });
  } catch (e) {
    // nothing may keep running (the board's timers would keep the process alive)
    if (vb.running) vb.stop();
    release();
    throw e;
  }
  const unregister = registerRunning({ kind: 'virtual', board: board.id, pty: ex.ptyPath, tcp: ex.tcpUrl!, flashFile, console: consoleLog });
  return {
    vb,
    ptyPath: ex.ptyPath,
    tcpUrl: ex.tcpUrl!,
    flashFile,
    consoleLog,
    close: async () => {
      unregister();
      await ex.close();
      if (vb.running) vb.stop();
      appendFileSync(consoleLog, `${new Date().toISOString()} [sim] stopped\n`);
      release();
    }
  };
}
