/**
 * Differential fidelity suite: every probe in tools/fidelity/probes/*.js runs on the real
 * Espruino 2v29 Linux build (ESPRUINO_BIN, a fresh working folder each, so espruino.flash is
 * private) and in the virtual board (the probe's source as the image, the linux board with the
 * Linux build's flash geometry), and the two console outputs are compared byte for byte.
 *
 * Nothing is normalised except what tools/fidelity/allowed.json says: `everywhere` entries
 * apply to every probe (e.g. the start-up banner only the Linux file runner prints), `probes`
 * entries to one probe each, every entry with its reason. A probe is
 *   same     equal after the `everywhere` entries,
 *   allowed  equal only after its own entries,
 *   failing  otherwise (its diff is printed).
 *
 *   npm run fidelity [-- --filter <substring>] [--jobs 2] [--show <probe>] [--verbose]
 *
 * Exit status 1 when a probe fails; without a binary it prints one line and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBoard } from '../../board-defs/index.ts';
import { findEspruino, noEspruinoReason } from '../../kit/real/binary.ts';
import { VirtualBoard, type BoardDef } from '../../kit/vboard/board.ts';

export const PROBE_DIR = fileURLToPath(new URL('./probes/', import.meta.url));
export const ALLOWED_FILE = fileURLToPath(new URL('./allowed.json', import.meta.url));

/** Where the Linux build maps espruino.flash (FLASH_START in Espruino's build_platform_config.py). */
export const LINUX_FLASH_START = 0x10000000;

export interface AllowEntry {
  /** which output the replacement applies to (default both) */
  side?: 'real' | 'vboard' | 'both';
  /** JavaScript regular expression source; every match is replaced */
  pattern: string;
  /** extra flags besides the implied `g` (e.g. "m") */
  flags?: string;
  replace: string;
  reason: string;
  /** the build rule (tools/profile/check.ts) or fact that keeps the firmware away from it */
  rule?: string;
}

export interface AllowList {
  /** entries several probes use by name (`{"use": "stack-trace"}` in a probe's list) */
  shared: Record<string, AllowEntry>;
  everywhere: (AllowEntry & { id: string })[];
  probes: Record<string, AllowEntry[]>;
}

export type Verdict = 'same' | 'allowed' | 'failing';

export interface ProbeResult {
  name: string;
  verdict: Verdict;
  /** raw outputs (latin1) */
  real: string;
  vboard: string;
  /** after the allow list */
  realNorm: string;
  vboardNorm: string;
  realExit: number | null;
  /** allow entries of this probe that changed nothing (stale) */
  unused: number[];
  ms: number;
}

export interface Summary {
  probes: number;
  same: number;
  allowed: number;
  failing: number;
  results: ProbeResult[];
  /** allow-list probe names without a probe file */
  orphans: string[];
}

export function listProbes(dir = PROBE_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export function loadAllowList(file = ALLOWED_FILE): AllowList {
  const j = JSON.parse(readFileSync(file, 'utf8')) as {
    shared?: Record<string, AllowEntry>;
    everywhere?: (AllowEntry & { id: string })[];
    probes?: Record<string, (AllowEntry | { use: string })[]>;
  };
  const shared = j.shared ?? {};
  const probes: Record<string, AllowEntry[]> = {};
  for (const [name, list] of Object.entries(j.probes ?? {})) {
    probes[name] = list.map((e) => {
      if ('use' in e) {
        const { use, ...own } = e;
        const s = shared[use];
        if (!s) throw new Error(`allowed.json: probe ${name} uses unknown shared entry "${use}"`);
        return { ...s, ...own };
      }
      if (!e.reason) throw new Error(`allowed.json: an entry of probe ${name} has no reason`);
      return e;
    });
  }
  return { shared, everywhere: j.everywhere ?? [], probes };
}

/** The board the probes run on in the virtual board: the linux board def, with the whole
 * espruino.flash file (FLASH_START, flashKB, its page size) as the Flash region, as the Linux
 * build has it. */
export function probeBoard(): BoardDef {
  const b = getBoard('linux');
  return {
    ...b,
    flash: { ...b.flash, dataStart: LINUX_FLASH_START, dataPages: (b.flashKB * 1024) / b.flash.pageBytes },
    // the binary is built with every crypto library (boards/LINUX.py); the board def lists
    // only what the firmware relies on
    nativeCrypto: ['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'PBKDF2', 'AES', 'AES-CCM']
  };
}

/** Run one probe file on the real binary in a fresh folder; returns stdout (latin1) and the exit status. */
export function runReal(binary: string, source: string, timeoutMs = 20000): Promise<{ out: string; code: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'fidelity-real-'));
  writeFileSync(join(dir, 'probe.js'), source);
  return new Promise((resolve, reject) => {
    const p = spawn(binary, ['probe.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => chunks.push(b));
    p.stderr.on('data', (b: Buffer) => chunks.push(b));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      resolve({ out: Buffer.concat(chunks).toString('latin1'), code });
    });
  });
}

const macrotask = () => new Promise<void>((r) => setImmediate(r));

/**
 * Run one probe in the virtual board the way the Linux build runs a file: boot, then keep
 * going while a timer is pending (manual clock, jumping to each timer's due time), stop when
 * none is. Returns what the console printed (latin1).
 */
export async function runVboard(source: string, opts: { maxSteps?: number; maxSeconds?: number } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fidelity-vboard-'));
  const board = probeBoard();
  const out: Buffer[] = [];
  const vb = new VirtualBoard({
    board,
    image: source,
    flashFile: join(dir, 'espruino.flash'),
    // Storage shares the 256 KB espruino.flash on the Linux build
    storageBytes: board.flashKB * 1024,
    clock: 'manual',
    startTime: Date.now() / 1000,
    boot: 'file'
  });
  // the Linux build's stdout is its USB device (EV_USBSERIAL), wherever the console is
  vb.on('output', (dev: string, data: Buffer) => {
    if (dev === 'USB') out.push(Buffer.from(data));
  });
  try {
    vb.start();
    const maxSteps = opts.maxSteps ?? 20000;
    const maxSeconds = opts.maxSeconds ?? 3600;
    let simulated = 0;
    for (let step = 0; step < maxSteps; step++) {
      await macrotask();
      await macrotask();
      if (!vb.running || vb.dead) break;
      if (vb.rxPending()) continue;
      const next = vb.nextTimerIn();
      if (next === null) {
        // one more turn for anything a callback queued, then done
        await macrotask();
        if (vb.rxPending() || vb.nextTimerIn() !== null) continue;
        break;
      }
      simulated += next;
      if (simulated > maxSeconds) break;
      vb.advanceTime(next);
    }
  } finally {
    if (vb.running) vb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return Buffer.concat(out).toString('latin1');
}

function applyEntry(s: string, e: AllowEntry, side: 'real' | 'vboard'): string {
  const on = e.side ?? 'both';
  if (on !== 'both' && on !== side) return s;
  const flags = 'g' + (e.flags ?? '').replace(/g/g, '');
  return s.replace(new RegExp(e.pattern, flags), e.replace);
}

export function judge(name: string, real: string, vboard: string, allow: AllowList): Omit<ProbeResult, 'realExit' | 'ms'> {
  let r = real;
  let v = vboard;
  for (const e of allow.everywhere) {
    r = applyEntry(r, e, 'real');
    v = applyEntry(v, e, 'vboard');
  }
  const own = allow.probes[name] ?? [];
  if (r === v) return { name, verdict: 'same', real, vboard, realNorm: r, vboardNorm: v, unused: own.map((_, i) => i) };
  const unused: number[] = [];
  own.forEach((e, i) => {
    const r2 = applyEntry(r, e, 'real');
    const v2 = applyEntry(v, e, 'vboard');
    if (r2 === r && v2 === v) unused.push(i);
    r = r2;
    v = v2;
  });
  return { name, verdict: r === v ? 'allowed' : 'failing', real, vboard, realNorm: r, vboardNorm: v, unused };
}

/** Printable form of console bytes: escapes for control characters, one line per \n. */
export function visible(s: string): string {
  return s
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\xff]/g, (c) => (c === '\r' ? '\\r' : c === '\x1b' ? '\\e' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')))
    .replace(/\\r\n/g, '\\r\n');
}

/** A line diff of the normalised outputs (real: `-`, vboard: `+`), changed lines with context. */
export function diff(real: string, vboard: string): string {
  const a = visible(real).split('\n');
  const b = visible(vboard).split('\n');
  // LCS on lines (outputs are short)
  const n = a.length;
  const m = b.length;
  const L: number[][] = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const rows: [string, string][] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      rows.push([' ', a[i]]);
      i++;
      j++;
    } else if (j < m && (i >= n || L[i][j + 1] >= L[i + 1][j])) rows.push(['+', b[j++]]);
    else rows.push(['-', a[i++]]);
  }
  // changed lines with one line of context either side
  const keep = rows.map((r, k) => r[0] !== ' ' || rows[k - 1]?.[0] !== ' ' && k > 0 || rows[k + 1]?.[0] !== undefined && rows[k + 1][0] !== ' ');
  const out: string[] = [];
  rows.forEach((r, k) => {
    if (keep[k]) out.push(`  ${r[0]} ${r[1]}`);
    else if (keep[k - 1]) out.push('    ...');
  });
  return out.join('\n');
}

export interface RunOptions {
  binary: string;
  filter?: string;
  jobs?: number;
  onResult?: (r: ProbeResult) => void;
}

export async function runFidelity(opts: RunOptions): Promise<Summary> {
  const allow = loadAllowList();
  const names = listProbes().filter((n) => !opts.filter || n.includes(opts.filter));
  const results: ProbeResult[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const k = next++;
      const name = names[k];
      const t0 = Date.now();
      const source = readFileSync(join(PROBE_DIR, name + '.js'), 'utf8');
      const [real, vboard] = await Promise.all([runReal(opts.binary, source), runVboard(source)]);
      const r: ProbeResult = { ...judge(name, real.out, vboard, allow), realExit: real.code, ms: Date.now() - t0 };
      results[k] = r;
      opts.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs ?? 2) }, worker));
  const all = listProbes();
  return {
    probes: results.length,
    same: results.filter((r) => r.verdict === 'same').length,
    allowed: results.filter((r) => r.verdict === 'allowed').length,
    failing: results.filter((r) => r.verdict === 'failing').length,
    results,
    orphans: Object.keys(allow.probes).filter((n) => !all.includes(n))
  };
}

export function report(s: Summary, allow: AllowList, verbose = false): string {
  const L: string[] = [];
  for (const r of s.results) {
    if (r.verdict === 'failing') {
      L.push(`FAIL ${r.name} (real exit ${r.realExit})`);
      L.push(diff(r.realNorm, r.vboardNorm));
      L.push('');
    } else if (verbose) L.push(`${r.verdict.padEnd(7)} ${r.name}`);
  }
  for (const r of s.results) {
    if (r.verdict === 'same' && allow.probes[r.name]?.length) L.push(`stale allow entries: ${r.name} is the same without them`);
    else if (r.verdict === 'allowed' && r.unused.length) L.push(`stale allow entries: ${r.name} #${r.unused.join(', #')} change nothing`);
  }
  for (const o of s.orphans) L.push(`allow list names a probe that does not exist: ${o}`);
  const w = (x: string | number) => String(x).padStart(8);
  L.push('');
  L.push(`${w('probes')}${w('same')}${w('allowed')}${w('failing')}`);
  L.push(`${w(s.probes)}${w(s.same)}${w(s.allowed)}${w(s.failing)}`);
  return L.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const arg = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const binary = findEspruino();
  if (!binary) {
    console.log(`fidelity: skipped, ${noEspruinoReason()}`);
    return 0;
  }
  const show = arg('--show');
  if (show) {
    const source = readFileSync(join(PROBE_DIR, show + '.js'), 'utf8');
    const [real, vboard] = await Promise.all([runReal(binary, source), runVboard(source)]);
    const j = judge(show, real.out, vboard, loadAllowList());
    console.log(`--- real (exit ${real.code})\n${visible(real.out)}\n--- vboard\n${visible(vboard)}\n--- ${j.verdict}`);
    if (j.verdict !== 'same') console.log(diff(j.realNorm, j.vboardNorm));
    return 0;
  }
  const t0 = Date.now();
  const s = await runFidelity({ binary, filter: arg('--filter'), jobs: Number(arg('--jobs') ?? 2) });
  console.log(report(s, loadAllowList(), argv.includes('--verbose')));
  console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s, ${binary})`);
  return s.failing > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(2);
    }
  );
}
