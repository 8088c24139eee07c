import { fileURLToPath } from 'node:url';
/**
 * Run a built firmware image on the virtual board and offer its data port over TCP and a
 * pseudo-terminal (used by `psd sim`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { getBoard } from '../../board-defs/index.ts';
import { VirtualBoard } from './board.ts';
import { exposeBoard } from './expose.ts';

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
  /** output to the console and other devices (default: to stderr) */
  log?: (s: string) => void;
}

export interface RunningSim {
  vb: VirtualBoard;
  ptyPath?: string;
  tcpUrl: string;
  flashFile: string;
  close(): Promise<void>;
}

export async function runSim(o: RunSimOptions): Promise<RunningSim> {
  const board = getBoard(o.board);
  // the built image lives in the project, wherever `psd sim` is started from
  const imagePath = o.image ? resolve(o.image) : fileURLToPath(new URL(`../../dist/firmware/${board.id}.js`, import.meta.url));
  const flashFile = resolve(o.flashFile ?? `.psd/${board.id}.flash`);
  mkdirSync(dirname(flashFile), { recursive: true });
  const vb = new VirtualBoard({
    board,
    imagePath,
    flashFile,
    clock: 'real',
    log: o.log ?? ((s) => process.stderr.write(s + '\n'))
  });
  vb.start();
  const ex = await exposeBoard(vb, { pty: o.pty !== false, ptyLink: o.ptyLink, tcpPort: o.tcpPort ?? 0 });
  return {
    vb,
    ptyPath: ex.ptyPath,
    tcpUrl: ex.tcpUrl!,
    flashFile,
    close: async () => {
      await ex.close();
      if (vb.running) vb.stop();
    }
  };
}
