// `npm run demo`: the end-to-end story on one machine, no hardware needed. Boots the built
// pico image on the virtual board, offers its serial line as a pseudo-terminal (TCP when
// socat is missing), and drives it with the real `psd` CLI as a separate process.
//
// The demo is a list of steps; later capabilities (franking, extraction, upload) add steps.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runSim, type RunningSim } from './vboard/run.ts';

// lab keys for the demo device (provisioning by the data center comes later)
const LAB_DEVICE_KEY = randomBytes(32).toString('hex');
const LAB_KMS_KEY = randomBytes(32).toString('hex');

const ROOT = resolve(import.meta.dirname, '..');
const PSD = join(ROOT, 'bin/psd.js');

export interface DemoContext {
  board: string;
  /** where `psd --port` reaches the PSD: the pty, or tcp:// without socat */
  port: string;
  sim: RunningSim;
  /** runs `psd <args>` as a child process, prints its output indented, fails on a non-zero exit */
  psd(args: string[]): Promise<string>;
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
    title: 'Provision the device (lab keys)',
    story: 'A lab/test path until the data center provisions devices: the device gets its number, a device key (signs indicia) and a KMS key (authenticates funds resets).',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'provision', '--device', '4711', '--device-key', LAB_DEVICE_KEY, '--kms-key', LAB_KMS_KEY]);
    }
  },
  {
    title: 'Load funds',
    story: 'psd computes the funds-reset MAC with the KMS key here, a lab stand-in for the KMS; the device checks it and its funds counter before it fills the descending register.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'funds', '--amount', '500000', '--kms-key', LAB_KMS_KEY]);
    }
  },
  {
    title: 'Frank for three customers of a mail house',
    story: 'Customer 1001 sends 600 identical letters in batch mode (three requests of 250/250/100, each with its own id). Customer 1002 sends mixed pieces in a dynamic batch. Customer 1003 sends one more batch. psd sets the device clock first each time.',
    run: async (ctx) => {
      const p = ['--port', ctx.port];
      await ctx.psd([...p, 'batch', 'start', '--customer', '1001', '--mode', 'batch', '--category', '1', '--weight', '18', '--postage', '85']);
      await ctx.psd([...p, 'frank', '--count', '600', '--chunk', '250']);
      await ctx.psd([...p, 'batch', 'end']);
      await ctx.psd([...p, 'batch', 'start', '--customer', '1002', '--mode', 'dynamic']);
      await ctx.psd([...p, 'frank', '--category', '1', '--weight', '45', '--postage', '155']);
      await ctx.psd([...p, 'frank', '--category', '2', '--weight', '480', '--postage', '270']);
      await ctx.psd([...p, 'batch', 'end']);
      await ctx.psd([...p, 'batch', 'start', '--customer', '1003', '--mode', 'batch', '--category', '2', '--weight', '95', '--postage', '160']);
      await ctx.psd([...p, 'frank', '--count', '40']);
      await ctx.psd([...p, 'batch', 'end']);
    }
  },
  {
    title: 'Flush and list the cumulative statistics',
    story: 'One record per (customer, category, weight band, postage) holds pieces, amount and weight; their sums equal the registers.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'stats', 'flush']);
      await ctx.psd(['--port', ctx.port, 'stats', 'list']);
    }
  },
  {
    title: 'Status after the day',
    story: 'Registers, records in flash and RAM, the storage-low flag, the open batch, the device clock and any lock.',
    run: async (ctx) => {
      await ctx.psd(['--port', ctx.port, 'status']);
    }
  }
];

function indent(s: string): string {
  return s.replace(/\s+$/, '').split('\n').map((l) => '    ' + l).join('\n');
}

function runPsd(args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    console.log(`  $ psd ${args.join(' ')}`);
    const child = spawn(process.execPath, [PSD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (out) console.log(indent(out));
      if (err) console.log(indent(err));
      if (code !== 0) reject(new Error(`psd ${args[args.length - 1]} exited with ${code}`));
      else resolveRun(out);
    });
  });
}

async function main() {
  const board = process.env.PSD_BOARD || 'pico';
  const socat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
  console.log('PSD demo: a postal security device on a virtual Espruino board, driven by the psd host bridge\n');
  console.log(`1. Boot dist/firmware/${board}.js (the image \`npm run build\` made) on the virtual ${board}, flash kept in a temp file.`);
  if (!socat) console.log('   socat is not installed (apt-get install socat): offering the serial line over TCP instead of a pseudo-terminal.');
  const dir = mkdtempSync(join(tmpdir(), 'psd-demo-'));
  const vboardLog: string[] = [];
  let sim: RunningSim | null = null;
  try {
    sim = await runSim({ board, flashFile: join(dir, board + '.flash'), pty: socat, ptyLink: socat ? join(dir, 'ttyPSD') : undefined, log: (s) => vboardLog.push(s) });
    const port = sim.ptyPath ?? sim.tcpUrl;
    console.log(`   serial line: ${sim.ptyPath ? `${sim.ptyPath} (a pseudo-terminal, opened like a USB board)` : sim.tcpUrl}\n`);
    const ctx: DemoContext = { board, port, sim, psd: runPsd };
    let n = 2;
    for (const step of steps) {
      console.log(`${n++}. ${step.title}`);
      console.log(`   ${step.story}`);
      await step.run(ctx);
      console.log('');
    }
    console.log(`${n}. Shut the virtual board down.`);
  } finally {
    if (sim) await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (vboardLog.length) console.log('   (board console: ' + vboardLog.join(' | ') + ')');
  console.log('\nDone. Try it yourself: `npx psd sim --board pico`, then `npx psd --port <pty> status` in another terminal.');
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
