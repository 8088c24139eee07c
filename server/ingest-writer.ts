// The PSS's ingest writer: a thread (server/ingest-writer-worker.js for SQLite,
// server/pg-ingest-worker.js for PostgreSQL) that stores the blocks the event loop verified,
// on a connection of its own, and answers once they are durable.
// The event loop (frames, requests, decoding, verification, answers) and SQLite's work for the
// rows then run on two cores at once instead of one after the other (bench pss: the rows of a
// 50-record block are the larger part of an upload's cost).
//
// Verification happens before the write transaction, against what is stored plus what was
// handed to the writer and not yet answered (server/pss.ts keeps that). The writer checks in
// its transaction that the device's facts and its last block are still the ones the block was
// verified against, and answers `retry` when they are not (a revocation, a rekey, another
// process storing that device's blocks meanwhile): the PSS verifies the block again. So a
// block is stored only if it is valid against what precedes it in the database, as when
// verification and storage shared a transaction.
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { PssError } from '../protocol/pss-errors.ts';

/** What the block was verified against: the writer compares it with the database. */
export interface WriteExpectation {
  status: string;
  seal: number;
  publicKey: string | null;
  keyVersion: number;
  /** the device's last stored block then (0: none) and its digest (hex) */
  prevSeq: number;
  prevDigest: string | null;
}

export type WriteItem =
  /** row: the blocks row's values, `raw` as a byte string (a string crosses to the thread as one
   * copy; a small Buffer would take its whole 8 KB pool with it); records: 10 values a record */
  | { t: 'block'; device: number; seq: number; row: unknown[]; records: Float64Array; expect: WriteExpectation }
  | { t: 'rejection'; row: unknown[] }
  /** a repeat of a block handed over before it: confirmed only if that block is stored (digest hex) */
  | { t: 'stored'; device: number; seq: number; digest: string }
  | { t: 'none' };

export type WriteResult = { ok: true } | { retry: true } | { error: { code: 'BUSY' | 'STORAGE'; message: string } };

/** How long close() waits for the writer's transaction under way. */
const CLOSE_WAIT_MS = 10000;

export class IngestWriter {
  private worker: Worker;
  private port: MessagePort;
  private flag = new SharedArrayBuffer(4);
  private ready = false;
  private failed: Error | null = null;
  private lastId = 0;
  private waiting = new Map<number, { items: WriteItem[]; resolve: (r: WriteResult[]) => void }>();
  /** items given in this turn of the event loop: sent as one message */
  private outbox: WriteItem[] = [];
  private outboxResolvers: { from: number; resolve: (r: WriteResult) => void }[] = [];

  /**
   * `db`: the SQLite database (WAL mode; `busyMs`: how long to wait for another writer) or the
   * PostgreSQL URL (`lockTimeoutMs` and the writers' advisory lock `writerLock`, as PgStore's);
   * `walBytes`: told SQLite's log's size after each transaction (the store's checkpoints).
   */
  constructor(
    db: { sqlite: string; busyMs: number } | { postgres: string; lockTimeoutMs: number; writerLock: number },
    private walBytes: (bytes: number) => void = () => {}
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const [script, data] = 'sqlite' in db ? ['./ingest-writer-worker.js', { file: db.sqlite, busyMs: db.busyMs }] : ['./pg-ingest-worker.js', { url: db.postgres, lockTimeoutMs: db.lockTimeoutMs, writerLock: db.writerLock }];
    this.worker = new Worker(new URL(script, import.meta.url), { workerData: { ...data, port: port2, flag: this.flag }, transferList: [port2], execArgv: [] });
    this.worker.unref();
    this.port.unref();
    this.port.on('message', (m: 'ready' | { groups: { id: number; results: WriteResult[] }[]; walBytes: number }) => {
      if (m === 'ready') {
        this.ready = true;
        this.flush();
        this.readyNow();
        return;
      }
      for (const g of m.groups) {
        const w = this.waiting.get(g.id);
        this.waiting.delete(g.id);
        w?.resolve(g.results);
      }
      this.walBytes(m.walBytes);
    });
    this.worker.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    this.worker.on('exit', () => this.fail(new Error('the ingest writer thread ended')));
  }

  private readyNow: () => void = () => {};
  /** Resolves once the thread has its connection (or failed: then every write is refused). */
  readonly started: Promise<void> = new Promise((resolve) => (this.readyNow = resolve));

  /** Stores one item after every item given before it; resolves once it is durable (or refused). */
  write(item: WriteItem): Promise<WriteResult> {
    if (this.failed) return Promise.resolve({ error: { code: 'STORAGE', message: this.failed.message } });
    return new Promise((resolve) => {
      if (!this.outbox.length) setImmediate(() => this.flush());
      this.outboxResolvers.push({ from: this.outbox.length, resolve });
      this.outbox.push(item);
    });
  }

  private flush() {
    if (!this.ready || !this.outbox.length || this.failed) return;
    const items = this.outbox;
    const resolvers = this.outboxResolvers;
    this.outbox = [];
    this.outboxResolvers = [];
    const id = ++this.lastId;
    this.waiting.set(id, { items, resolve: (results) => resolvers.forEach((r) => r.resolve(results[r.from])) });
    this.port.postMessage({ id, items });
  }

  private fail(e: Error) {
    if (this.failed) return;
    this.failed = e;
    this.readyNow();
    const error: WriteResult = { error: { code: 'STORAGE', message: `ingest writer: ${e.message}; the uploads are not confirmed` } };
    for (const w of this.waiting.values()) w.resolve(w.items.map(() => error));
    this.waiting.clear();
    for (const r of this.outboxResolvers) r.resolve(error);
    this.outbox = [];
    this.outboxResolvers = [];
  }

  /** Ends the thread after the transactions it was given, its connection closed. */
  close(): void {
    if (this.failed) return;
    this.flush();
    const ready = this.ready;
    this.fail(new Error('the data center is closing'));
    if (ready) {
      this.port.postMessage('close');
      Atomics.wait(new Int32Array(this.flag), 0, 0, CLOSE_WAIT_MS);
    }
    void this.worker.terminate();
  }
}

/** A writer's refusal as the PSS reports it. */
export function writeError(r: { error: { code: 'BUSY' | 'STORAGE'; message: string } }): PssError {
  return new PssError(r.error.code, r.error.message);
}
