// One device's run for `npm run test:hil` (tools/hil.ts starts one per device, in its own
// process: the conformance suite is an ES module and loads once per process).
//
// First the board check: STATUS through the PSD protocol must report the board the lab said
// (--board or the hardware map); on a mismatch nothing else runs. Then the conformance suite
// (test/conformance.test.ts) against PSD_PORT, with every frame on the line recorded, so a
// failing case carries the frames around it. Writes its cases as JSON to HIL_RESULTS.
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient, frameTaps, type FrameEvent } from '../host-bridge/client.ts';
import { Command } from '../protocol/commands.ts';

export interface HilCase {
  name: string;
  classname: string;
  status: 'pass' | 'fail' | 'skip';
  ms: number;
  message?: string;
  details?: string;
  /** the frames on the line from a little before the case to its failure */
  frames?: FrameEvent[];
}

export interface HilResults {
  port: string;
  board: string;
  /** what the device said it is (STATUS), when it answered */
  reported?: { board: string; hardware?: string; interpreter?: string; firmwareVersion?: string; buildHash?: string; device?: number };
  cases: HilCase[];
  /** the device log (psd log) read after the suite, when a case failed; its error otherwise */
  deviceLog?: { seq: number; uptime: number; clock: number; code: number; detail: string }[] | string;
}

/** frames before a failing case's own that its report carries too */
export const FRAMES_BEFORE = 6;
/** at most this many frames per failing case (the last ones) */
export const FRAMES_MAX = 80;

const ROOT = path.resolve(import.meta.dirname, '..');
const port = process.env.PSD_PORT ?? '';
const board = process.env.PSD_BOARD ?? '';
const out = process.env.HIL_RESULTS ?? '';
if (!port || !board || !out) {
  console.error('hil-worker: PSD_PORT, PSD_BOARD and HIL_RESULTS must be set (npm run test:hil starts it)');
  process.exit(2);
}

const frames: FrameEvent[] = [];
frameTaps.add((e) => frames.push(e.payload.length > 600 ? { ...e, payload: e.payload.slice(0, 600) + `... (${e.payload.length} bytes)` } : e));
const results: HilResults = { port, board, cases: [] };
const save = () => fs.writeFileSync(out, JSON.stringify(results, null, 2));

function around(start: number): FrameEvent[] {
  const from = Math.max(0, start - FRAMES_BEFORE, frames.length - FRAMES_MAX);
  return frames.slice(from);
}

async function boardCheck(): Promise<boolean> {
  const t0 = Date.now();
  const start = frames.length;
  const name = `board check: the device reports board ${board}`;
  let c: PsdClient | null = null;
  try {
    c = new PsdClient(await openLink(port), { timeoutMs: 5000, retries: 2 });
    const s = await c.request(Command.STATUS);
    results.reported = { board: s.board, hardware: s.hardware, interpreter: s.interpreter, firmwareVersion: s.firmwareVersion, buildHash: s.buildHash, device: s.device };
    if (s.board !== board) {
      results.cases.push({
        name,
        classname: 'board check',
        status: 'fail',
        ms: Date.now() - t0,
        message: `told --board ${board}, but the device on ${port} reports board ${s.board} (${s.hardware}, Espruino ${s.interpreter}); the suite did not run`,
        details: 'check the hardware map or --board; a board flashed with another board\'s image reports that board',
        frames: around(start)
      });
      return false;
    }
    results.cases.push({ name, classname: 'board check', status: 'pass', ms: Date.now() - t0 });
    return true;
  } catch (e) {
    results.cases.push({ name, classname: 'board check', status: 'fail', ms: Date.now() - t0, message: `no STATUS from ${port}: ${(e as Error).message}`, frames: around(start) });
    return false;
  } finally {
    await c?.close();
  }
}

const ok = await boardCheck();
save();
console.log(`${ok ? 'ok  ' : 'FAIL'} ${results.cases[0].name}${ok ? '' : ': ' + results.cases[0].message}`);
if (!ok) process.exit(1);

const mocha = new Mocha({ timeout: Number(process.env.HIL_TIMEOUT ?? 180000), reporter: 'spec' });
mocha.addFile(path.join(ROOT, 'test/conformance.test.ts'));
await mocha.loadFilesAsync();
const starts = new Map<unknown, number>();
const title = (t: Mocha.Runnable) => t.fullTitle().replace(/^conformance: a PSD through its data port \([^)]*\) /, '');
const classname = (t: Mocha.Runnable) => (t.parent && t.parent.title && !t.parent.root ? t.parent.title.replace(/^conformance: a PSD through its data port \([^)]*\)$/, 'conformance') : 'conformance');
let hookStart = 0;
/** The device's own log (LOG, protocol/log.ts), for a report with a failing case. */
async function readDeviceLog(): Promise<HilResults['deviceLog']> {
  let c: PsdClient | null = null;
  try {
    c = new PsdClient(await openLink(port), { timeoutMs: 5000, retries: 2 });
    const all: any[] = [];
    for (let from = 0; ; ) {
      const page = await c.request(Command.LOG, { from });
      if (!page.entries.length) return all;
      all.push(...page.entries);
      from = page.next;
    }
  } catch (e) {
    return `the device log could not be read: ${(e as Error).message}`;
  } finally {
    await c?.close();
  }
}

const runner = mocha.run(async (failures) => {
  if (failures) results.deviceLog = await readDeviceLog();
  save();
  process.exitCode = failures ? 1 : 0;
});
runner.on('test', (t) => starts.set(t, frames.length));
runner.on('hook', () => (hookStart = frames.length));
runner.on('pass', (t) => results.cases.push({ name: title(t), classname: classname(t), status: 'pass', ms: t.duration ?? 0 }));
runner.on('pending', (t) => results.cases.push({ name: title(t), classname: classname(t), status: 'skip', ms: 0 }));
runner.on('fail', (t, err) => {
  const start = (t.type as string) === 'hook' ? hookStart : (starts.get(t) ?? frames.length);
  results.cases.push({ name: title(t), classname: classname(t), status: 'fail', ms: t.duration ?? 0, message: err.message, details: err.stack, frames: around(start) });
  save();
});
