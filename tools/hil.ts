// `npm run test:hil -- --port <path> --board <id> [--flash] [--junit <file>]`
// `npm run test:hil -- --map <hardware-map.yaml|json> [--flash]`
//
// Runs the conformance suite (test/conformance.test.ts) against devices (a real PSD on a
// serial port, Espruino's Linux build on a pseudo-terminal, or a tcp:// address; without
// --port a virtual board of --board started here) and writes one JUnit XML report for lab CI,
// beside a summary table. For each device, in its own process (tools/hil-worker.ts):
//   1. with --flash: `psd flash --board <board>` onto it (the CLI's own code path);
//   2. the board check: STATUS must report the board the lab said, or nothing else runs;
//   3. the suite; a failing case carries the frames on the line around it.
// A hardware map lists devices (pytest-embedded's and Zephyr twister's idea):
//   devices:
//     - name: bench-pico          # optional (default <board>@<port>)
//       port: /dev/ttyACM0
//       board: pico
//       deviceKey: <hex64>        # optional: lab keys of an already provisioned device
//       kmsKey: <hex64>
//       image: dist/firmware/pico.js   # optional, for --flash
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogEventName } from '../protocol/log.ts';
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import yaml from 'js-yaml';
import { getBoard } from '../board-defs/index.ts';
import type { HilCase, HilResults } from './hil-worker.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface MapDevice {
  name: string;
  port?: string;
  board: string;
  deviceKey?: string;
  kmsKey?: string;
  image?: string;
}

/** A hardware map (YAML or JSON): `devices:` a list of {port, board, name?, deviceKey?, kmsKey?, image?}, or the list alone. */
export function readHardwareMap(file: string): MapDevice[] {
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8'), { filename: file });
  } catch (e) {
    throw new Error(`hardware map ${file}: ${(e as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { devices?: unknown })?.devices;
  if (!Array.isArray(list) || !list.length) throw new Error(`hardware map ${file}: no devices (want "devices:" with a list of {port, board})`);
  const names = new Set<string>();
  return list.map((d: any, i: number) => {
    const where = `hardware map ${file}, device ${i + 1}`;
    if (!d || typeof d !== 'object') throw new Error(`${where}: not a mapping`);
    for (const k of Object.keys(d)) if (!['name', 'port', 'board', 'deviceKey', 'kmsKey', 'image'].includes(k)) throw new Error(`${where}: unknown key ${k}`);
    if (typeof d.port !== 'string' || !d.port) throw new Error(`${where}: port missing (a serial device, a pty or tcp://host:port)`);
    if (typeof d.board !== 'string') throw new Error(`${where}: board missing`);
    try {
      getBoard(d.board);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    for (const k of ['deviceKey', 'kmsKey'] as const) if (d[k] !== undefined && !/^[0-9a-fA-F]{64}$/.test(String(d[k]))) throw new Error(`${where}: ${k} must be 64 hex digits`);
    const name = String(d.name ?? `${d.board}@${d.port}`);
    if (names.has(name)) throw new Error(`${where}: name ${name} given twice`);
    names.add(name);
    return { name, port: d.port, board: d.board, deviceKey: d.deviceKey, kmsKey: d.kmsKey, image: d.image ? path.resolve(path.dirname(file), d.image) : undefined };
  });
}

function xml(s: string): string {
  // characters XML 1.0 cannot carry at all are shown as \xNN
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function frameLines(c: HilCase): string {
  if (!c.frames?.length) return 'no frames on the line';
  const t0 = c.frames[0].t;
  return c.frames
    .map((f) => `${('+' + (f.t - t0) + ' ms').padStart(10)} ${f.dir === 'out' ? '->' : '<-'} ${f.name} seq ${f.seq}${f.retransmit ? ' (retransmitted)' : ''} ${f.payload}`)
    .join('\n');
}

export interface DeviceRun {
  device: MapDevice;
  port: string;
  results: HilResults;
  seconds: number;
  /** for a virtual board or a real-interpreter run: its console file and the end of it (when a case failed) */
  console?: { file: string; tail: string };
}

/** The device log (psd log) a failing device's report carries, after the suite ended. */
function deviceLogLines(log: HilResults['deviceLog']): string {
  if (log === undefined) return '';
  if (typeof log === 'string') return `\n\n${log}`;
  return `\n\nthe device log after the suite (psd log):\n` + log.map((e) => `#${e.seq} ${e.uptime}s ${LogEventName[e.code] ?? 'event ' + e.code} ${e.detail}`).join('\n');
}

/** Lines of a board's console file a failing device's report carries. */
export const CONSOLE_LINES = 60;

export function junitXml(runs: DeviceRun[], title: string): string {
  const count = (rs: HilCase[], s: HilCase['status']) => rs.filter((c) => c.status === s).length;
  const all = runs.flatMap((r) => r.results.cases);
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="${xml(title)}" tests="${all.length}" failures="${count(all, 'fail')}" skipped="${count(all, 'skip')}" time="${runs.reduce((a, r) => a + r.seconds, 0).toFixed(3)}">`];
  for (const r of runs) {
    const cs = r.results.cases;
    const rep = r.results.reported;
    out.push(`  <testsuite name="${xml(`${r.device.name}: ${r.device.board} on ${r.port}`)}" tests="${cs.length}" failures="${count(cs, 'fail')}" skipped="${count(cs, 'skip')}" time="${r.seconds.toFixed(3)}" hostname="${xml(os.hostname())}">`);
    out.push('    <properties>');
    const props: [string, string | undefined][] = [
      ['port', r.port],
      ['board', r.device.board],
      ['reported.board', rep?.board],
      ['reported.hardware', rep?.hardware],
      ['reported.interpreter', rep?.interpreter],
      ['reported.firmware', rep?.firmwareVersion],
      ['reported.buildHash', rep?.buildHash],
      ['reported.device', rep?.device ? `PSD-${rep.device}` : undefined]
    ];
    for (const [k, v] of props) if (v !== undefined) out.push(`      <property name="${xml(k)}" value="${xml(String(v))}"/>`);
    out.push('    </properties>');
    for (const c of cs) {
      out.push(`    <testcase classname="${xml(`${r.device.name}.${c.classname}`)}" name="${xml(c.name)}" time="${(c.ms / 1000).toFixed(3)}">`);
      if (c.status === 'skip') out.push('      <skipped/>');
      if (c.status === 'fail') {
        out.push(`      <failure message="${xml(c.message ?? 'failed')}" type="AssertionError">${xml(c.details ?? c.message ?? '')}</failure>`);
        out.push(`      <system-out>${xml(`frames on ${r.port} around the failure (-> to the device, <- from it):\n${frameLines(c)}${deviceLogLines(r.results.deviceLog)}`)}</system-out>`);
        if (r.console) out.push(`      <system-err>${xml(`the board's console (${r.console.file}), last ${CONSOLE_LINES} lines:\n${r.console.tail}`)}</system-err>`);
      }
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** Runs a child, its output prefixed with the device name; resolves with its exit code and output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, prefix: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let pending = '';
    const onData = (d: Buffer) => {
      out += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) process.stdout.write(`${prefix}${l}\n`);
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (pending) process.stdout.write(`${prefix}${pending}\n`);
      resolve({ code, out });
    });
  });
}

async function runDevice(d: MapDevice, o: { flash?: boolean; timeout: string }): Promise<DeviceRun> {
  const t0 = Date.now();
  const prefix = `[${d.name}] `;
  let port = d.port;
  let sim: { tcpUrl: string; consoleLog: string; close(): Promise<void> } | null = null;
  let simDir = '';
  const cases: HilCase[] = [];
  try {
    if (!port) {
      // no device given: a virtual board of that board, started here
      const { runSim } = await import('../kit/vboard/run.ts');
      simDir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-hil-'));
      sim = await runSim({ board: d.board, flashFile: path.join(simDir, `${d.board}.flash`), pty: false, log: () => {} });
      port = sim.tcpUrl;
      console.log(`${prefix}virtual board ${d.board} on ${port}`);
    }
    if (o.flash) {
      const f0 = Date.now();
      const args = [path.join(ROOT, 'bin/psd.js'), '--port', port, '--json', 'flash', '--board', d.board, ...(d.image ? ['--image', d.image] : [])];
      console.log(`${prefix}psd --port ${port} flash --board ${d.board}${d.image ? ' --image ' + d.image : ''}`);
      const r = await run(process.execPath, args, { ...process.env }, prefix, 600000);
      let message = '';
      if (r.code !== 0) {
        const m = /\{"error":(\{.*\})\}/.exec(r.out);
        message = m ? JSON.parse(m[1]).message : `psd flash exited ${r.code}`;
      }
      cases.push({ name: `flash: psd flash --board ${d.board}`, classname: 'flash', status: r.code === 0 ? 'pass' : 'fail', ms: Date.now() - f0, ...(message ? { message, details: r.out } : {}) });
      if (r.code !== 0) return { device: d, port, results: { port, board: d.board, cases }, seconds: (Date.now() - t0) / 1000 };
    }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'psd-hil-results-')), 'results.json');
    const env: NodeJS.ProcessEnv = { ...process.env, PSD_PORT: port, PSD_BOARD: d.board, HIL_RESULTS: file, HIL_TIMEOUT: o.timeout };
    delete env.PSD_DEVICE_KEY;
    delete env.PSD_KMS_KEY;
    if (d.deviceKey) env.PSD_DEVICE_KEY = d.deviceKey;
    if (d.kmsKey) env.PSD_KMS_KEY = d.kmsKey;
    await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tools/hil-worker.ts')], env, prefix, 3600000);
    let results: HilResults;
    try {
      results = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      results = { port, board: d.board, cases: [{ name: 'the suite ran', classname: 'hil', status: 'fail', ms: 0, message: 'the worker wrote no results (it crashed or was killed)' }] };
    }
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    results.cases.unshift(...cases);
    // a virtual board or real-interpreter run keeps its console in a file: a failing device's
    // report carries its end (the board started here, or one `psd ports` lists on this port)
    let consoleFile = (sim as { consoleLog?: string } | null)?.consoleLog;
    if (!consoleFile) {
      const { listRunning } = await import('../kit/vboard/running.ts');
      consoleFile = listRunning().find((e) => e.tcp === port || e.pty === port)?.console;
    }
    let console_: DeviceRun['console'];
    if (consoleFile && results.cases.some((c) => c.status === 'fail') && fs.existsSync(consoleFile)) {
      console_ = { file: consoleFile, tail: fs.readFileSync(consoleFile, 'latin1').split('\n').filter(Boolean).slice(-CONSOLE_LINES).join('\n') };
    }
    return { device: d, port, results, seconds: (Date.now() - t0) / 1000, console: console_ };
  } finally {
    await sim?.close();
    if (simDir) fs.rmSync(simDir, { recursive: true, force: true });
  }
}

async function main() {
  const cli = new Command('test:hil')
    .description('run the PSD conformance suite against one device or every device of a hardware map, and write one JUnit XML report')
    .option('-p, --port <path|tcp://host:port>', 'the device (default: a virtual board of --board started here)')
    .option('-b, --board <id>', 'board the device must report (checked first)', 'pico')
    .option('--map <file>', 'hardware map, YAML or JSON: devices, each with port and board (and optional name, deviceKey, kmsKey, image)')
    .option('--flash', 'flash each device first with `psd flash --board <board>` (dist/firmware/<board>.js or the map\'s image), then test it')
    .option('--image <file>', 'with --flash and --port: the image to flash')
    .option('--junit <file>', 'JUnit XML report', 'reports/hil-junit.xml')
    .option('--device-key <hex>', 'lab device key of an already provisioned device (PSD_DEVICE_KEY)')
    .option('--kms-key <hex>', 'lab KMS key of an already provisioned device (PSD_KMS_KEY)')
    .option('--timeout <ms>', 'per test', '180000')
    .parse();
  const o = cli.opts();
  let devices: MapDevice[];
  try {
    if (o.map) {
      if (o.port) throw new Error('give --port or --map, not both');
      devices = readHardwareMap(o.map);
    } else {
      getBoard(o.board); // a clear error for an unknown board
      devices = [{ name: `${o.board}@${o.port ?? 'virtual'}`, port: o.port, board: o.board, deviceKey: o.deviceKey ?? process.env.PSD_DEVICE_KEY, kmsKey: o.kmsKey ?? process.env.PSD_KMS_KEY, image: o.image }];
    }
    if (o.flash && devices.some((d) => !d.port)) throw new Error('--flash needs a device: give --port (or ports in --map)');
  } catch (e) {
    console.error(`test:hil: ${(e as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const junit = path.resolve(o.junit);
  fs.mkdirSync(path.dirname(junit), { recursive: true });
  const started = Date.now();
  const runs: DeviceRun[] = [];
  for (const d of devices) runs.push(await runDevice(d, { flash: !!o.flash, timeout: String(o.timeout) }));
  const title = o.map ? `PSD conformance (hardware map ${path.basename(o.map)}: ${devices.length} device${devices.length === 1 ? '' : 's'})` : `PSD conformance (${o.board} on ${o.port ?? 'virtual board'})`;
  fs.writeFileSync(junit, junitXml(runs, title));

  for (const r of runs) {
    const cs = r.results.cases;
    const w = Math.max(4, ...cs.map((c) => c.name.length));
    const rep = r.results.reported;
    console.log(`\nPSD conformance: ${r.device.name}, ${r.device.board} on ${r.port}${rep ? ` (reports ${rep.board}, firmware ${rep.firmwareVersion} build ${rep.buildHash})` : ''}\n`);
    console.log(`${'test'.padEnd(w)}  result  ms`);
    console.log(`${'-'.repeat(w)}  ------  ------`);
    for (const c of cs) console.log(`${c.name.padEnd(w)}  ${(c.status === 'fail' ? 'FAIL' : c.status).padEnd(6)}  ${c.ms}`);
  }
  const all = runs.flatMap((r) => r.results.cases);
  const n = (s: HilCase['status']) => all.filter((c) => c.status === s).length;
  if (runs.length > 1) {
    console.log('\ndevice  board  port  passed  failed  skipped');
    for (const r of runs) {
      const cs = r.results.cases;
      console.log(`${r.device.name}  ${r.device.board}  ${r.port}  ${cs.filter((c) => c.status === 'pass').length}  ${cs.filter((c) => c.status === 'fail').length}  ${cs.filter((c) => c.status === 'skip').length}`);
    }
  }
  console.log(`\n${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s; JUnit report: ${path.relative(process.cwd(), junit)}`);
  process.exitCode = n('fail') || !all.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
