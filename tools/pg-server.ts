// A throwaway PostgreSQL server for tests and benchmarks: initdb on a fresh temporary data
// folder, postgres on a free port of 127.0.0.1 (and a socket in that folder), trust
// authentication for one user, removed again by stop(). PostgreSQL refuses to run as root:
// as root (CI, this lab's machines) the folder is given to the `postgres` user that Debian's
// package makes, and initdb and pg_ctl run as that user (runuser), which is the supported way.
//
// Binaries: PG_BIN if set, else the newest /usr/lib/postgresql/<version>/bin (Debian's
// `apt-get install postgresql`), else initdb/pg_ctl on PATH. findPostgres() says why not.
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';

export interface PgServer {
  /** postgres://user@localhost:port/ */
  baseUrl: string;
  /** the URL of a database on it (through its Unix socket) */
  url(database: string): string;
  port: number;
  dataDir: string;
  stop(): void;
}

export function findPostgres(): { bin: string } | { missing: string } {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(path.join(debian, v, 'bin'));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(dir);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')) && fs.existsSync(path.join(dir, 'postgres'))) return { bin: dir };
  }
  return { missing: `no PostgreSQL server binaries (initdb, pg_ctl, postgres) in PG_BIN, ${debian}/<version>/bin or PATH: apt-get install postgresql` };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The user the server runs as: ourselves, or (as root) `postgres`, which Debian's package makes. */
function serverUser(): { name: string; uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (r.status === 0) {
      const uid = Number(r.stdout.trim());
      const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
      return { name, uid, gid };
    }
  }
  throw new Error('running as root and there is no postgres user to run PostgreSQL as (apt-get install postgresql makes one)');
}

/**
 * Starts a server. `durable`: fsync as a real deployment (benchmarks); off by default (tests:
 * the folder is thrown away anyway).
 */
export async function startPostgres(opts: { durable?: boolean; log?: (line: string) => void } = {}): Promise<PgServer> {
  const found = findPostgres();
  if ('missing' in found) throw new Error(found.missing);
  const user = serverUser();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-pg-'));
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'server.log');
  if (user) fs.chownSync(root, user.uid, user.gid);
  const as = (cmd: string, args: string[]) => (user ? ['runuser', ['-u', user.name, '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  const run = (cmd: string, args: string[]) => {
    const [c, a] = as(path.join(found.bin, cmd), args);
    return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  };
  const dbUser = 'pss';
  try {
    run('initdb', ['-D', dataDir, '-U', dbUser, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
  const port = await freePort();
  const settings = [`-p ${port}`, "-c listen_addresses=127.0.0.1", `-c unix_socket_directories=${root}`, '-c max_connections=200', '-c shared_buffers=128MB'];
  if (!opts.durable) settings.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  try {
    run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', settings.join(' '), 'start']);
  } catch (e) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}\n${log}`);
  }
  opts.log?.(`PostgreSQL (${found.bin}) on 127.0.0.1:${port}, data ${dataDir}${user ? `, as user ${user.name}` : ''}`);
  // through the socket in the folder: a round trip costs about half of one over TCP loopback
  // on this lab's machines (tools/bench/pss.ts); 127.0.0.1:port listens too
  const baseUrl = `postgres://${dbUser}@localhost:${port}/`;
  const url = (db: string) => `${baseUrl}${db}?host=${encodeURIComponent(root)}`;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already gone
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', stop);
  return { baseUrl, url, port, dataDir, stop };
}

// `node --import tsx tools/pg-server.ts`: start one and print its URL until Ctrl-C (manual tests)
if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startPostgres({ log: console.log });
  console.log(`PSS_DB=${server.url('pss_{data}')}`);
  const stop = () => {
    server.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  setInterval(() => {}, 1 << 30);
}
