// Builds the crypto probe image (entry.ts) for one board with the firmware's own toolchain:
// rollup.config.js's scriptConfig (the same Babel, terser and build flags), then the same
// Espruino 2v29 profile check as tools/build.ts. It boots the probe on the virtual board, whose
// sandbox has only what Espruino has, with that board's emulated native SHA256 and AES.
import { rollup } from 'rollup';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scriptConfig } from '../../rollup.config.js';
import { buildInfoFor } from '../build.ts';
import { checkImage } from '../profile/check.ts';
import { VirtualBoard } from '../../kit/vboard/board.ts';
import type { BoardDef } from '../../board-defs/index.ts';

const ENTRY = new URL('./entry.ts', import.meta.url).pathname;

export interface ProbeImage {
  code: string;
  bytes: number;
  /** profile check failures (empty when the image is fit for Espruino 2v29) */
  errors: string[];
}

/** `overrides` changes the build facts, e.g. `{ seal: 'hmac' }` to measure an image without tweetnacl. */
export async function buildCryptoProbe(board: BoardDef, overrides: Partial<BoardDef> = {}): Promise<ProbeImage> {
  const def = { ...board, ...overrides };
  const config = scriptConfig(buildInfoFor(def, null));
  const bundle = await rollup({
    ...(config as any),
    input: ENTRY,
    onwarn: (w) => {
      throw new Error('rollup: ' + w.message);
    }
  });
  const { output } = await bundle.generate(config.output as any);
  await bundle.close();
  const code = output[0].code;
  const check = checkImage(code, { nativeCrypto: def.nativeCrypto });
  return {
    code,
    bytes: Buffer.byteLength(code),
    errors: check.errors.map((e) => `${e.rule}: ${e.message}${e.line ? ` (line ${e.line}:${e.column})` : ''}`)
  };
}

/** The probe running on a virtual board; call() runs psdCrypto(op, args) inside the image. */
export interface RunningProbe {
  vb: VirtualBoard;
  /** console output of the image (an uncaught error at boot shows up here) */
  log: string[];
  call(op: string, args?: string[]): string;
  stop(): void;
}

export function startProbe(board: BoardDef, image: ProbeImage): RunningProbe {
  const dir = mkdtempSync(join(tmpdir(), 'psd-crypto-probe-'));
  const log: string[] = [];
  const vb = new VirtualBoard({ board, image: image.code, flashFile: join(dir, 'flash'), clock: 'manual', log: (s) => log.push(s) });
  vb.start();
  return {
    vb,
    log,
    call(op, args = []) {
      const r = vb.evaluate(`psdCrypto(${JSON.stringify(op)}, ${JSON.stringify(args)})`);
      if (typeof r !== 'string') throw new Error(`psdCrypto(${op}) gave ${String(r)}; console: ${log.join(' | ')}`);
      return r;
    },
    stop() {
      if (vb.running) vb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
