// The WAL checkpointer of an SQLite PSS store (server/wal-checkpoints.ts), in a thread of its
// own: copies committed pages from the write-ahead log into the database file on a connection
// of its own, so that the event loop never does (the ingest's largest single cost when SQLite
// checkpointed at commit: bench pss). Plain JavaScript (better-sqlite3 only).
//
// Messages in: 'wal' (the store committed: checkpoint if the log is long enough), 'close'.
// Out: 'done' after each 'wal'; on 'close' the connection is closed, then flag[0] set to 1
// and notified (the store waits for it).
import fs from 'node:fs';
import { workerData, parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, flag, minFrames, restartBytes, busyMs } = workerData;
const signal = new Int32Array(flag);
const db = new Database(file, { timeout: busyMs });
const pageSize = Number(db.pragma('page_size', { simple: true }));

function walBytes() {
  try {
    return fs.statSync(file + '-wal').size;
  } catch {
    return 0;
  }
}

parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
    parentPort.close();
    return;
  }
  try {
    const bytes = walBytes();
    // PASSIVE never makes the writer wait; once the log has outgrown restartBytes (a writer
    // that never paused long enough for a passive checkpoint to catch up) RESTART waits for the
    // writer's transaction to end and makes the next one start the log again from its head
    // (holding writers back at most busyMs more while a reader still uses the log)
    if (bytes >= restartBytes) db.pragma('wal_checkpoint(RESTART)');
    else if (bytes >= minFrames * (pageSize + 24)) db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy past busyMs or an I/O error: the next commit asks again; SQLite's own checkpoint
    // when the last connection closes still runs
  }
  parentPort.postMessage('done');
});
