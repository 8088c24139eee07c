// `psd flash`: write a built firmware image to a real board (the work is in host-bridge/flasher.ts; image facts in kit/flash/).
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { keyValues } from '../kit/output.ts';
import type { FlashReport } from './flasher.ts';

interface Globals {
  port?: string;
  json?: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`not a positive integer: ${v}`);
  return n;
}

export function formatFlash(r: FlashReport): string {
  const pairs: [string, unknown][] = [
    ['board', `${r.board}${r.espruino ? ` (${r.espruino.board}, Espruino ${r.espruino.version})` : ''} on ${r.port}`],
    ['image', `${r.image.file}, ${r.image.bytes} bytes, firmware ${r.image.firmwareVersion ?? '?'} build ${r.image.buildHash}`]
  ];
  if (r.alreadyRunning) pairs.push(['flashed', 'nothing: the board already runs this build']);
  if (r.erased) pairs.push(['erased', `Storage${r.erased.storageFiles.length ? ` (${r.erased.storageFiles.join(', ')})` : ''} and the PSD data region${r.erased.dataRegionHadData ? ' (it held data)' : ' (blank)'}`]);
  if (r.codeArea) pairs.push(['code area', `${r.codeArea.addr}: ${r.codeArea.bytes} bytes (${r.codeArea.files.join(', ')}), each file's CRC-32 verified on the board`]);
  if (r.upload) pairs.push(['stored', `.bootcde, ${r.upload.bytes} bytes, CRC-32 ${r.upload.crc32} verified on the board (${r.upload.sentBytes} bytes sent in ${(r.upload.ms / 1000).toFixed(1)} s)`]);
  pairs.push(['read back', `${r.readBack.deviceId}: firmware ${r.readBack.firmwareVersion} build ${r.readBack.buildHash}: matches the image`]);
  pairs.push(['next', r.next]);
  return keyValues(pairs);
}

export function flashCommand(): Command {
  return new Command('flash')
    .description(
      "write a built firmware image (dist/firmware/<board>.js) to a real Espruino board over its REPL with EspruinoTools, as Storage files (the boot code .bootcde, which runs at every boot, and the modules; on a board with a code area, board-defs codeArea, the modules go to that free flash instead, checked first against Flash.getFree()); checks the board first (process.env.BOARD), erases Storage and the PSD data region, verifies the stored image, restarts the board and reads back its build hash through the PSD protocol. Uses the global --port (the board's serial port)"
    )
    .configureHelp({ showGlobalOptions: true })
    .requiredOption('-b, --board <id>', 'board definition the image is for (see board-defs/)')
    .option('--image <file>', 'firmware image (default dist/firmware/<board>.js, from npm run build)')
    .option('--force', "flash even when the board on the port (process.env.BOARD) or the image's build info is another board; the erase uses --board's flash addresses, so only for boards with the same layout")
    .option('--erase-data', 'erase the PSD data region even though it holds data (registers, keys, statistics): upload and confirm the statistics first')
    .option('--over-budget', "write an image whose Storage files exceed the board's image budget (board-defs image.budgetBytes): on boards whose Storage shares flash with the PSD data region it can overwrite the statistics pages")
    .option('--boot-timeout <ms>', 'wait this long for the flashed board to answer STATUS', positiveInt, 20000)
    .option('--verbose', "print EspruinoTools' own log to stderr")
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals() as Globals;
      const { flashBoard } = await import('./flasher.ts');
      const human = !g.json;
      const bar =
        human && process.stderr.isTTY
          ? new cliProgress.SingleBar({ stream: process.stderr, format: 'flashing [{bar}] {value}/{total} bytes | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic)
          : null;
      let barStarted = false;
      try {
        const report = await flashBoard({
          board: o.board,
          port: g.port ?? '',
          image: o.image,
          force: !!o.force,
          eraseData: !!o.eraseData,
          overBudget: !!o.overBudget,
          bootTimeoutMs: o.bootTimeout,
          onLog: o.verbose ? (line) => process.stderr.write(`espruino: ${line}\n`) : undefined,
          onStep: human
            ? (line) => {
                if (barStarted) {
                  bar?.stop();
                  barStarted = false;
                }
                process.stderr.write(`psd flash: ${line}\n`);
              }
            : undefined,
          onProgress: (p) => {
            if (!bar) return;
            if (!barStarted) {
              bar.start(p.total, 0);
              barStarted = true;
            }
            bar.setTotal(p.total);
            bar.update(p.sent);
          }
        });
        if (barStarted) bar?.stop();
        console.log(g.json ? JSON.stringify(report, null, 2) : formatFlash(report));
      } finally {
        if (barStarted) bar?.stop();
      }
    });
}
