// The device states the fuzz cases start from, each built once per run by ordinary commands
// on the built image and kept as a flash file; a case whose device changed gets a fresh
// board booted from that file. Keys are fixed so a case replays the same way in any run.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from '../../protocol/commands.ts';
import { FuzzBoard } from './device-board.ts';
import { fundsMac, confirmMac, type Facts } from './device-commands.ts';

export const SCENARIOS = ['blank', 'ready', 'batch', 'dynamic', 'sealed', 'host'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** The host time every scenario's clock is set to (the device clock restarts at power-up). */
export const CLOCK_MS = Date.UTC(2026, 10, 24, 9);
const DEVICE = 4711;
const key = (label: string) => createHash('sha256').update(label).digest();

function baseFacts(): Facts {
  return {
    device: DEVICE,
    deviceKey: key('psd fuzz device key'),
    kmsKey: key('psd fuzz kms key'),
    provisioned: false,
    clockSet: false,
    fundsCounter: 0,
    descending: 0,
    fundsTotal: 0,
    batch: null,
    lastFrankId: 0,
    digests: {},
    sealedSeq: 0,
    confirmedSeq: 0,
    lockUntilConfirmed: false,
    recordsOnHost: false,
    holdsRecords: false
  };
}

let setupSeq = 0x9000;
const next = () => (setupSeq = setupSeq >= 0x9fff ? 0x9000 : setupSeq + 1);

/** Provision, set the clock, load 1,000,000. */
async function funded(b: FuzzBoard, f: Facts) {
  await b.call(Command.PROVISION, { device: f.device, deviceKey: f.deviceKey.toString('hex'), kmsKey: f.kmsKey.toString('hex') }, next());
  await b.call(Command.CLOCK, { now: CLOCK_MS }, next());
  await b.call(Command.FUNDS, { counter: 1, amount: 1000000, mac: fundsMac(f, 1, 1000000) }, next());
  f.provisioned = f.clockSet = true;
  f.fundsCounter = 1;
  f.fundsTotal = 1000000;
}

/** Funded, then three single pieces franked (two flushed to flash). */
async function ready(b: FuzzBoard, f: Facts) {
  await funded(b, f);
  f.holdsRecords = true;
  for (const id of [101, 102]) await b.call(Command.FRANK, { id, customer: 1001, category: 1, weight: 20, postage: 85 }, next());
  await b.call(Command.STATS_FLUSH, {}, next());
  await b.call(Command.FRANK, { id: 103, customer: 1002, category: 7, weight: 1200, postage: 490 }, next());
  f.lastFrankId = 103;
}

const BUILD: { [name in ScenarioName]: (b: FuzzBoard, f: Facts) => Promise<void> } = {
  blank: async () => {},
  ready,
  batch: async (b, f) => {
    await ready(b, f);
    await b.call(Command.BATCH_START, { mode: 'batch', customer: 1003, category: 3, weight: 45, postage: 60 }, next());
    await b.call(Command.FRANK, { id: 104, count: 5 }, next());
    f.batch = { mode: 'batch' };
    f.lastFrankId = 104;
  },
  dynamic: async (b, f) => {
    await ready(b, f);
    await b.call(Command.BATCH_START, { mode: 'dynamic', customer: 1004 }, next());
    f.batch = { mode: 'dynamic' };
  },
  // block 1 sealed and confirmed, a piece franked, block 2 sealed and awaiting confirmation
  // with franking locked until it is confirmed
  sealed: async (b, f) => {
    await ready(b, f);
    const one = await b.call(Command.STATS_EXTRACT, {}, next());
    f.digests[1] = Buffer.from(one.digest, 'hex');
    await b.call(Command.CONFIRM, { seq: 1, mac: confirmMac(f, 1) }, next());
    await b.call(Command.FRANK, { id: 105, customer: 1001, category: 1, weight: 20, postage: 85 }, next());
    await b.call(Command.CONFIG, { lockUntilConfirmed: true }, next());
    const two = await b.call(Command.STATS_EXTRACT, {}, next());
    f.digests[2] = Buffer.from(two.digest, 'hex');
    f.sealedSeq = 2;
    f.confirmedSeq = 1;
    f.lastFrankId = 105;
    f.lockUntilConfirmed = true;
  },
  // the statistics records are kept on the host (sealed through HOST_SEAL_*): two pieces franked
  host: async (b, f) => {
    await funded(b, f);
    await b.call(Command.CONFIG, { recordsOnHost: true }, next());
    for (const id of [106, 107]) await b.call(Command.FRANK, { id, customer: 1001, category: 2, weight: 20, postage: 85 }, next());
    f.recordsOnHost = true;
    f.lastFrankId = 107;
  }
};

export interface Scenario {
  name: ScenarioName;
  facts: Facts;
  /** flash file to boot from (null: blank flash) */
  flash: string | null;
}

/** Builds every scenario's flash on `boardId`; call dispose() when done. */
export async function buildScenarios(boardId: string, image?: string): Promise<{ scenarios: Map<ScenarioName, Scenario>; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'psd-fuzz-scenarios-'));
  const scenarios = new Map<ScenarioName, Scenario>();
  for (const name of SCENARIOS) {
    const facts = baseFacts();
    if (name === 'blank') {
      scenarios.set(name, { name, facts, flash: null });
      continue;
    }
    const b = new FuzzBoard(boardId, null, image);
    try {
      await b.settle();
      await BUILD[name](b, facts);
      const s = await b.status(next());
      facts.descending = s.registers.descending;
      b.vb.stop();
      const flash = join(dir, name + '.flash');
      copyFileSync(b.flashFile, flash);
      if (existsSync(b.flashFile + '.storage.json')) copyFileSync(b.flashFile + '.storage.json', flash + '.storage.json');
      scenarios.set(name, { name, facts, flash });
    } finally {
      b.close();
    }
  }
  return { scenarios, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A board in the scenario's state: booted from its flash, clock set as the host would. */
export async function bootScenario(boardId: string, s: Scenario, image?: string): Promise<FuzzBoard> {
  const b = new FuzzBoard(boardId, s.flash, image);
  await b.settle();
  if (s.facts.clockSet) await b.call(Command.CLOCK, { now: CLOCK_MS }, next());
  return b;
}
