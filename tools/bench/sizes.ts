// Image bytes per board against its budget, beside the statistics flash the PSD reports free
// after booting that image on the virtual board (read from dist/: `npm run bench` builds first).
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoards, type BoardDef } from '../../board-defs/index.ts';
import { DIST, storageBytes } from '../build.ts';
import { readImage } from '../../kit/flash/image.ts';
import { VirtualBoard } from '../../kit/vboard/board.ts';
import { FrameDecoder, encodeFrame, RESPONSE_FLAG } from '../../protocol/frame.ts';
import { Command } from '../../protocol/commands.ts';
import { crc32 } from '../../protocol/crc32.ts';
import { table, fmt, type Bench } from './common.ts';

/** Boots the image and asks STATUS; null when the board does not answer within 2 s. */
async function reportedStorage(board: BoardDef, image: string, dir: string): Promise<{ free: number; total: number } | null> {
  const vb = new VirtualBoard({ board, imagePath: image, flashFile: join(dir, board.id + '.flash'), clock: 'real', log: () => {} });
  try {
    const answer = new Promise<any>((resolve) => {
      const decoder = new FrameDecoder(crc32, (f) => {
        if (f.type === (Command.STATUS | RESPONSE_FLAG)) resolve(JSON.parse(f.payload));
      });
      vb.on('hostData', (b: Buffer) => decoder.push(b.toString('latin1')));
      setTimeout(() => resolve(null), 2000).unref();
    });
    vb.start();
    vb.hostWrite(Buffer.from(encodeFrame(Command.STATUS, 1, '{}', crc32), 'latin1'));
    const s = await answer;
    return s && s.storage ? { free: s.storage.free, total: s.storage.total } : null;
  } catch {
    return null;
  } finally {
    if (vb.running) vb.stop();
  }
}

export const sizes: Bench = {
  id: 'sizes',
  title: 'Firmware image per board against its budget, and the statistics flash beside it',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'psd-bench-sizes-'));
    const rows: (string | number)[][] = [];
    try {
      for (const b of loadBoards()) {
        const file = join(DIST, b.id + '.js');
        const region = b.flash.dataPages * b.flash.pageBytes;
        if (!existsSync(file)) {
          rows.push([b.id, 'not built', '', '', fmt(b.image.budgetBytes), '', '', fmt(region), '']);
          continue;
        }
        const image = readImage(file);
        const files = image.files;
        const resident = files.filter((f) => f.name === '.bootcde' || f.name === 'psd.core').reduce((n, f) => n + Buffer.byteLength(f.code, 'latin1'), 0);
        const onDemand = files.reduce((n, f) => n + Buffer.byteLength(f.code, 'latin1'), 0) - resident;
        const bytes = storageBytes(image.storageFiles.map((f) => f.code));
        const used = (100 * bytes) / b.image.budgetBytes;
        const st = await reportedStorage(b, file, dir);
        rows.push([
          b.id,
          fmt(resident),
          fmt(onDemand),
          fmt(bytes),
          fmt(b.image.budgetBytes),
          fmt(used, 1) + '%' + (used > 100 ? ' OVER' : ''),
          b.codeArea ? `code area 0x${b.codeArea.addr.toString(16)}: ${fmt(image.codeArea!.bytes.length)} of ${fmt(b.codeArea.bytes)}` : 'Storage',
          `${b.flash.dataPages} x ${fmt(b.flash.pageBytes)} = ${fmt(region)}`,
          st ? fmt(st.free) : 'no answer'
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return (
      table(['board', 'resident B', 'on demand B', 'in Storage B', 'budget B', 'used', 'code in', 'stats flash B (pages x bytes)', 'free B (STATUS)'], rows) +
      '\n"resident": boot code and psd.core; "on demand": the modules loaded for a request (firmware/core/modules.ts); "in Storage": the Storage files (all, or the boot code alone on a board with a code area) with Storage\'s 32-byte headers; "code in": Storage, or the code area (board-defs codeArea) and the bytes of its code-area image.' +
      '\n"free B" is what the PSD reports after a fresh boot of that image on the virtual board.'
    );
  }
};
