/**
 * Run the linux image on the real interpreter and offer its Serial1 over TCP and a
 * pseudo-terminal, as `runSim` does for the virtual board (used by `psd sim --real`, the demo
 * with `--real` and the tests' real-interpreter target).
 */
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { exposeBoard } from '../vboard/expose.ts';
import { RealBoard, type Death } from './runner.ts';
import type { EspruinoMemory } from './binary.ts';
import { registerRunning } from '../vboard/running.ts';
import { ImageMissingError } from '../vboard/run.ts';

export interface RunRealOptions {
  /** default dist/firmware/linux.js */
  image?: string;
  /** the working folder (flash file, console log); default a fresh temp folder, removed at close */
  dir?: string;
  memory?: EspruinoMemory;
  binary?: string;
  tcpPort?: number;
  /** default true */
  pty?: boolean;
  ptyLink?: string;
  /** told when the interpreter stops on its own (default: its console's end on stderr) */
  onDeath?: (d: Death) => void;
}

export interface RunningReal {
  board: RealBoard;
  ptyPath?: string;
  tcpUrl: string;
  close(): Promise<void>;
}

export async function runReal(o: RunRealOptions = {}): Promise<RunningReal> {
  const imagePath = o.image ? resolve(o.image) : fileURLToPath(new URL('../../dist/firmware/linux.js', import.meta.url));
  if (!existsSync(imagePath)) throw new ImageMissingError(imagePath, o.image ? 'check --image' : 'build it first: npm run build -- --board linux');
  if (o.dir) mkdirSync(o.dir, { recursive: true });
  const board = new RealBoard({ imagePath, dir: o.dir, memory: o.memory, binary: o.binary });
  board.on(
    'died',
    o.onDeath ??
      ((d: Death) => process.stderr.write(`the interpreter stopped (exit ${d.code ?? d.signal}); its console (${board.consoleLog}):\n${d.consoleTail}\n`))
  );
  try {
    await board.start();
  } catch (e) {
    await board.close();
    throw e;
  }
  let ex;
  try {
    ex = await exposeBoard(board, { pty: o.pty !== false, ptyLink: o.ptyLink, tcpPort: o.tcpPort ?? 0 });
  } catch (e) {
    await board.close();
    throw e;
  }
  // listed by `psd ports` while it runs
  const unregister = registerRunning({ kind: 'real', board: 'linux', pty: ex.ptyPath, tcp: ex.tcpUrl!, dir: board.dir, flashFile: board.flashFile, console: board.consoleLog });
  return {
    board,
    ptyPath: ex.ptyPath,
    tcpUrl: ex.tcpUrl!,
    close: async () => {
      unregister();
      await ex.close();
      await board.close();
    }
  };
}
