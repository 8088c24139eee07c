/**
 * Expose a VirtualBoard's data port to other programs: a TCP server on 127.0.0.1 (every
 * client sees the board's output; what any client sends reaches the board) and, on
 * request, a pseudo-terminal (via socat) that the `serialport` package opens exactly like a
 * USB board. socat is restarted whenever it exits (it does when the last user of the pty
 * closes it), so the pty link can be opened again and again.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepStaleLinks, unlinkAtExit } from './running.ts';

/** socat is missing (spawn failed with ENOENT): no pseudo-terminal on this machine. */
export class NoSocatError extends Error {
  constructor(bin: string) {
    super(`${bin} is not installed, so there is no pseudo-terminal (apt-get install socat; or use the tcp:// address)`);
  }
}
/** What exposeBoard needs of a board: its data port's output as 'hostData' events, a way to
 * write to it, and its id (a VirtualBoard, or kit/real/runner.ts's RealBoard). */
export interface HostSide {
  readonly board: { id: string };
  on(event: 'hostData', fn: (b: Buffer) => void): unknown;
  off(event: 'hostData', fn: (b: Buffer) => void): unknown;
  hostWrite(bytes: Buffer): void;
}

export interface ExposeOptions {
  /** also create a pseudo-terminal bridged to the TCP server */
  pty?: boolean;
  /** path of the symlink to the pty (default: a fresh name in the temp folder) */
  ptyLink?: string;
  /** TCP port; 0 or undefined = pick a free one */
  tcpPort?: number;
  /** socat binary (default "socat") */
  socat?: string;
}

export interface Exposed {
  ptyPath?: string;
  tcpUrl?: string;
  tcpPort?: number;
  close(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function exposeBoard(vb: HostSide, opts: ExposeOptions = {}): Promise<Exposed> {
  const clients = new Set<Socket>();
  const server: Server = createServer((sock) => {
    clients.add(sock);
    sock.setNoDelay(true);
    sock.on('data', (d) => vb.hostWrite(d));
    sock.on('close', () => clients.delete(sock));
    sock.on('error', () => clients.delete(sock));
  });
  const onData = (b: Buffer) => {
    for (const c of clients) if (!c.destroyed) c.write(b);
  };
  vb.on('hostData', onData);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.tcpPort ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const result: Exposed = {
    tcpUrl: `tcp://127.0.0.1:${port}`,
    tcpPort: port,
    close: async () => {}
  };

  let socat: ChildProcess | null = null;
  let closing = false;
  let spawnError: NodeJS.ErrnoException | null = null;
  if (opts.pty && !opts.ptyLink) sweepStaleLinks();
  const link = opts.ptyLink ?? join(tmpdir(), `vboard-${vb.board.id}-${process.pid}-${Date.now().toString(36)}`);
  // removed on every exit path node sees (close(), process.exit, an uncaught exception);
  // a link left by a sim killed with -9 is swept by the next sim (sweepStaleLinks)
  const cancelUnlink = opts.pty ? unlinkAtExit(link) : () => {};
  const startSocat = () => {
    if (closing) return;
    const p = spawn(opts.socat ?? 'socat', ['-d', '-d', `pty,raw,echo=0,link=${link}`, `TCP:127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      // its own process group: a Ctrl-C at the terminal reaches psd sim, which closes it in order
      detached: true
    });
    socat = p;
    p.stderr!.on('data', () => {});
    p.on('exit', () => {
      if (socat === p) socat = null;
      if (!closing) setTimeout(startSocat, 50);
    });
    p.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        spawnError = e;
        closing = true;
      }
    });
  };
  if (opts.pty) {
    // lstat, not existsSync: a dangling link (its pty gone) must go too
    try { if (lstatSync(link)) unlinkSync(link); } catch { /* none */ }
    startSocat();
    const t0 = Date.now();
    for (;;) {
      let ok = false;
      try { ok = lstatSync(link).isSymbolicLink() && clients.size > 0; } catch { ok = false; }
      if (ok) break;
      if (spawnError || Date.now() - t0 > 10000) {
        closing = true;
        (socat as ChildProcess | null)?.kill();
        vb.off('hostData', onData);
        server.close();
        cancelUnlink();
        if (spawnError) throw new NoSocatError(opts.socat ?? 'socat');
        throw new Error(`exposeBoard: socat did not create ${link}`);
      }
      await sleep(20);
    }
    result.ptyPath = link;
  }

  result.close = async () => {
    closing = true;
    vb.off('hostData', onData);
    const p = socat as ChildProcess | null;
    if (p && p.exitCode === null) {
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
        setTimeout(resolve, 2000);
      });
    }
    for (const c of clients) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (opts.pty) {
      try { if (lstatSync(link)) unlinkSync(link); } catch { /* gone */ }
      cancelUnlink();
    }
  };
  return result;
}

/** true when no socat can be started on this machine (PATH searched as spawn does). */
export function socatMissing(bin = 'socat'): boolean {
  const r = spawnSync(bin, ['-V'], { stdio: 'ignore' });
  return (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
