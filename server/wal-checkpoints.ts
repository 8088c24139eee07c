// Checkpoints of an SQLite store's write-ahead log off the event loop. SQLite by default
// checkpoints in the connection that commits, once the log passes 1,000 pages: then one
// commit in a few dozen copies the log's pages into the database file and fsyncs it, on the
// event loop (measured: the better part of the ingest's storage time). The store turns that
// off (wal_autocheckpoint = 0) and nudges a thread of its own (server/checkpoint-worker.js)
// after each commit; the thread checkpoints on its own connection while the event loop goes on.
//
// Durability is SQLite's own: a checkpoint copies only committed frames, syncs the log before
// and the database file after, and the log is started again only once every frame is in the
// database file; the store's commits are durable when its own fdatasync of the log returns
// (server/db.ts), whoever checkpoints later.
import { Worker } from 'node:worker_threads';

/** Pages in the log before a checkpoint is worth it (SQLite's own default for autocheckpoint). */
const MIN_FRAMES = 1000;
/** Log size past which the checkpointer makes the writer wait for a full one (RESTART). */
const RESTART_BYTES = 256 * 1024 * 1024;
/** The checkpointer's busy timeout: how long a RESTART may hold the writers back while it waits
 * for a reader (a long report) to let go of the log; then it gives up until the next commit. */
const RESTART_WAIT_MS = 200;
/** How long close() waits for a checkpoint under way to end. */
const CLOSE_WAIT_MS = 10000;

export class WalCheckpointer {
  private worker: Worker | null = null;
  private flag = new SharedArrayBuffer(4);
  private busy = false;
  private failed = false;

  /**
   * `file`: the SQLite database (in WAL mode); `onFail`: called if the thread fails (the store
   * then lets SQLite checkpoint at commit again).
   */
  constructor(
    private file: string,
    private onFail: () => void
  ) {}

  /**
   * After a commit, with the log's size in bytes: a checkpoint once the log is long enough,
   * unless one is under way (it takes what was committed since). The thread starts at the
   * first (a store that never writes much never starts one).
   */
  committed(walBytes: number): void {
    if (this.busy || this.failed || walBytes < MIN_FRAMES * 4096) return;
    this.busy = true;
    (this.worker ??= this.start()).postMessage('wal');
  }

  private start(): Worker {
    const w = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { file: this.file, flag: this.flag, minFrames: MIN_FRAMES, restartBytes: RESTART_BYTES, busyMs: RESTART_WAIT_MS },
      execArgv: []
    });
    w.unref();
    w.on('message', () => (this.busy = false));
    w.on('error', () => {
      this.failed = true;
      this.onFail();
    });
    return w;
  }

  /** Ends the thread (if it started) after its checkpoint under way, its connection closed. */
  close(): void {
    const w = this.worker;
    this.worker = null;
    this.failed = true;
    if (!w) return;
    w.postMessage('close');
    Atomics.wait(new Int32Array(this.flag), 0, 0, CLOSE_WAIT_MS);
    void w.terminate();
  }
}
