// `psd`: the host bridge CLI. Every subcommand has --help; --json gives machine output;
// errors print a code, a message and a hint, and exit non-zero.
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { PsdError } from './errors.ts';
import { openLink, listPorts } from './link.ts';
import { PsdClient } from './client.ts';
import { Command as Cmd, CommandName as CommandNames } from '../protocol/commands.ts';
import { errorText, ErrorCode } from '../protocol/errors.ts';
import { reportUsageErrors, commandNamed, commandPath, EXIT_USAGE } from '../kit/usage.ts';
import { LogEventName } from '../protocol/log.ts';
import { table, keyValues, formatUptime, money, commandLine } from '../kit/output.ts';
import { storeCommand } from './store-command.ts';
import { addFrankingCommands, batchPairs } from './franking.ts';
import { formatClock, int } from './cli-kit.ts';
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
  .description('list serial ports that may carry a PSD, and the virtual boards and real-interpreter runs (psd sim, demo, tests) running on this machine')
  .action(async (_o, cmd: Command) => {
    const ports = await listPorts();
    const { listRunning } = await import('../kit/vboard/running.ts');
    const running = listRunning();
    const rows: string[][] = ports.map((p) => [p.path, 'serial', p.manufacturer ?? '', p.vendorId ? `usb id ${p.vendorId}:${p.productId}` : '']);
    for (const r of running) {
      const what = r.kind === 'real' ? `real interpreter (linux), process ${r.pid}` : `virtual board ${r.board}, process ${r.pid}`;
      const where = r.kind === 'real' ? `dir ${r.dir}` : `flash ${r.flashFile}`;
      if (r.pty) rows.push([r.pty, r.kind === 'real' ? 'real' : 'virtual', what, where]);
      rows.push([r.tcp, r.kind === 'real' ? 'real' : 'virtual', what, where]);
    }
    print(cmd, { serial: ports, running }, () => (rows.length ? table(rows, ['port', 'kind', 'what', 'details']) : 'no serial ports found, and no virtual board or real-interpreter run (start one with psd sim)'));
  });

program
  .command('status')
  .description('show the device: identity, firmware, uptime, registers, storage and records, batch, clock, lock, memory')
  .action(async (_o, cmd: Command) => {
    const s = await withDevice(cmd, (c) => c.request(Cmd.STATUS));
    print(cmd, s, () => formatStatus(s));
  });

program
  .command('log')
  .description("show the device log: what the PSD noted about itself (boot and reset cause, self-tests, locks and why, refused requests with their code, checkpoints, folds, tamper); the device keeps the last 16 entries in RAM, so a power cycle starts it afresh")
  .option('--from <seq>', 'entries from this sequence number on (default: all the device holds)', int(0, 4294967295), 0)
  .option('--follow', 'keep polling and print new entries as they come (Ctrl-C ends)')
  .option('--interval <ms>', 'with --follow: how often to ask, milliseconds', int(100, 3600000), 1000)
  .action(async (o: { from: number; follow?: boolean; interval: number }, cmd: Command) => {
    const json = !!globals(cmd).json;
    await withDevice(cmd, async (c) => {
      let from = o.from;
      const interval = o.interval;
      const all: any[] = [];
      for (;;) {
        const page = await c.request(Cmd.LOG, { from });
        for (const e of page.entries) {
          if (json && !o.follow) all.push(e);
          else if (json) console.log(JSON.stringify(e));
          else console.log(formatLogEntry(e));
        }
        from = page.next;
        if (page.entries.length) continue;
        if (!o.follow) break;
        await new Promise((r) => setTimeout(r, interval));
      }
      if (json && !o.follow) console.log(JSON.stringify(all, null, 2));

    });
  });

/** One device log entry as a line: sequence, uptime, device clock, event, detail. */
export function formatLogEntry(e: { seq: number; uptime: number; clock: number; code: number; detail: string }): string {
  let detail = e.detail;
  // a refusal carries its request type and error code: name them
  if (e.code === 3) {
    const m = /^0x([0-9a-f]+) (\d+) ?(.*)$/.exec(detail);
    if (m) detail = `${Number.parseInt(m[1], 16) in CommandNames ? CommandNames[Number.parseInt(m[1], 16)] : '0x' + m[1]}: ${errorText(Number(m[2]), m[3])}`;
  }
  return `#${String(e.seq).padEnd(4)} ${formatUptime(e.uptime).padStart(10)}  ${e.clock ? formatClock(e.clock) : 'clock not set'}  ${(LogEventName[e.code] ?? 'event ' + e.code).padEnd(10)} ${detail}`;
}

/** The contact watchdog (firmware/ondemand/admin.ts contactStatus) as people read it. */
function formatContact(c: any): string {
  if (!c) return '-';
  // an unprovisioned PSD has had no contact: its age counts from nothing
  if (c.state === 'unprovisioned') return 'none yet: not provisioned (psd provision --kms makes the first contact)';
  const days = (c.ageS / 86400).toFixed(1);
  const trusted = c.trustedTime ? `, trusted time ${formatClock(c.trustedTime)}` : ', no trusted time yet';
  if (c.state === 'locked') return `LOCKED: last contact ${days} days ago; franking resumes after an upload or session (psd upload)${trusted}`;
  if (c.state === 'warning') return `WARNING: last contact ${days} days ago; upload soon or franking locks (psd upload)${trusted}`;
  return `${c.state}, last contact ${days} days ago${trusted}`;
}

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
    ['zero-value pieces', s.imprints?.zeroValue ?? '-'],
    ['test imprints', s.imprints?.test ?? '-'],
    ['storage', `${s.storage.used} B used, ${s.storage.free} B free of ${s.storage.total} B`],
    ['records', `${s.storage.records ?? '?'} in flash, ${s.storage.ramRecords ?? '?'} in RAM, capacity ${s.storage.recordCapacity ?? '?'}`],
    ['storage low', s.storage.low ? 'YES: upload and confirm the statistics' : 'no'],
    [
      'sealed blocks',
      s.block
        ? `last sealed #${s.block.lastSealed}, ${s.block.awaitingConfirmation ? `#${s.block.awaitingConfirmation} awaits confirmation` : 'none awaiting confirmation'}, last confirmed #${s.block.lastConfirmed}`
        : '-'
    ],
    ['memory', s.memory ? `${s.memory.used} of ${s.memory.total} variables${s.memory.peak ? `, peak ${s.memory.peak} since boot` : ''}` : 'not reported by this board'],
    ...batchPairs(s.batch),
    ['clock', formatClock(s.clock ?? 0)],
    ['data center contact', formatContact(s.contact)],
    ['lock', s.lock ? `LOCKED ${s.lock.code} ${errorText(s.lock.code, s.lock.detail)}` : 'none']
  ];
  return keyValues(pairs);
}

addFrankingCommands(program, { withDevice, print, json: (cmd) => !!globals(cmd).json });
program.addCommand(flashCommand());
program.addCommand(storeCommand());

program
  .command('sim')
  .description('run the built firmware image in the virtual board (or, with --real, the linux image on the real Espruino interpreter) and offer its serial line; with --console, show what that board printed on its own console instead')
  .option('-b, --board <id>', 'board definition (see board-defs/); required without --real')
  .option('--image <file>', 'firmware image (default dist/firmware/<board>.js)')
  .option('--flash-file <file>', 'file holding the board flash; kept across restarts, locked while a sim runs on it (default .psd/<board>.flash)')
  .option('--real', 'boot dist/firmware/linux.js on Espruino 2v29 built for Linux (ESPRUINO_BIN), from Storage like a board')
  .addOption(new Option('--memory <build>', 'with --real: resizable, or 5100 / 2630 variables (ESPRUINO_BIN-5100vars, -2630vars)').choices(['resizable', '5100', '2630']).default('resizable'))
  .option('--dir <folder>', 'with --real: the working folder (espruino.flash, console.log); kept across restarts (default .psd/linux-real)')
  .option('--tcp-port <n>', 'TCP port for tcp://127.0.0.1:<n> (0 picks one)', '0')
  .option('--pty-link <path>', 'make the pseudo-terminal reachable at this path too')
  .option('--no-pty', 'offer TCP only (also what happens, with a line saying so, where socat is not installed)')
  .option('--console', 'do not start a board: print the console output the board of --board/--flash-file (or --real/--dir) keeps in its file, running or not')
  .option('--lines <n>', 'with --console: only the last n lines', int(1, 1000000))
  .action(async (o, cmd: Command) => {
    if (o.console) return showConsole(cmd, o);
    let sim: { ptyPath?: string; tcpUrl: string; close(): Promise<void> };
    let info: object;
    let rows: [string, string][];
    const { socatMissing } = await import('../kit/vboard/expose.ts');
    if (o.real) {
      if (o.board && o.board !== 'linux') throw new PsdError(6, `--real runs the linux image only (not ${o.board})`, 'build it with npm run build -- --board linux');
      const { findEspruino, noEspruinoReason } = await import('../kit/real/binary.ts');
      if (!findEspruino(o.memory)) throw new PsdError(6, noEspruinoReason(o.memory));
      if (socatMissing()) throw new PsdError(6, 'socat is not installed: the real interpreter opens its Serial1 on a pseudo-terminal socat makes', 'apt-get install socat (the virtual board, psd sim --board <id>, works without it over TCP)');
      const { runReal } = await import('../kit/real/run.ts');
      const { ImageMissingError } = await import('../kit/vboard/run.ts');
      const dir = path.resolve(o.dir ?? '.psd/linux-real');
      const real = await runReal({ image: o.image, dir, memory: o.memory, tcpPort: Number(o.tcpPort), pty: o.pty, ptyLink: o.ptyLink }).catch((e) => {
        throw e instanceof ImageMissingError ? new PsdError(6, e.message, e.hint) : e;
      });
      sim = real;
      info = { board: 'linux', interpreter: real.board.binary, pty: real.ptyPath, tcp: real.tcpUrl, dir, console: real.board.consoleLog, pid: process.pid };
      rows = [
        ['real interpreter', `${real.board.binary} (${o.memory === 'resizable' ? 'resizable memory' : o.memory + ' variables'})`],
        ['serial (pty)', real.ptyPath ?? '-'],
        ['tcp', real.tcpUrl],
        ['flash file', real.board.flashFile],
        // the command that shows this run's console names its folder, unless it is the default
        ['console log', `${real.board.consoleLog} (${commandLine(['psd', 'sim', '--real', ...(o.dir ? ['--dir', dir] : []), '--console'])} shows it)`]
      ];
    } else {
      if (!o.board) throw new PsdError(6, 'sim needs --board <id> (or --real for the linux image on the real interpreter)');
      const { getBoard } = await import('../board-defs/index.ts');
      try {
        getBoard(o.board);
      } catch (e) {
        throw new PsdError(6, (e as Error).message);
      }
      let pty = o.pty !== false;
      if (pty && socatMissing()) {
        pty = false;
        process.stderr.write('psd sim: socat is not installed, so no pseudo-terminal: offering TCP only (apt-get install socat for a pty; --no-pty says this on purpose)\n');
      }
      const { runSim, ImageMissingError } = await import('../kit/vboard/run.ts');
      const { FlashInUseError } = await import('../kit/vboard/running.ts');
      let virtual;
      try {
        virtual = await runSim({ board: o.board, image: o.image, flashFile: o.flashFile, tcpPort: Number(o.tcpPort), pty, ptyLink: o.ptyLink });
      } catch (e) {
        if (e instanceof FlashInUseError) throw new PsdError(6, e.message, '`psd ports` lists the boards running on this machine');
        if (e instanceof ImageMissingError) throw new PsdError(6, e.message, e.hint);
        throw e;
      }
      sim = virtual;
      info = { board: o.board, pty: virtual.ptyPath, tcp: virtual.tcpUrl, flashFile: virtual.flashFile, console: virtual.consoleLog, pid: process.pid };
      rows = [
        ['virtual PSD', o.board],
        ['serial (pty)', virtual.ptyPath ?? '-'],
        ['tcp', virtual.tcpUrl],
        ['flash file', virtual.flashFile],
        ['console log', `${virtual.consoleLog} (${commandLine(['psd', 'sim', '--board', o.board, ...(o.flashFile ? ['--flash-file', virtual.flashFile] : []), '--console'])} shows it)`]
      ];
    }
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      try {
        await sim.close();
      } finally {
        process.exit(0);
      }
    };
    // before the lines that say the board is up: whoever reads them may stop it at once
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', stop);
    print(cmd, info, () => keyValues([...rows, ['try', `psd --port ${sim.ptyPath ?? sim.tcpUrl} status`]]));
  });

/** `psd sim --console`: the console file of the board --board/--flash-file or --real/--dir name. */
async function showConsole(cmd: Command, o: { real?: boolean; board?: string; flashFile?: string; dir?: string; lines?: number }) {
  const fs = await import('node:fs');
  let file: string;
  if (o.real) file = path.join(path.resolve(o.dir ?? '.psd/linux-real'), 'console.log');
  else {
    if (!o.board && !o.flashFile) throw new PsdError(6, 'sim --console needs --board <id> (or --flash-file, or --real [--dir])');
    const { consoleLogFor } = await import('../kit/vboard/run.ts');
    file = consoleLogFor(o.flashFile ?? `.psd/${o.board}.flash`);
  }
  if (!fs.existsSync(file)) throw new PsdError(6, `no console output kept at ${file}: no sim has run ${o.real ? 'in that folder' : 'on that flash file'} yet`);
  let lines = fs.readFileSync(file, 'latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const total = lines.length;
  if (o.lines) lines = lines.slice(-o.lines);
  print(cmd, { file, lines: total, shown: lines }, () => lines.join('\n') + `\n(${file}: ${lines.length} of ${total} lines)`);
}

/** --json anywhere on the line (the program's, or a subcommand's own, as `store list --json`). */
function wantsJson(argv: string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

/** Every command throws instead of exiting. */
function configureAll(cmd: Command) {
  cmd.exitOverride();
  for (const sub of cmd.commands) configureAll(sub);
}

/** With --json an error is JSON too, `{"error": {code, message, hint}}`: on stdout, where the
 * machine output goes, and on stderr as before; argument errors included (code 6). */
function reportError(err: PsdError, json: boolean) {
  if (json) {
    const text = JSON.stringify(err.result === undefined ? { error: err.toJSON() } : { error: err.toJSON(), result: err.result });
    console.log(text);
    console.error(text);
  } else console.error(`psd: error ${err.code}: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
}

export async function main(argv: string[]) {
  const json = wantsJson(argv);
  configureAll(program);
  // an argument error: one line and the help command of its command (error 6, like the
  // arguments an action refuses), with --json as JSON
  let usageError: PsdError | undefined;
  reportUsageErrors(program, (message, helpCommand) => {
    usageError = new PsdError(ErrorCode.BAD_ARGUMENT, message, `run \`${helpCommand}\``);
    reportError(usageError, json);
  });
  try {
    await program.parseAsync(argv);
  } catch (e: any) {
    if (e instanceof CommanderError) {
      // --help, --version: not errors
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
        process.exitCode = 0;
        return;
      }
      // reported above; a command group without its subcommand printed its help (on stderr)
      if (!usageError && json) {
        const group = commandPath(commandNamed(program, argv.slice(2)));
        reportError(new PsdError(ErrorCode.BAD_ARGUMENT, `${group} needs a subcommand`, `run \`${group} --help\``), true);
      }
      process.exitCode = EXIT_USAGE;
      return;
    }
    // a path the user gave that is not a directory or not readable is their argument's fault
    const userPath = typeof e?.code === 'string' && /^(ENOTDIR|EACCES|EPERM|EISDIR|ENOENT|EEXIST)$/.test(e.code);
    const err = e instanceof PsdError ? e : new PsdError(userPath ? 6 : 8, e?.message ?? String(e));
    reportError(err, json);
    process.exitCode = 1;
  }
}
