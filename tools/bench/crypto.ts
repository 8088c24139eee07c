// Crypto cost per operation. Measured: the crypto probe image (tools/crypto-probe), built with
// the firmware toolchain, timed in the virtual board (V8 JIT, emulated native SHA256 and AES).
// Beside it: the figures measured on Espruino's own interpreter (Linux build, one x86-64 core,
// from the project's Espruino notes), and an ESTIMATE for each board class made by scaling
// those figures by clock ratio.
import { performance } from 'node:perf_hooks';
import { getBoard } from '../../board-defs/index.ts';
import { buildCryptoProbe, startProbe, type RunningProbe } from '../crypto-probe/build.ts';
import { table, fmt, type Bench } from './common.ts';

/** Assumed clock of the x86-64 core that measured the Linux-build figures. It was not recorded. */
const HOST_MHZ = 3000;

/** Espruino 2v29 Linux build, measured (the project's Espruino notes), ms per operation. */
const ESPRUINO_LINUX_MS: { [op: string]: number } = { hmac48: 0.77, edKeyPair: 7000, edSign: 7000, x25519: 3800 };

const ESTIMATE_BOARDS = ['esp32', 'pico', 'banglejs2', 'puckjs'];

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
// RFC 8032 TEST 1's key: the seed, and the 64-byte secret key (seed || public key) that signs
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const SECRET_KEY = SEED + 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

interface Op {
  id: string;
  label: string;
  probe: 'pico' | 'esp32';
  call: [string, string[]];
  /** which board images contain it */
  needs: 'any' | 'aes' | 'ed25519';
}

const OPS: Op[] = [
  { id: 'hmac48', label: 'HMAC-SHA256, 48 B', probe: 'pico', call: ['hmac', ['11'.repeat(32), '22'.repeat(48)]], needs: 'any' },
  { id: 'hmac1k', label: 'HMAC seal of a 1 KB block', probe: 'pico', call: ['hmac', ['11'.repeat(32), '33'.repeat(1024)]], needs: 'any' },
  { id: 'aeadSeal', label: 'AEAD seal, 512 B', probe: 'pico', call: ['aeadSeal', ['44'.repeat(32), '55'.repeat(16), '66'.repeat(24), '77'.repeat(512)]], needs: 'aes' },
  // its third argument (the sealed bytes) is filled in by run()
  { id: 'aeadOpen', label: 'AEAD open, 512 B', probe: 'pico', call: ['aeadOpen', ['44'.repeat(32), '66'.repeat(24), '']], needs: 'aes' },
  { id: 'edKeyPair', label: 'Ed25519 key pair from seed', probe: 'esp32', call: ['edPublic', [SEED]], needs: 'ed25519' },
  { id: 'edSign', label: 'Ed25519 sign, 100 B', probe: 'esp32', call: ['edSign', [SECRET_KEY, hex('m'.repeat(100))]], needs: 'ed25519' },
  { id: 'x25519', label: 'X25519 scalar mult', probe: 'esp32', call: ['x25519', [SEED, '09' + '00'.repeat(31)]], needs: 'ed25519' }
];

/** Mean ms per call inside the image: repeats until 200 ms have passed (at least 3 calls). */
function time(p: RunningProbe, op: string, args: string[]): number {
  p.call(op, args); // warm up the JIT
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    p.call('bench', [op, String(n), ...args]);
    const ms = performance.now() - t0;
    if (ms > 200 || n >= 100000) return ms / n;
    n *= ms < 20 ? 10 : 3;
  }
}

function available(boardId: string, needs: Op['needs']): boolean {
  const b = getBoard(boardId);
  if (needs === 'aes') return b.nativeCrypto.includes('AES');
  if (needs === 'ed25519') return b.seal === 'ed25519';
  return true;
}

function ms(v: number): string {
  return v >= 1000 ? fmt(v / 1000, 1) + ' s' : v >= 0.1 ? fmt(v, 2) + ' ms' : fmt(v * 1000, 1) + ' us';
}

export const crypto: Bench = {
  id: 'crypto',
  title: 'Crypto per operation: the probe image in the virtual board, Espruino Linux measured, boards ESTIMATED by clock ratio',
  async run() {
    const probes: { [id: string]: RunningProbe } = {};
    const rows: string[][] = [];
    try {
      for (const id of ['pico', 'esp32'] as const) {
        const image = await buildCryptoProbe(getBoard(id));
        if (image.errors.length) throw new Error(`${id} crypto probe breaks the profile: ${image.errors[0]}`);
        probes[id] = startProbe(getBoard(id), image);
      }
      // the open row opens what the seal row seals
      const seal = OPS.find((o) => o.id === 'aeadSeal')!;
      OPS.find((o) => o.id === 'aeadOpen')!.call[1][2] = probes.pico.call(seal.call[0], seal.call[1]);
      for (const op of OPS) {
        const v8 = time(probes[op.probe], op.call[0], op.call[1]);
        const linux = ESPRUINO_LINUX_MS[op.id];
        const est = ESTIMATE_BOARDS.map((b) => {
          if (!available(b, op.needs)) return 'not in image';
          if (linux === undefined) return 'no figure';
          return '~' + ms((linux * HOST_MHZ) / getBoard(b).clockMHz);
        });
        rows.push([op.label, `${ms(v8)} (${op.probe})`, linux === undefined ? 'not measured' : ms(linux), ...est]);
      }
    } finally {
      for (const p of Object.values(probes)) p.stop();
    }
    const header = ['operation', 'virtual board (V8)', 'Espruino Linux (measured)', ...ESTIMATE_BOARDS.map((b) => `${b} ${getBoard(b).clockMHz} MHz (ESTIMATE)`)];
    return (
      table(header, rows) +
      '\n' +
      [
        'virtual board: the probe image (firmware toolchain, same code path as the firmware) on x86 V8 with node:crypto standing in',
        'for the native SHA256/AES: it says nothing about a real board\'s speed.',
        'Espruino Linux: measured on the Espruino 2v29 interpreter, one x86-64 core (HMAC over 48 bytes; tweetnacl nacl-fast).',
        `ESTIMATE columns = the Linux figure x (${HOST_MHZ} MHz assumed host clock / board clock). Not measured on a board. Clock ratio`,
        'ignores the x86 core\'s higher work per cycle and flash wait states, so real boards are likely slower still: read them as lower bounds.',
        '"not in image": the board\'s image has no such crypto (AES: no native AES-CBC; Ed25519/X25519: only ed25519-seal boards).',
        '"no figure": no Espruino measurement of this operation to scale.'
      ].join('\n')
    );
  }
};
