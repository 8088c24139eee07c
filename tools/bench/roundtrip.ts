// Frames per second and bytes per round trip through the virtual board: N ECHO round trips
// through PsdClient, over an in-process link (vb.hostWrite / 'hostData', no line at all) and
// over the pseudo-terminal (serialport + socat + TCP), beside what a 115,200-baud serial line
// could carry for the same bytes (11,520 bytes/s with 8N1 framing).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getBoard } from '../../board-defs/index.ts';
import { DIST } from '../build.ts';
import { VirtualBoard } from '../../kit/vboard/board.ts';
import { exposeBoard } from '../../kit/vboard/expose.ts';
import { openLink, type Link } from '../../host-bridge/link.ts';
import { PsdClient } from '../../host-bridge/client.ts';
import { Command } from '../../protocol/commands.ts';
import { table, fmt, type Bench } from './common.ts';

export const LINE_BYTES_PER_S = 115200 / 10; // 8 data bits + start + stop
export const PAYLOADS = [16, 256, 900];

/** A Link straight into the virtual board's data port, no serial line in between. */
export function inProcessLink(vb: VirtualBoard): Link {
  return {
    description: 'in-process',
    write: (b) => vb.hostWrite(b),
    onData: (h) => vb.on('hostData', h),
    onClose: () => {},
    close: async () => {}
  };
}

export interface RoundTrips {
  transport: string;
  payload: number;
  n: number;
  perSecond: number;
  meanMs: number;
  bytesPerTrip: number;
}

/** n ECHO round trips of `payload` data bytes; each answer is checked. */
export async function echoRoundTrips(client: PsdClient, transport: string, payload: number, n: number): Promise<RoundTrips> {
  const data = 'x'.repeat(payload);
  await client.request(Command.ECHO, { data }); // warm up
  const out0 = client.stats.bytesOut + client.stats.bytesIn;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await client.request(Command.ECHO, { data });
    if (r.data !== data) throw new Error('echo answered different data');
  }
  const ms = performance.now() - t0;
  const bytes = client.stats.bytesOut + client.stats.bytesIn - out0;
  return { transport, payload, n, perSecond: (n * 1000) / ms, meanMs: ms / n, bytesPerTrip: bytes / n };
}

export const roundtrip: Bench = {
  id: 'roundtrip',
  title: 'ECHO round trips through the virtual pico (PsdClient): frames per second, bytes per round trip',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'psd-bench-rt-'));
    const vb = new VirtualBoard({ board: getBoard('pico'), imagePath: join(DIST, 'pico.js'), flashFile: join(dir, 'flash.bin'), clock: 'real', log: () => {} });
    vb.start();
    const results: RoundTrips[] = [];
    const notes: string[] = [];
    try {
      const inproc = new PsdClient(inProcessLink(vb), { timeoutMs: 2000, retries: 0 });
      for (const p of PAYLOADS) results.push(await echoRoundTrips(inproc, 'in-process', p, 300));
      if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0) {
        const ex = await exposeBoard(vb, { pty: true, ptyLink: join(dir, 'tty') });
        try {
          const client = new PsdClient(await openLink(ex.ptyPath!), { timeoutMs: 2000, retries: 0 });
          try {
            for (const p of PAYLOADS) results.push(await echoRoundTrips(client, 'pty', p, 100));
          } finally {
            await client.close();
          }
        } finally {
          await ex.close();
        }
      } else notes.push('socat is missing: no pseudo-terminal measurement (apt-get install socat).');
    } finally {
      if (vb.running) vb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const rows = results.map((r) => [
      r.transport,
      fmt(r.payload),
      fmt(r.n),
      fmt(r.perSecond),
      fmt(2 * r.perSecond),
      fmt(r.meanMs, 2),
      fmt(r.bytesPerTrip),
      fmt(LINE_BYTES_PER_S / r.bytesPerTrip, 1)
    ]);
    notes.unshift(
      'A round trip is one request frame and one answer frame (12 bytes of framing each, JSON {"data":...} payload).',
      `"115200 baud" is the most round trips per second a real 115,200-baud line could carry for the same bytes (${fmt(LINE_BYTES_PER_S)} bytes/s);`,
      'the virtual board has no baud rate, so its numbers measure the interpreter, the codec and the host stack, not the line.'
    );
    return table(['link', 'payload B', 'trips', 'trips/s', 'frames/s', 'mean ms', 'bytes/trip', '115200 baud trips/s'], rows) + '\n' + notes.join('\n');
  }
};
