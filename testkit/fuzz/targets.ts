// The fuzz targets by name: both runners (test/fuzz.test.ts, tools/fuzz.ts) take them from here.
//
// To add one: write testkit/fuzz/<name>-target.ts exporting a FuzzTarget (framework.ts: an
// arbitrary, open() -> runCase(input) judging one input as crash / hang / state / unanswered,
// show(input)), reuse wire.ts for anything that reads frames, and add it below. Both runners
// and the `npm run fuzz` summary pick it up by name.
import type { FuzzTarget } from './framework.ts';
import { frameTarget } from './frame-target.ts';
import { deviceTarget } from './device-target.ts';
import { storeTarget } from './store-target.ts';
import { pssTarget } from './pss-target.ts';

export const targets: { [name: string]: () => FuzzTarget<any> } = {
  frame: () => frameTarget(),
  device: () => deviceTarget({ board: 'pico' }),
  store: () => storeTarget(),
  pss: () => pssTarget()
};

export const targetNames = Object.keys(targets);
