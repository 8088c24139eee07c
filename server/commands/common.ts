// What the core `pss` commands share: the data directory and output.
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../datacenter.ts';
import { PssError } from '../../protocol/pss-errors.ts';

/** --data on the subcommand or the program, else PSS_DATA, else the platform's data directory. */
export function dataDir(cmd: Command): string {
  const o = cmd.optsWithGlobals() as { data?: string };
  return path.resolve(o.data ?? process.env.PSS_DATA ?? DEFAULT_DATA_DIR);
}

export function json(cmd: Command): boolean {
  return Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
}

/** A device as every screen prints it (`PSD-4711`) or its number (`4711`). */
export function deviceNumber(text: string, name = 'device'): number {
  return positiveInt(String(text).replace(/^PSD-/i, ''), name, 1, 4294967295);
}

export function positiveInt(text: string, name: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(String(text)) || n < min || n > max) throw new PssError('BAD_ARGUMENT', `${name} must be an integer ${min}..${max}, not "${text}"`);
  return n;
}
