// What the `psd` commands share: the CLI's device/print kit (cli.ts builds it), argument
// parsers and the labels every screen prints. Each command file imports it from here, so the
// command files do not import each other.
import { Command, InvalidArgumentError } from 'commander';
import { MIXED_BAND, WEIGHT_BANDS_G, MAX_U32 } from '../protocol/records.ts';
import type { PsdClient } from './client.ts';

export interface CliKit {
  withDevice<T>(cmd: Command, fn: (client: PsdClient) => Promise<T>): Promise<T>;
  print(cmd: Command, value: unknown, human: () => string): void;
  json(cmd: Command): boolean;
}

/** commander argument parser: an integer in min..max */
export function int(min: number, max: number) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`not an integer: ${v}`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`must be ${min}..${max}`);
    return n;
  };
}

/** commander argument parser: a device as every screen prints it (`PSD-4711`) or its number (`4711`) */
export function deviceNumber(min = 0, max = MAX_U32) {
  const n = int(min, max);
  return (v: string): number => {
    const m = /^\s*psd-(.*)$/i.exec(v);
    try {
      return n(m ? m[1] : v);
    } catch (e) {
      throw new InvalidArgumentError(`not a device: ${v} (give it as PSD-4711 or 4711; ${(e as Error).message})`);
    }
  };
}

export function formatClock(seconds: number): string {
  return seconds ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : 'not set';
}

export function bandLabel(band: number): string {
  if (band === MIXED_BAND) return 'all (summary)';
  const hi = WEIGHT_BANDS_G[band];
  if (hi === undefined) return `band ${band}`;
  const lo = band ? WEIGHT_BANDS_G[band - 1] + 1 : 1;
  return `${lo}-${hi} g`;
}
