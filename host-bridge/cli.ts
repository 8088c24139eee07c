// `psd`: the host bridge CLI. Every subcommand has --help; --json gives machine output;
// errors print a code, a message and a hint, and exit non-zero.
import path from 'node:path';
import { Command, Option } from 'commander';
import { PsdError } from './errors.ts';
import { openLink, listPorts } from './link.ts';
import { PsdClient } from './client.ts';
import { Command as Cmd } from '../protocol/commands.ts';
import { errorText } from '../protocol/errors.ts';
import { table, keyValues, formatUptime, money } from './output.ts';
import { storeCommand } from './store-command.ts';
import { addFrankingCommands, formatClock, batchPairs, int } from './franking.ts';
import { flashCommand } from './flash-command.ts';

interface GlobalOpts {
  port?: string;
  json?: boolean;
  timeout: number;
  retries: number;
}

const program = new Command('psd')
  .description('Host bridge to a postal security device (PSD) on a serial port or a virtual board')
  .addOption(new Option('-p, --port <path|tcp://host:port>', 'serial device of the PSD, or a TCP address of a virtual board').env('PSD_PORT'))
  .option('--json', 'machine-readable output')
  .option('--timeout <ms>', 'wait this long for each answer (1..600000)', int(1, 600000), 2000)
  .option('--retries <n>', 'retransmissions before giving up (0..100)', int(0, 100), 2)
  .showHelpAfterError()
  .configureHelp({ showGlobalOptions: true });

function globals(cmd: Command): GlobalOpts {
  return cmd.optsWithGlobals() as GlobalOpts;
}

async function withDevice<T>(cmd: Command, fn: (client: PsdClient) => Promise<T>): Promise<T> {
  const g = globals(cmd);
  const link = await openLink(g.port ?? '');
  const client = new PsdClient(link, { timeoutMs: g.timeout, retries: g.retries });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function print(cmd: Command, value: unknown, human: () => string) {
  if (globals(cmd).json) console.log(JSON.stringify(value, null, 2));
  else console.log(human());
}

program
  .command('ports')
  .description('list serial ports that may carry a PSD')
  .action(async (_o, cmd: Command) => {
    const ports = await listPorts();
    print(cmd, ports, () =>
      ports.length ? table(ports.map((p) => [p.path, p.manufacturer ?? '', p.vendorId ? `${p.vendorId}:${p.productId}` : '']), ['port', 'manufacturer', 'usb id']) : 'no serial ports found'
    );
  });

program
  .command('status')
  .description('show the device: identity, firmware, uptime, registers, storage and records, batch, clock, lock, memory')
  .action(async (_o, cmd: Command) => {
    const s = await withDevice(cmd, (c) => c.request(Cmd.STATUS));
    print(cmd, s, () => formatStatus(s));
  });

export function formatStatus(s: any): string {
  const r = s.registers;
  const pairs: [string, unknown][] = [
    ['device', s.deviceId],
    ['board', `${s.board} (${s.hardware}, Espruino ${s.interpreter})`],
    ['firmware', `${s.firmwareVersion} build ${s.buildHash}`],
    ['uptime', formatUptime(s.uptime)],
    ['reset cause', s.resetCause],
    ['ascending', money(r.ascending)],
    ['descending', money(r.descending)],
    ['control total', money(r.controlTotal)],
    ['pieces', r.pieces],
    ['storage', `${s.storage.used} B used, ${s.storage.free} B free of ${s.storage.total} B (${s.storage.pages} pages of ${s.storage.pageBytes} B)`],
    ['records', `${s.storage.records ?? '?'} in flash, ${s.storage.ramRecords ?? '?'} in RAM, capacity ${s.storage.recordCapacity ?? '?'}`],
    ['storage low', s.storage.low ? 'YES: upload and confirm the statistics' : 'no'],
    [
      'sealed blocks',
      s.block
        ? `last sealed #${s.block.lastSealed}, ${s.block.awaitingConfirmation ? `#${s.block.awaitingConfirmation} awaits confirmation` : 'none awaiting confirmation'}, last confirmed #${s.block.lastConfirmed}`
        : '-'
    ],
    ['memory', s.memory ? `${s.memory.used} of ${s.memory.total} variables` : 'not reported by this board'],
    ...batchPairs(s.batch),
    ['clock', formatClock(s.clock ?? 0)],
    ['lock', s.lock ? `LOCKED ${s.lock.code} ${errorText(s.lock.code, s.lock.detail)}` : 'none']
  ];
  return keyValues(pairs);
}

addFrankingCommands(program, { withDevice, print, json: (cmd) => !!globals(cmd).json });
program.addCommand(flashCommand());
program.addCommand(storeCommand());

program
  .command('sim')
  .description('run the built firmware image in the virtual board (or, with --real, the linux image on the real Espruino interpreter) and offer its serial line')
  .option('-b, --board <id>', 'board definition (see board-defs/); required without --real')
  .option('--image <file>', 'firmware image (default dist/firmware/<board>.js)')
  .option('--flash-file <file>', 'file holding the board flash; kept across restarts (default .psd/<board>.flash)')
  .option('--real', 'boot dist/firmware/linux.js on Espruino 2v29 built for Linux (ESPRUINO_BIN), from Storage like a board')
  .addOption(new Option('--memory <build>', 'with --real: resizable, or 5100 / 2630 variables (ESPRUINO_BIN-5100vars, -2630vars)').choices(['resizable', '5100', '2630']).default('resizable'))
  .option('--dir <folder>', 'with --real: the working folder (espruino.flash, console.log); kept across restarts (default .psd/linux-real)')
  .option('--tcp-port <n>', 'TCP port for tcp://127.0.0.1:<n> (0 picks one)', '0')
  .option('--pty-link <path>', 'make the pseudo-terminal reachable at this path too')
  .option('--no-pty', 'offer TCP only')
  .action(async (o, cmd: Command) => {
    let sim: { ptyPath?: string; tcpUrl: string; close(): Promise<void> };
    let info: object;
    let rows: [string, string][];
    if (o.real) {
      if (o.board && o.board !== 'linux') throw new PsdError(6, `--real runs the linux image only (not ${o.board})`, 'build it with npm run build -- --board linux');
      const { findEspruino, noEspruinoReason } = await import('../tools/real/binary.ts');
      if (!findEspruino(o.memory)) throw new PsdError(6, noEspruinoReason(o.memory));
      const { runReal } = await import('../tools/real/run.ts');
      const dir = path.resolve(o.dir ?? '.psd/linux-real');
      const real = await runReal({ image: o.image, dir, memory: o.memory, tcpPort: Number(o.tcpPort), pty: o.pty, ptyLink: o.ptyLink });
      sim = real;
      info = { board: 'linux', interpreter: real.board.binary, pty: real.ptyPath, tcp: real.tcpUrl, dir, console: real.board.consoleLog, pid: process.pid };
      rows = [
        ['real interpreter', `${real.board.binary} (${o.memory === 'resizable' ? 'resizable memory' : o.memory + ' variables'})`],
        ['serial (pty)', real.ptyPath ?? '-'],
        ['tcp', real.tcpUrl],
        ['flash file', real.board.flashFile],
        ['console log', real.board.consoleLog]
      ];
    } else {
      if (!o.board) throw new PsdError(6, 'sim needs --board <id> (or --real for the linux image on the real interpreter)');
      const { getBoard } = await import('../board-defs/index.ts');
      try {
        getBoard(o.board);
      } catch (e) {
        throw new PsdError(6, (e as Error).message);
      }
      const { runSim } = await import('../tools/vboard/run.ts');
      const virtual = await runSim({ board: o.board, image: o.image, flashFile: o.flashFile, tcpPort: Number(o.tcpPort), pty: o.pty, ptyLink: o.ptyLink });
      sim = virtual;
      info = { board: o.board, pty: virtual.ptyPath, tcp: virtual.tcpUrl, flashFile: virtual.flashFile, pid: process.pid };
      rows = [
        ['virtual PSD', o.board],
        ['serial (pty)', virtual.ptyPath ?? '-'],
        ['tcp', virtual.tcpUrl],
        ['flash file', virtual.flashFile]
      ];
    }
    print(cmd, info, () => keyValues([...rows, ['try', `psd --port ${sim.ptyPath ?? sim.tcpUrl} status`]]));
    const stop = async () => {
      await sim.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

export async function main(argv: string[]) {
  try {
    await program.parseAsync(argv);
  } catch (e: any) {
    // a path the user gave that is not a directory or not readable is their argument's fault
    const userPath = typeof e?.code === 'string' && /^(ENOTDIR|EACCES|EPERM|EISDIR|ENOENT|EEXIST)$/.test(e.code);
    const err = e instanceof PsdError ? e : new PsdError(userPath ? 6 : 8, e?.message ?? String(e));
    const opts = program.opts() as GlobalOpts;
    if (opts.json) console.error(JSON.stringify({ error: err.toJSON() }));
    else console.error(`psd: error ${err.code}: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
    process.exitCode = 1;
  }
}
