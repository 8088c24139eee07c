// Where the real Espruino interpreter (the Linux build of Espruino 2v29) lives on this machine.
//
// The project never assumes a path: a lab sets ESPRUINO_BIN to the binary it built from
// Espruino's source (README, "The real interpreter"); .ci/run sets it from the workplace's
// shared folder. The fixed-memory builds that stand for a Pico (5,100 variables) and a
// Puck.js (2,630) are found through ESPRUINO_BIN_5100 / ESPRUINO_BIN_2630, or beside
// ESPRUINO_BIN with the suffixes -5100vars / -2630vars.
import { accessSync, constants } from 'node:fs';

/** Which build: 'resizable' (variables grow as needed), or fixed at 5,100 / 2,630 variables. */
export type EspruinoMemory = 'resizable' | '5100' | '2630';

export const MEMORY_VARIABLES: Record<EspruinoMemory, number | null> = { resizable: null, '5100': 5100, '2630': 2630 };

function executable(path: string | undefined): string | null {
  if (!path) return null;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/** Absolute path of the Espruino binary for `memory`, or null when this machine has none. */
export function findEspruino(memory: EspruinoMemory = 'resizable', env: NodeJS.ProcessEnv = process.env): string | null {
  const base = env.ESPRUINO_BIN;
  if (memory === 'resizable') return executable(base);
  return executable(env['ESPRUINO_BIN_' + memory]) ?? executable(base ? `${base}-${memory}vars` : undefined);
}

/** One line saying why tests that need the real interpreter are skipped. */
export function noEspruinoReason(memory: EspruinoMemory = 'resizable', env: NodeJS.ProcessEnv = process.env): string {
  const given = memory === 'resizable' ? env.ESPRUINO_BIN : env['ESPRUINO_BIN_' + memory] ?? (env.ESPRUINO_BIN ? `${env.ESPRUINO_BIN}-${memory}vars` : undefined);
  if (given) return `no Espruino Linux binary at ${given} (not an executable file): build Espruino 2v29 for Linux (README, "The real interpreter") and point ${memory === 'resizable' ? 'ESPRUINO_BIN' : `ESPRUINO_BIN_${memory}`} at it`;
  const what = memory === 'resizable' ? 'ESPRUINO_BIN' : `ESPRUINO_BIN_${memory} (or ESPRUINO_BIN-${memory}vars)`;
  return `no Espruino Linux binary: set ${what} to Espruino 2v29 built for Linux (README, "The real interpreter")`;
}
