// `npm run demo`: the end-to-end story on one machine, no hardware needed. Boots the built
// pico image on the virtual board, offers its serial line as a pseudo-terminal (TCP when
// socat is missing), and drives it with the real `psd` CLI as a separate process.
// `npm run demo -- --real [--memory 5100]`: the same story with the linux image on the real
// Espruino interpreter (ESPRUINO_BIN), booted from Storage like a board (tools/real/).
//
// The demo is a list of steps: the data center (pss serve) provisions the PSD and loads
// funds, the PSD franks for three customers of a mail house, seals its statistics, the host
// stores the block, uploads it through a secure session, and the PSS reports and computes
// each customer's discount.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSim } from '../kit/vboard/run.ts';
import { runReal } from '../kit/real/run.ts';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from '../kit/real/binary.ts';
import { commandLine } from '../kit/output.ts';


const ROOT = resolve(import.meta.dirname, '..');
const PSD = join(ROOT, 'bin/psd.js');
const PSS = join(ROOT, 'bin/pss.js');

export interface DemoContext {
  board: string;
  /** where `psd --port` reaches the PSD: the pty, or tcp:// without socat */
  port: string;
  /** host:port of the data center (pss serve) */
  pss: string;
  /** runs `psd <args>` as a child process, prints its output indented, fails on a non-zero exit */
  psd(args: string[]): Promise<string>;
  /** runs `pss <args>` on the demo's data directory, likewise */
  pss_(args: string[]): Promise<string>;
}

export interface DemoStep {
  title: string;
  /** one or two sentences for the reader */
  story: string;
  run(ctx: DemoContext): Promise<void>;
}

export const steps: DemoStep[] = [
  {
    title: 'Ask the PSD who it is',
    story: 'The host bridge opens the serial line, sends a framed STATUS request (sync, version, type, seq, length, JSON, CRC-32) and prints the answer: identity, firmware build, uptime, registers, storage and memory.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'status']);
    }
  },
  {
    title: 'Provision the device at the data center (KMS)',
    story: 'The KMS registers the device, allocates its number and derives its keys from its master key (so it alone can check the device\'s MACs); the keys go to the PSD once and are never printed or stored on the host. Only an operator may ask: psd connects over TLS with the operator credential PSS_CREDENTIALS names.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'provision', '--kms', ctx.pss]);
    }
  },
  {
    title: "Open the mail house's account and pay in",
    story: 'Funds are paid for: the data center keeps an account per customer (the mail house that owns the PSD) with its balance; a payment goes into the ledger, and the device is assigned the account that pays its funds resets.',
    run: async (ctx) => {
      await ctx.pss_(['account', 'create', '--name', 'Mail house Demo']);
      await ctx.pss_(['deposit', '--account', '1', '--amount', '1000000', '--reference', 'demo transfer']);
      const status = JSON.parse(await ctx.psd(['--port', ctx.port, '--json', 'status']));
      await ctx.pss_(['account', 'assign', String(status.device), '--account', '1']);
    }
  },
  {
    title: 'Load funds (a funds reset from the KMS)',
    story: "The KMS authenticates a funds reset for this device with the next funds counter, debiting the account in the same transaction (refused beyond its balance); the PSD checks the MAC and the counter before it fills the descending register.",
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'funds', '--kms', ctx.pss, '--amount', '500000']);
    }
  },
  {
    title: 'Frank for three customers of a mail house',
    story: 'Customer 1001 sends 1,200 identical letters in batch mode (requests of up to 250 pieces, each with its own id). Customer 1002 sends mixed pieces in a dynamic batch (class and weight per piece). Customer 1003 sends 600 maxi letters in batch mode.',
    run: async (ctx) => {
      const p = ['--port', ctx.port];
      await ctx.psd([...p, 'batch', 'start', '--customer', '1001', '--mode', 'batch', '--category', '1', '--weight', '18', '--postage', '85']);
      await ctx.psd([...p, 'frank', '--count', '1200', '--chunk', '250']);
      await ctx.psd([...p, 'batch', 'end']);
      await ctx.psd([...p, 'batch', 'start', '--customer', '1002', '--mode', 'dynamic']);
      await ctx.psd([...p, 'frank', '--category', '1', '--weight', '45', '--postage', '155']);
      await ctx.psd([...p, 'frank', '--category', '2', '--weight', '480', '--postage', '270']);
      await ctx.psd([...p, 'frank', '--category', '8', '--weight', '1800', '--postage', '690']);
      await ctx.psd([...p, 'batch', 'end']);
      await ctx.psd([...p, 'batch', 'start', '--customer', '1003', '--mode', 'batch', '--category', '3', '--weight', '95', '--postage', '160']);
      await ctx.psd([...p, 'frank', '--count', '600']);
      await ctx.psd([...p, 'batch', 'end']);
    }
  },
  {
    title: 'The cumulative statistics on the PSD',
    story: 'One record per (customer, category, weight band, postage) holds pieces, amount and weight; their sums equal the register movement.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'stats', 'list']);
    }
  },
  {
    title: 'Extract: the PSD seals its statistics, the host keeps the block',
    story: 'The PSD flushes RAM to flash, seals every record into block #1 (device, sequence number, time span, registers, customers, records, HMAC-SHA256 under its device key) and marks it sent; the host reads it page by page, checks the digest and stores it durably (write, fsync, rename) until it is uploaded.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'stats', 'extract']);
      await ctx.psd(['store', 'list']);
    }
  },
  {
    title: 'Upload through a secure session, with a funds reset riding along',
    story: 'The PSS and the PSD agree on session keys (nonces from both, the device key) and talk AES-CBC + HMAC authenticated encryption; the host only relays opaque frames. The PSS reads the block from the PSD, authenticates it, checks its plausibility, stores it, sends its confirmation (only then does the PSD free the records) and loads a second funds reset in the same session.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'upload', '--session', '--pss', ctx.pss, '--funds', '250000']);
      await ctx.psd(['--port', ctx.port, 'status']);
    }
  },
  {
    title: 'The postal authority\'s view: report and discounts',
    story: 'The PSS sorts and combines the statistics by any field, and applies the volume rules of config/discounts.json per customer of the mail house, not per mail house.',
    run: async (ctx) => {
      await ctx.pss_(['report', '--by', 'customer,class']);
      await ctx.pss_(['discounts', '--period', new Date().toISOString().slice(0, 7)]);
      await ctx.pss_(['ledger']);
    }
  }
];

function indent(s: string): string {
  return s.replace(/\s+$/, '').split('\n').map((l) => '    ' + l).join('\n');
}

/** The line the demo prints for a command it runs: one a reader can copy into a shell and run
 * as it is (an argument such as the account name `Mail house Demo` is quoted). */
export function shownCommand(name: string, args: string[]): string {
  return `$ ${commandLine([name, ...args])}`;
}

function run(bin: string, name: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolveRun, reject) => {
    console.log(`  ${shownCommand(name, args)}`);
    const child = spawn(process.execPath, [bin, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (out) console.log(indent(out));
      if (err) console.log(indent(err));
      if (code !== 0) reject(new Error(`${commandLine([name, ...args])} exited with ${code}`));
      else resolveRun(out);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((ok) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        ok(true);
      });
      s.on('error', () => ok(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pss serve did not listen on ${port}`);
}

async function main() {
  const argv = process.argv.slice(2);
  const real = argv.includes('--real');
  const memoryAt = argv.indexOf('--memory');
  const memory = (memoryAt >= 0 ? argv[memoryAt + 1] : 'resizable') as EspruinoMemory;
  if (real && !['resizable', '5100', '2630'].includes(memory)) throw new Error(`--memory ${memory}: resizable, 5100 or 2630`);
  if (real && !findEspruino(memory)) throw new Error(noEspruinoReason(memory));
  const board = real ? 'linux' : process.env.PSD_BOARD || 'pico';
  const socat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
  if (real && !socat) throw new Error('the real interpreter opens its Serial1 on a pseudo-terminal: install socat (apt-get install socat)');
  if (real) {
    console.log('PSD demo: a postal security device on the real Espruino 2v29 interpreter (Linux build), driven by the psd host bridge\n');
    console.log(`1. Write dist/firmware/linux.js into the interpreter's Storage as .bootcde and boot it like a board (${findEspruino(memory)}, ${memory === 'resizable' ? 'resizable memory' : memory + ' variables'}), Serial1 on a pseudo-terminal.`);
  } else {
    console.log('PSD demo: a postal security device on a virtual Espruino board, driven by the psd host bridge\n');
    console.log(`1. Boot dist/firmware/${board}.js (the image \`npm run build\` made) on the virtual ${board}, flash kept in a temp file.`);
  }
  if (!socat) console.log('   socat is not installed (apt-get install socat): offering the serial line over TCP instead of a pseudo-terminal.');
  const dir = mkdtempSync(join(tmpdir(), 'psd-demo-'));
  const vboardLog: string[] = [];
  let sim: { ptyPath?: string; tcpUrl: string; close(): Promise<void> } | null = null;
  let pssServer: ReturnType<typeof spawn> | null = null;
  try {
    // the data center: KMS and PSS in one process on an embedded SQLite database
    const pssData = join(dir, 'pss-data');
    const pssPort = await freePort();
    console.log(`   Start the data center: pss init (KMS keys, database, lab TLS CA, an operator credential), then pss serve on 127.0.0.1:${pssPort}, all in a temp dir.`);
    // the operator's credential: the KMS registers devices and issues funds only to an operator
    // (client certificate over TLS); devices upload with no secret
    const credential = join(dir, 'operator.pss-credential.pem');
    const init = spawnSync(process.execPath, [PSS, 'init', '--data', pssData, '--operator', 'demo-operator', '--out', credential], { cwd: ROOT, encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pss init failed: ${init.stderr}`);
    pssServer = spawn(process.execPath, [PSS, 'serve', '--port', String(pssPort), '--data', pssData, '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForPort(pssPort);
    const env = { PSD_STORE: join(dir, 'host-store'), PSS_DATA: pssData, PSS_CREDENTIALS: credential };
    sim = real
      ? await runReal({ dir: join(dir, 'board'), memory, ptyLink: join(dir, 'ttyPSD') })
      : await runSim({ board, flashFile: join(dir, board + '.flash'), pty: socat, ptyLink: socat ? join(dir, 'ttyPSD') : undefined, log: (s) => vboardLog.push(s) });
    const port = sim.ptyPath ?? sim.tcpUrl;
    console.log(`   serial line: ${sim.ptyPath ? `${sim.ptyPath} (a pseudo-terminal, opened like a USB board)` : sim.tcpUrl}\n`);
    const ctx: DemoContext = {
      board,
      port,
      pss: `127.0.0.1:${pssPort}`,
      psd: (args) => run(PSD, 'psd', args, env),
      pss_: (args) => run(PSS, 'pss', args, env)
    };
    let n = 2;
    for (const step of steps) {
      console.log(`${n++}. ${step.title}`);
      console.log(`   ${step.story}`);
      await step.run(ctx);
      console.log('');
    }
    console.log(`${n}. Shut the ${real ? 'interpreter' : 'virtual board'} down.`);
  } finally {
    if (sim) await sim.close();
    pssServer?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  if (vboardLog.length) console.log('   (board console: ' + vboardLog.join(' | ') + ')');
  console.log(`\nDone. Try it yourself: \`npx psd sim ${real ? '--real' : '--board pico'}\`, then \`npx psd --port <pty> status\` in another terminal.`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error('demo failed: ' + (e?.message ?? e));
      process.exit(1);
    }
  );
}
