/**
 * What runs on this machine: every virtual board and real-interpreter run (`psd sim`, the
 * demo, the tests' targets) notes itself in a small JSON file in the runtime folder, so
 * `psd ports` can list it beside the serial ports; and a board's flash file is locked by the
 * one process that uses it (two boards on one flash file would be one PSD twice).
 *
 * The runtime folder is PSD_RUNTIME_DIR, or `psd-run-<uid>` in the temporary folder. An
 * entry or a lock whose process is gone (killed with -9) counts as absent and is removed by
 * the next reader.
 */
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface RunningEntry {
  kind: 'virtual' | 'real';
  board: string;
  pid: number;
  pty?: string;
  tcp: string;
  /** the virtual board's flash file, or the real run's working folder */
  flashFile?: string;
  dir?: string;
  /** the board's own console output (what the interpreter printed) */
  console?: string;
  started: string;
}

export function runtimeDir(): string {
  if (process.env.PSD_RUNTIME_DIR) return process.env.PSD_RUNTIME_DIR;
  let uid = 'user';
  try {
    uid = String(userInfo().uid);
  } catch {
    /* no passwd entry */
  }
  return join(tmpdir(), `psd-run-${uid}`);
}

export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs fn when this process exits in any way node can see (normal end, process.exit, an
 * uncaught exception); returns a function that cancels it. SIGINT/SIGTERM/SIGHUP end in
 * process.exit through the handlers psd sim installs. */
const exitJobs = new Set<() => void>();
let exitHooked = false;
function atExit(fn: () => void): () => void {
  const job = () => {
    try {
      fn();
    } catch {
      /* best effort at exit */
    }
  };
  exitJobs.add(job);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const j of exitJobs) j();
    });
  }
  return () => {
    exitJobs.delete(job);
  };
}

let seq = 0;

/** Notes a running board; returns the function that removes the note (also run at exit). */
export function registerRunning(e: Omit<RunningEntry, 'pid' | 'started'>): () => void {
  const dir = runtimeDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${++seq}.json`);
  const entry: RunningEntry = { ...e, pid: process.pid, started: new Date().toISOString() };
  writeFileSync(file, JSON.stringify(entry, null, 2));
  const remove = () => {
    try {
      unlinkSync(file);
    } catch {
      /* gone already */
    }
  };
  const cancel = atExit(remove);
  return () => {
    cancel();
    remove();
  };
}

/** Running boards on this machine (entries of dead processes are removed). */
export function listRunning(): RunningEntry[] {
  const dir = runtimeDir();
  if (!existsSync(dir)) return [];
  const out: RunningEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/^\d+-\d+\.json$/.test(name)) continue;
    const file = join(dir, name);
    let e: RunningEntry | null = null;
    try {
      e = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      e = null;
    }
    if (!e || !alive(e.pid)) {
      try {
        unlinkSync(file);
      } catch {
        /* another reader removed it */
      }
      continue;
    }
    out.push(e);
  }
  return out;
}

export class FlashInUseError extends Error {
  constructor(public readonly file: string, public readonly pid: number) {
    super(`${file} is in use by process ${pid} (another board runs on this flash file); stop that one, or give another --flash-file`);
  }
}

/**
 * Locks a flash file for this process: `<file>.lock` holds its pid, created exclusively.
 * A lock of a process that is gone is taken over. Returns the release (also run at exit).
 */
export function lockFlashFile(file: string): () => void {
  const lock = file + '.lock';
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw e;
      let pid = 0;
      try {
        pid = Number(readFileSync(lock, 'latin1').trim());
      } catch {
        continue; // removed meanwhile: try again
      }
      if (pid && pid !== process.pid && alive(pid)) throw new FlashInUseError(file, pid);
      if (pid === process.pid) throw new FlashInUseError(file, pid);
      try {
        unlinkSync(lock); // a stale lock (its process was killed)
      } catch {
        /* someone else took it over: the next attempt sees theirs */
      }
    }
  }
  const release = () => {
    try {
      if (readFileSync(lock, 'latin1').trim() === String(process.pid)) unlinkSync(lock);
    } catch {
      /* gone already */
    }
  };
  const cancel = atExit(release);
  return () => {
    cancel();
    release();
  };
}

/** Removes pty links `vboard-<board>-<pid>-<stamp>` in the temporary folder whose process is
 * gone (a sim killed with -9 cannot remove its own): they would point at terminal numbers
 * the system hands out again. Returns the paths removed. */
export function sweepStaleLinks(dir = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = /^vboard-.+-(\d+)-[0-9a-z]+$/.exec(n);
    if (!m || alive(Number(m[1]))) continue;
    const p = join(dir, n);
    try {
      if (!lstatSync(p).isSymbolicLink()) continue;
      readlinkSync(p);
      unlinkSync(p);
      removed.push(p);
    } catch {
      /* not ours, or gone */
    }
  }
  return removed;
}

/** Removes a path at exit unless cancelled (for links). */
export function unlinkAtExit(path: string): () => void {
  return atExit(() => {
    try {
      if (lstatSync(path)) unlinkSync(path);
    } catch {
      /* gone */
    }
  });
}
