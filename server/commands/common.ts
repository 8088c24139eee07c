// What the core `pss` commands share: the data directory and output.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../datacenter.ts';
import { PssError } from '../../protocol/pss-errors.ts';

/** --data on the subcommand or the program, else PSS_DATA, else the platform's data directory. */
export function dataDir(cmd: Command): string {
  const o = cmd.optsWithGlobals() as { data?: string };
  return path.resolve(o.data ?? process.env.PSS_DATA ?? DEFAULT_DATA_DIR);
}

/**
 * The data directory of a command that works on an existing data center (every one but
 * `pss init` and `pss serve`): refused when the folder does not exist, so that a mistyped
 * --data or PSS_DATA names the problem instead of making a new, empty data center there.
 * Throws PssError BAD_ARGUMENT naming the folder and how to make one.
 */
export function existingDataDir(cmd: Command): string {
  return requireDataCenter(dataDir(cmd));
}

/** `dir` when it exists; else PssError BAD_ARGUMENT: check --data / PSS_DATA, or `pss init` there. */
export function requireDataCenter(dir: string): string {
  if (!fs.existsSync(dir))
    throw new PssError('BAD_ARGUMENT', `no data center at ${dir}: the folder does not exist (check --data or PSS_DATA); to make a new data center there: pss init --data ${dir}`);
  return dir;
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
