// The model-based power-cut target (issue 14, the OpenSK way): random command sequences
// (franking single, dynamic and in batches, batch start and end, flush, extraction and
// sealing, confirmation authentic or not, funds, configuration, retransmitted franking)
// with random power cuts (before, during or after any flash operation of a command, a
// partial one tearing a random subset of the bits, tools: kit/vboard/flash.ts) and clean
// power cycles, run through the PSD core on a memory board (`model`) or through the built
// image on the virtual board (`model-image`). Every answer must be one the model allows,
// and after every reboot the device's registers, funds counter, batch, records (RAM, flash,
// sealed) and block numbers must be one of the states the model allows: for a command
// that ran whole exactly its outcome, for a cut one the state before or after it.
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from '../../protocol/commands.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { type CumulativeRecord } from '../../protocol/records.ts';
import { decodeRecord } from '../../protocol/record-codec.ts';
import { CoreDevice, ImageDevice, DeviceError, TestKms, type Device } from '../harness.ts';
import { memoryBoard } from '../memory-board.ts';
import { NorFlash, TEAR_SHAPES, type CutMode, type PowerCut, type TearShape } from '../../kit/vboard/flash.ts';
import type { FuzzTarget, Finding, TargetRun } from './framework.ts';
import { initialModel, step, cutStep, rebooted, observable, distinct, recordKey, SPACE_CODES, type LedgerModel, type ModelCommand, type Observed, type Outcome } from './ledger-model.ts';

export interface Cut {
  /** flash operation of this command at which the power goes (a command with fewer runs whole) */
  atOp: number;
  mode: CutMode;
  seed: number;
}

export type Step = { cmd: ModelCommand | { t: 'powerCycle' }; cut: Cut | null };

export interface ModelCase {
  steps: Step[];
  /** per-piece data on from the start */
  perPiece?: boolean;
}

const T0 = Date.UTC(2026, 10, 24, 9);

// few parameter sets (2 customers x 2 categories x 2 weight bands x 2 postages): the record
// tables never fill, so no summary records (whose breakdown the model does not keep)
const customer = fc.integer({ min: 1, max: 2 });
const category = fc.integer({ min: 0, max: 1 });
const weight = fc.constantFrom(20, 60);
const postage = fc.constantFrom(85, 145);

const command: fc.Arbitrary<ModelCommand | { t: 'powerCycle' }> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ t: fc.constant('frank' as const), customer, category, weight, postage, count: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'repeat' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('batchStart' as const), mode: fc.constantFrom('batch' as const, 'dynamic' as const), customer, category, weight, postage }) },
  { weight: 3, arbitrary: fc.constant({ t: 'batchEnd' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'flush' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'extract' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('confirm' as const), authentic: fc.integer({ min: 0, max: 8 }).map((n) => n > 0) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('funds' as const), amount: fc.integer({ min: 1, max: 20000 }) }) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.record({ t: fc.constant('config' as const), flushEveryPieces: fc.integer({ min: 1, max: 60 }) }),
      fc.record({ t: fc.constant('config' as const), lockUntilConfirmed: fc.boolean() })
    )
  },
  { weight: 1, arbitrary: fc.constant({ t: 'powerCycle' as const }) }
);

const cut: fc.Arbitrary<Cut | null> = fc.option(
  fc.record({ atOp: fc.oneof(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 8 })), mode: fc.constantFrom<CutMode>('before', 'partial', 'partial', 'after'), seed: fc.integer({ min: 0, max: 0x7fffffff }) }),
  { freq: 2 }
);

export function modelArbitrary(maxSteps = 30): fc.Arbitrary<ModelCase> {
  // funds first (cut or not), so that most franking is paid for
  const funds = fc.record({ cmd: fc.record({ t: fc.constant('funds' as const), amount: fc.integer({ min: 5000, max: 50000 }) }), cut });
  return fc.record({ steps: fc.tuple(funds, fc.array(fc.record({ cmd: command, cut }), { minLength: 1, maxLength: maxSteps })).map(([f, rest]) => [f, ...rest]), perPiece: fc.boolean() });
}

export function showCase(c: ModelCase): string {
  return (c.perPiece ? 'per-piece data on\n' : '') + c.steps
    .map((s, i) => {
      const { t, ...args } = s.cmd as any;
      const a = Object.keys(args).length ? ' ' + JSON.stringify(args) : '';
      const k = s.cut ? `  [power cut at flash op ${s.cut.atOp}, ${s.cut.mode}${s.cut.mode === 'partial' ? ', seed ' + s.cut.seed : ''}]` : '';
      return `${i + 1}. ${t}${a}${k}`;
    })
    .join('\n');
}

/** A PSD with a power switch: the core on a memory board, or the image on the virtual board. */
export interface Dut {
  device: Device;
  /** arms a cut counted from the next flash operation (null disarms) */
  arm(cut: PowerCut | null): void;
  /** the armed cut happened: the board is off */
  cutFired(): boolean;
  /** what the last cut did to the flash (for messages) */
  lastCut(): string;
  /** page erases since the last power-up */
  erases(): number;
  /** power off and on: the same flash, a fresh PSD */
  powerCycle(): Promise<void>;
  close(): void;
}

/** planted bugs for the core (test/model.test.ts shows the checks catch them) */
export type CorePlant = (board: ReturnType<typeof memoryBoard>) => void;

export function coreDut(opts: { pageBytes?: number; pageCount?: number; capacity?: number; plant?: CorePlant } = {}): Dut {
  // small pages, so that checkpoints, page changes and erases come within a few commands (six:
  // the reserve of two checkpoints of the state, 950 bytes each, and a flush must leave room
  // for the sequences' records without folding them, which the model does not model)
  let flash = new NorFlash({ pageBytes: opts.pageBytes ?? 1024, pageCount: opts.pageCount ?? 6 });
  const make = () => {
    const board = memoryBoard({ flash });
    opts.plant?.(board);
    return new CoreDevice(board, opts.capacity ?? 64);
  };
  const dut: Dut = {
    device: make(),
    arm: (c) => flash.armPowerCut(c),
    cutFired: () => flash.dead,
    lastCut: () => JSON.stringify(flash.lastCut),
    erases: () => flash.erases,
    async powerCycle() {
      flash = flash.reboot();
      dut.device = make();
    },
    close() {}
  };
  return dut;
}

export function imageDut(opts: { board?: string } = {}): Dut {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-model-'));
  const d = new ImageDevice({ board: opts.board ?? 'puckjs', flashFile: path.join(dir, 'psd.flash') });
  return {
    device: d,
    arm: (c) => d.vb.armPowerCut(c),
    cutFired: () => d.vb.dead,
    lastCut: () => JSON.stringify(d.vb.flash.nor.lastCut),
    erases: () => d.vb.flash.nor.erases,
    async powerCycle() {
      d.powerCycle();
    },
    close() {
      d.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** What the device shows, in the model's terms. */
export async function observe(d: Device): Promise<Observed & { lock: unknown }> {
  const s = await d.call(Command.STATUS);
  const list = async (tier: 'flash' | 'ram') => {
    const out: CumulativeRecord[] = [];
    for (let from = 0; ; ) {
      const r = await d.call(Command.STATS_LIST, { tier, from });
      for (const hex of r.records) out.push(decodeRecord(fromHex(hex), 0));
      from += r.records.length;
      if (from >= r.total || !r.records.length) return out;
    }
  };
  const flash = await list('flash');
  const ram = await list('ram');
  const frozenCount = s.block.awaitingConfirmation ? (await d.call(Command.BLOCK_READ, { seq: s.block.awaitingConfirmation, count: 1 })).total : 0;
  const shown = (rs: CumulativeRecord[]) => rs.map((r) => `${recordKey(r.customer, r.category, r.weightBand, r.postage)}: ${r.pieces} pcs, ${r.amount}, ${r.weight} g`).sort();
  const b = s.batch;
  return {
    registers: { ascending: s.registers.ascending, descending: s.registers.descending, pieces: s.registers.pieces },
    fundsTotal: s.registers.controlTotal,
    fundsCounter: s.fundsCounter,
    batch: b ? { customer: b.customer, mode: b.mode, category: b.category, weight: b.weight, postage: b.postage, pieces: b.pieces } : null,
    ram: shown(ram),
    flash: shown(flash.slice(frozenCount)),
    frozen: shown(flash.slice(0, frozenCount)),
    block: {
      lastSealed: s.block.lastSealed,
      awaitingConfirmation: s.block.awaitingConfirmation,
      lastConfirmed: s.block.lastConfirmed,
      confirmedPieces: s.block.confirmedPieces,
      confirmedAscending: s.block.confirmedAscending
    },
    config: { flushEveryPieces: s.config.flushEveryPieces, lockUntilConfirmed: s.config.lockUntilConfirmed },
    lock: s.lock
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The closest allowed state, for the message: the fields that differ. */
function differences(o: Observed, ms: LedgerModel[]): string {
  let best = '';
  let bestCount = Infinity;
  for (const m of ms) {
    const e = observable(m) as any;
    const diff = Object.keys(e).filter((k) => !same(e[k], (o as any)[k]));
    if (diff.length < bestCount) {
      bestCount = diff.length;
      best = diff.map((k) => `  ${k}: device ${JSON.stringify((o as any)[k])}, model ${JSON.stringify(e[k])}`).join('\n');
    }
  }
  return best;
}

export interface ModelStats {
  [what: string]: number;
}

/** Runs one case on a fresh device; a finding when the device leaves the model. */
export async function runModelCase(makeDut: () => Dut, c: ModelCase, stats: ModelStats = {}, shapes: readonly TearShape[] = TEAR_SHAPES): Promise<Finding | null> {
  const count = (k: string, n = 1) => (stats[k] = (stats[k] ?? 0) + n);
  const dut = makeDut();
  const kms = new TestKms();
  // fixed keys: the bytes in flash (and so what a partial cut tears) follow from the case alone
  kms.deviceKey = Buffer.alloc(32, 0x3c);
  kms.kmsKey = Buffer.alloc(32, 0xa5);
  let states: LedgerModel[] = [initialModel()];
  let nextId = 1;
  /** the sealed block's digest as the device gave it (the host's copy) */
  let digest: { seq: number; hex: string } | null = null;
  const log: string[] = [];
  const fail = (why: string): Finding => ({ kind: 'state', detail: `${why}\n  after:\n    ${log.slice(-8).join('\n    ')}` });

  const check = async (why: string): Promise<Finding | null> => {
    let o;
    try {
      o = await observe(dut.device);
    } catch (e) {
      return fail(`${why}: the device does not tell its state: ${(e as Error).message}`);
    }
    if (o.lock) return fail(`${why}: the device is locked: ${JSON.stringify(o.lock)}`);
    const { lock, ...seen } = o;
    const match = states.filter((m) => same(observable(m), seen));
    if (!match.length) return fail(`${why}: the device is in a state the model does not allow (${states.length} allowed); closest:\n${differences(seen, states)}`);
    if (states.length > 1) count('states narrowed by a reboot');
    states = match;
    return null;
  };
  const boot = async () => {
    await dut.device.call(Command.CLOCK, { now: T0 });
  };

  try {
    await dut.device.call(Command.PROVISION, kms.provisionBody());
    await boot();
    // per-piece data on: every FRANK record carries the chain, and checkpoints its CHAIN entry,
    // through every cut (a chain that replays wrong locks the device, which the model refuses)
    if (c.perPiece) await dut.device.call(Command.CONFIG, { perPiece: true });
    for (const s of c.steps) {
      const cmd = s.cmd;
      if (cmd.t === 'powerCycle') {
        log.push('power cycle');
        count('page erases', dut.erases());
        await dut.powerCycle();
        await boot();
        states = distinct(states.flatMap(rebooted));
        count('clean power cycles');
        const f = await check('after a power cycle');
        if (f) return f;
        continue;
      }
      const m0 = states[0];
      // the request as the host sends it
      let type = 0;
      let body: any = {};
      let id = 0;
      switch (cmd.t) {
        case 'frank': {
          id = nextId++;
          type = Command.FRANK;
          const b = m0.batch;
          body = b ? (b.mode === 'batch' ? { id, count: cmd.count } : { id, category: cmd.category, weight: cmd.weight, postage: cmd.postage }) : { id, customer: cmd.customer, category: cmd.category, weight: cmd.weight, postage: cmd.postage };
          break;
        }
        case 'repeat':
          if (!states.every((m) => m.lastId === m0.lastId) || !m0.lastId) continue;
          type = Command.FRANK;
          body = { id: m0.lastId, customer: 1, category: 0, weight: 20, postage: 85 };
          break;
        case 'batchStart':
          type = Command.BATCH_START;
          body = cmd.mode === 'batch' ? { customer: cmd.customer, mode: 'batch', category: cmd.category, weight: cmd.weight, postage: cmd.postage } : { customer: cmd.customer, mode: 'dynamic' };
          break;
        case 'batchEnd':
          type = Command.BATCH_END;
          break;
        case 'flush':
          type = Command.STATS_FLUSH;
          break;
        case 'extract':
          type = Command.STATS_EXTRACT;
          break;
        case 'confirm': {
          type = Command.CONFIRM;
          const sealed = m0.sealed;
          if (sealed && (!digest || digest.seq !== sealed.seq)) {
            // the host lost the extraction's answer (a cut): it asks again, which changes nothing
            const x = await dut.device.call(Command.STATS_EXTRACT);
            if (x.fresh || x.seq !== sealed.seq) return fail(`extraction repeated: got block ${x.seq} (fresh ${x.fresh}), the model has block ${sealed.seq} sealed`);
            digest = { seq: x.seq, hex: x.digest };
          }
          const seq = sealed ? sealed.seq : m0.lastSealed + 1;
          const good = kms.confirm(seq, sealed ? fromHex(digest!.hex) : 'x'.repeat(32));
          body = cmd.authentic ? good : { seq, mac: good.mac.replace(/^./, (ch) => (ch === '0' ? '1' : '0')) };
          break;
        }
        case 'funds':
          if (!states.every((m) => m.fundsCounter === m0.fundsCounter)) continue;
          type = Command.FUNDS;
          body = kms.funds(m0.fundsCounter + 1, cmd.amount);
          break;
        case 'config':
          type = Command.CONFIG;
          body = cmd.flushEveryPieces !== undefined ? { flushEveryPieces: cmd.flushEveryPieces } : { lockUntilConfirmed: cmd.lockUntilConfirmed };
          break;
      }
      const modelCmd: ModelCommand = cmd;
      log.push(`${cmd.t} ${JSON.stringify(body).slice(0, 100)}${s.cut ? ` [cut at op ${s.cut.atOp} ${s.cut.mode}]` : ''}`);
      if (s.cut) dut.arm({ atOp: s.cut.atOp, mode: s.cut.mode, seed: s.cut.seed, shapes });
      let answer: Outcome | null = null;
      let reply: any = null;
      try {
        reply = await dut.device.call(type, body);
        answer = { ok: true };
      } catch (e) {
        if (e instanceof DeviceError) {
          answer = { ok: false, code: e.code };
          reply = { refused: e.message };
        }
        else if (!dut.cutFired()) throw e;
      }
      if (s.cut && dut.cutFired()) {
        if (dut.lastCut().includes('"erase"')) count('cuts fired during an erase');
        // the power went during the command: before or after it, nothing in between
        log[log.length - 1] += ` -> cut fired: ${dut.lastCut()}`;
        count(`cuts fired (${s.cut.mode})`);
        const before = states;
        states = distinct(states.flatMap((m) => cutStep(m, modelCmd, id)));
        count('page erases', dut.erases());
        await dut.powerCycle();
        await boot();
        states = distinct(states.flatMap(rebooted));
        const f = await check(`after a power cut in ${cmd.t}`);
        if (f) return f;
        count(states.some((m) => before.some((b) => same(observable(b), observable(m)))) ? 'cut commands that had not taken effect' : 'cut commands that had taken effect');
        digest = null;
        continue;
      }
      if (s.cut) dut.arm(null);
      // ran whole: the answer must be one the model allows, and narrows the states
      const next: LedgerModel[] = [];
      for (const m of states) for (const b of step(m, modelCmd, id)) if (same(b.answer, answer)) next.push(b.state);
      if (!next.length) {
        const allowed = [...new Set(states.flatMap((m) => step(m, modelCmd, id).map((b) => JSON.stringify(b.answer))))];
        return fail(`${cmd.t} answered ${JSON.stringify(answer)}${reply ? ' ' + JSON.stringify(reply).slice(0, 200) : ''}; the model allows ${allowed.join(' or ')}`);
      }
      count(answer!.ok ? `${cmd.t} ok` : `${cmd.t} refused ${SPACE_CODES.includes((answer as any).code) ? '(space)' : (answer as any).code}`);
      if (cmd.t === 'extract' && reply) digest = { seq: reply.seq, hex: reply.digest };
      if (cmd.t === 'repeat' && reply && !reply.repeated) return fail('a repeated FRANK request was not answered as repeated');
      states = distinct(next);
      if (states.length > 64) states = states.slice(0, 64);
    }
    // the end of the run: power off and on, and the state must be the model's
    count('page erases', dut.erases());
    await dut.powerCycle();
    await boot();
    states = distinct(states.flatMap(rebooted));
    count('cases');
    return await check('at the end');
  } finally {
    dut.close();
  }
}

/** Partial cuts: `any` subset of the bits (the NOR physics), or `sequential` (a prefix in
 * address order: a chip that programs and erases word by word, in order). */
export type Tears = 'any' | 'sequential';

export function modelTarget(o: { name?: string; image?: boolean; board?: string; plant?: CorePlant; maxSteps?: number; tears?: Tears } = {}): FuzzTarget<ModelCase> {
  const stats: ModelStats = {};
  return {
    name: o.name ?? (o.image ? 'model-image' : 'model') + (o.tears === 'sequential' ? '-sequential' : ''),
    description: o.image
      ? 'random commands and power cuts on the built image (virtual board), every state checked against the ledger model'
      : 'random commands and power cuts on the PSD core (memory board), every state checked against the ledger model',
    arbitrary: modelArbitrary(o.maxSteps ?? 40),
    show: showCase,
    caseBoundMs: o.image ? 60000 : 20000,
    // a case is a device's life: ~15 ms on the core, ~1.5 s on the image
    defaultCases: o.image ? 300 : 20000,
    async open(): Promise<TargetRun<ModelCase>> {
      const make = o.image ? () => imageDut({ board: o.board }) : () => coreDut({ plant: o.plant });
      return {
        runCase: (c) => runModelCase(make, c, stats, o.tears === 'sequential' ? ['prefix'] : TEAR_SHAPES),
        close: async () => {},
        coverage: () => ({ ...stats })
      };
    }
  };
}
