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
import { modelTarget } from './model-target.ts';

export const targets: { [name: string]: () => FuzzTarget<any> } = {
  frame: () => frameTarget(),
  device: () => deviceTarget({ board: 'pico' }),
  store: () => storeTarget(),
  pss: () => pssTarget(),
  // the ledger against its model under random power cuts (test/model.test.ts runs them short)
  model: () => modelTarget(),
  'model-sequential': () => modelTarget({ tears: 'sequential' }),
  'model-image': () => modelTarget({ image: true, board: 'linux', maxSteps: 20 })
};

/** Targets test/model.test.ts runs in `npm test` (test/fuzz.test.ts leaves them to it). */
export const MODEL_TARGETS = ['model', 'model-sequential', 'model-image'];

export const targetNames = Object.keys(targets);
