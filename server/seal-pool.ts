// Seal checks off the event loop: worker threads (server/seal-worker.js) decode uploaded
// blocks and check their digest chain and seal (server/verify.ts checkSeal) while the event
// loop stores the blocks checked before them. The PSS (server/pss.ts) starts a pool once
// uploads arrive faster than it stores them; verifyBlock then takes a worker's result only if
// it was reached under the key the device has in the upload's transaction.
//
// Results come back in the order the blocks were given (a later block of a device must join
// its group commit after the earlier ones, or it would be a gap), whichever thread finished
// first. Jobs given in one turn of the event loop go to a thread as one message.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SealCheck } from './verify.ts';

/** Threads a pool starts: PSS_VERIFY_THREADS, else one per core but the event loop's (0: none). */
export function sealThreads(env: NodeJS.ProcessEnv = process.env): number {
  const n = env.PSS_VERIFY_THREADS === undefined || env.PSS_VERIFY_THREADS === '' ? os.availableParallelism() - 1 : Number(env.PSS_VERIFY_THREADS);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 16) : 0;
}

interface Job {
  raw: string;
  /** null: nothing to check ahead (unknown device); passes through in its turn */
  key: string | null;
  check?: SealCheck | null;
  done: boolean;
  resolve: (c: SealCheck | null) => void;
}

export class SealPool {
  private workers: Worker[] = [];
  private ready = 0;
  private next = 0;
  private order: Job[] = [];
  private byId = new Map<number, Job>();
  private lastId = 0;
  private outbox: { id: number; raw: string; key: string }[][] = [];
  private flushing = false;
  private failed = false;

  constructor(readonly threads: number) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./seal-worker.js', import.meta.url), { execArgv: [] });
      w.unref();
      w.on('message', (m: 'ready' | { id: number; check: SealCheck | null }[]) => {
        if (m === 'ready') {
          this.ready++;
          this.flush();
        } else for (const a of m) this.finish(a.id, a.check);
      });
      // a thread that fails leaves its blocks to the event loop (checked there in full)
      w.on('error', () => this.fail());
      w.on('exit', () => this.fail());
      this.workers.push(w);
      this.outbox.push([]);
    }
  }

  /**
   * Resolves, in the order of the calls, with the seal check of `raw` under `key` (null: it
   * does not decode, was given no key, or no thread could check it: verifyBlock checks it).
   */
  check(raw: string, key: string | null): Promise<SealCheck | null> {
    return new Promise((resolve) => {
      const job: Job = { raw, key, done: false, resolve };
      this.order.push(job);
      if (key === null || this.failed) {
        job.done = true;
        job.check = null;
        return this.release();
      }
      const id = ++this.lastId;
      this.byId.set(id, job);
      this.outbox[this.next].push({ id, raw, key });
      this.next = (this.next + 1) % this.workers.length;
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** blocks still to be checked or released */
  get pending(): number {
    return this.order.length;
  }

  private flush() {
    this.flushing = false;
    if (this.ready < this.workers.length) return; // sent once every thread has loaded
    this.outbox.forEach((jobs, i) => {
      if (!jobs.length) return;
      this.workers[i].postMessage(jobs);
      this.outbox[i] = [];
    });
  }

  private finish(id: number, check: SealCheck | null) {
    const job = this.byId.get(id);
    if (!job) return;
    this.byId.delete(id);
    job.check = check;
    job.done = true;
    this.release();
  }

  /** Settles the jobs at the head of the line that are done. */
  private release() {
    while (this.order.length && this.order[0].done) {
      const job = this.order.shift()!;
      job.resolve(job.check ?? null);
    }
  }

  private fail() {
    if (this.failed) return;
    this.failed = true;
    for (const job of this.byId.values()) {
      job.check = null;
      job.done = true;
    }
    this.byId.clear();
    this.outbox = this.outbox.map(() => []);
    this.release();
  }

  close(): void {
    this.fail();
    for (const w of this.workers) void w.terminate();
  }
}
