// A small pure model of the PSD's ledger, to check a device against (the way Google OpenSK
// checks its persistent store against a model): the registers (ascending, descending,
// pieces), the funds counter, the open batch, the cumulative records per parameter set in
// their three places (RAM since the last flush; flash; flash records sealed into the block
// awaiting confirmation), the sealed block, and what confirmation released.
//
// A transition gives every state the command may leave, each with the answer the device
// gives for it: one for a command that ran whole; for a command cut by a power loss, the
// state before and the state after (atomic: nothing in between), plus, where the device
// flushes RAM records to flash on its own (after a piece when the piece count says so, at
// a batch end, before sealing), the same with that flush done or not. The checker keeps
// the set of states the device may be in and narrows it by each answer and by what the
// device shows after each reboot.
import { weightBand } from '../../protocol/records.ts';
import { ErrorCode } from '../../protocol/errors.ts';

export interface Totals {
  pieces: number;
  amount: number;
  weight: number;
}

/** records by parameter set: "customer/category/band/postage" -> totals */
export type Records = Record<string, Totals>;

export interface ModelBatch {
  customer: number;
  mode: 'batch' | 'dynamic';
  category: number;
  weight: number;
  postage: number;
  pieces: number;
}

export interface LedgerModel {
  ascending: number;
  descending: number;
  pieces: number;
  fundsTotal: number;
  fundsCounter: number;
  batch: ModelBatch | null;
  /** id of the last FRANK request that took effect (a repeat is answered, never charged) */
  lastId: number;
  ram: Records;
  /** open flash records (not sealed) */
  flash: Records;
  /** flash records sealed into the block awaiting confirmation */
  frozen: Records;
  /** the block awaiting confirmation: its number and the registers it was sealed at */
  sealed: { seq: number; pieces: number; ascending: number } | null;
  lastSealed: number;
  lastConfirmed: number;
  released: { pieces: number; ascending: number };
  /** pieces since the last flush; null when unknown (after a reboot) */
  sinceFlush: number | null;
  flushEveryPieces: number;
  lockUntilConfirmed: boolean;
}

/** What the driver sends. Franking takes what the open batch does not fix. */
export type ModelCommand =
  | { t: 'frank'; customer: number; category: number; weight: number; postage: number; count: number }
  | { t: 'repeat' }
  | { t: 'batchStart'; mode: 'batch' | 'dynamic'; customer: number; category: number; weight: number; postage: number }
  | { t: 'batchEnd' }
  | { t: 'flush' }
  | { t: 'extract' }
  | { t: 'confirm'; authentic: boolean }
  | { t: 'funds'; amount: number }
  | { t: 'config'; flushEveryPieces?: number; lockUntilConfirmed?: boolean };

/** How the device answered: ok, or refused with a code. */
export type Outcome = { ok: true } | { ok: false; code: number };

export interface Branch {
  state: LedgerModel;
  answer: Outcome;
}

/** Refusals that depend on bytes in flash and table slots, which the model does not count:
 * allowed for a command that writes, with nothing changed (the driver counts how often). */
export const SPACE_CODES = [ErrorCode.STORAGE_FULL, ErrorCode.CATEGORY_LIMIT];

export function initialModel(): LedgerModel {
  return {
    ascending: 0,
    descending: 0,
    pieces: 0,
    fundsTotal: 0,
    fundsCounter: 0,
    batch: null,
    lastId: 0,
    ram: {},
    flash: {},
    frozen: {},
    sealed: null,
    lastSealed: 0,
    lastConfirmed: 0,
    released: { pieces: 0, ascending: 0 },
    sinceFlush: 0,
    flushEveryPieces: 255,
    lockUntilConfirmed: false
  };
}

const clone = (m: LedgerModel): LedgerModel => structuredClone(m);
const ok: Outcome = { ok: true };
const refused = (code: number): Outcome => ({ ok: false, code });

export const recordKey = (customer: number, category: number, band: number, postage: number) => `${customer}/${category}/${band}/${postage}`;

function add(rs: Records, key: string, t: Totals): void {
  const r = rs[key] ?? (rs[key] = { pieces: 0, amount: 0, weight: 0 });
  r.pieces += t.pieces;
  r.amount += t.amount;
  r.weight += t.weight;
}

/** RAM records into the flash tier (merged into open records of the same parameter set). */
export function flushed(m: LedgerModel): LedgerModel {
  const n = clone(m);
  for (const [k, t] of Object.entries(n.ram)) add(n.flash, k, t);
  n.ram = {};
  n.sinceFlush = 0;
  return n;
}

const hasRam = (m: LedgerModel) => Object.keys(m.ram).length > 0;

/** The states after a command that ran whole, each with its answer. */
export function step(m: LedgerModel, c: ModelCommand, nextId: number): Branch[] {
  const space = (s: LedgerModel): Branch[] => SPACE_CODES.map((code) => ({ state: s, answer: refused(code) }));
  switch (c.t) {
    case 'repeat':
      // the last franking request again: answered, nothing charged
      return m.lastId ? [{ state: m, answer: ok }] : [];
    case 'frank': {
      if (m.sealed && m.lockUntilConfirmed) return [{ state: m, answer: refused(ErrorCode.PENDING_CONFIRMATION) }];
      const b = m.batch;
      const fixed = b?.mode === 'batch';
      const count = fixed ? c.count : 1;
      const customer = b ? b.customer : c.customer;
      const category = fixed ? b.category : c.category;
      const weight = fixed ? b.weight : c.weight;
      const postage = fixed ? b.postage : c.postage;
      const amount = count * postage;
      if (amount > m.descending) return [{ state: m, answer: refused(ErrorCode.NO_FUNDS) }];
      const n = clone(m);
      n.ascending += amount;
      n.descending -= amount;
      n.pieces += count;
      add(n.ram, recordKey(customer, category, weightBand(weight), postage), { pieces: count, amount, weight: count * weight });
      if (n.batch) n.batch.pieces += count;
      n.lastId = nextId;
      n.sinceFlush = n.sinceFlush === null ? null : n.sinceFlush + count;
      const out: Branch[] = [];
      // the piece count flush, after the piece is durable (a flush before it is possible
      // only when the RAM table is full, which the driver's few parameter sets never make)
      const mayFlush = n.sinceFlush === null || n.sinceFlush >= n.flushEveryPieces;
      const mustFlush = n.sinceFlush !== null && n.sinceFlush >= n.flushEveryPieces;
      if (!mustFlush) out.push({ state: n, answer: ok });
      if (mayFlush) out.push({ state: flushed(n), answer: ok });
      return out.concat(space(m));
    }
    case 'batchStart': {
      if (m.batch) return [{ state: m, answer: refused(ErrorCode.BATCH_OPEN) }];
      const n = clone(m);
      n.batch = { customer: c.customer, mode: c.mode, category: c.mode === 'batch' ? c.category : 0, weight: c.mode === 'batch' ? c.weight : 0, postage: c.mode === 'batch' ? c.postage : 0, pieces: 0 };
      return [{ state: n, answer: ok }, ...space(m)];
    }
    case 'batchEnd': {
      if (!m.batch) return [{ state: m, answer: refused(ErrorCode.NO_BATCH) }];
      const n = clone(m);
      n.batch = null;
      return [{ state: flushed(n), answer: ok }, ...space(m)];
    }
    case 'flush':
      return [{ state: hasRam(m) ? flushed(m) : m, answer: ok }, ...space(m)];
    case 'extract': {
      if (m.sealed) return [{ state: m, answer: ok }];
      const f = flushed(m);
      const n = clone(f);
      n.frozen = n.flash;
      n.flash = {};
      n.lastSealed = m.lastSealed + 1;
      n.sealed = { seq: n.lastSealed, pieces: n.pieces, ascending: n.ascending };
      // refused for space: before or after the flush that precedes sealing
      return [{ state: n, answer: ok }, ...space(m), ...(hasRam(m) ? space(f) : [])];
    }
    case 'confirm': {
      if (!m.sealed) return [{ state: m, answer: refused(ErrorCode.NO_BLOCK) }];
      if (!c.authentic) return [{ state: m, answer: refused(ErrorCode.AUTH) }];
      const n = clone(m);
      n.released = { pieces: m.sealed.pieces, ascending: m.sealed.ascending };
      n.lastConfirmed = m.sealed.seq;
      n.sealed = null;
      n.frozen = {};
      return [{ state: n, answer: ok }, ...space(m)];
    }
    case 'funds': {
      const n = clone(m);
      n.descending += c.amount;
      n.fundsTotal += c.amount;
      n.fundsCounter += 1;
      return [{ state: n, answer: ok }, ...space(m)];
    }
    case 'config': {
      const n = clone(m);
      if (c.flushEveryPieces !== undefined) n.flushEveryPieces = c.flushEveryPieces;
      if (c.lockUntilConfirmed !== undefined) n.lockUntilConfirmed = c.lockUntilConfirmed;
      return [{ state: n, answer: ok }, ...space(m)];
    }
  }
}

/**
 * The states a command cut by a power loss may leave: the state before, or one it leaves
 * when it runs whole (atomically); a command that flushes on its own may also be cut
 * between its change and that flush (or between the flush and sealing, for extraction).
 */
export function cutStep(m: LedgerModel, c: ModelCommand, nextId: number): LedgerModel[] {
  const out: LedgerModel[] = [m];
  for (const b of step(m, c, nextId)) if (b.answer.ok) out.push(b.state);
  // the change landed, the flush after it did not
  if (c.t === 'frank') for (const b of step({ ...m, flushEveryPieces: Infinity }, c, nextId)) if (b.answer.ok) out.push({ ...b.state, flushEveryPieces: m.flushEveryPieces });
  if (c.t === 'batchEnd' && m.batch) out.push({ ...clone(m), batch: null });
  // the flush before sealing landed, the seal did not
  if (c.t === 'extract' && !m.sealed && hasRam(m)) out.push(flushed(m));
  return distinct(out);
}

/** After a reboot: pieces since the last flush are not known any more (a checkpoint does
 * not keep the count), and setting the clock may flush on its own. */
export function rebooted(m: LedgerModel): LedgerModel[] {
  const n = { ...clone(m), sinceFlush: null };
  return hasRam(n) ? [n, flushed(n)] : [n];
}

/** The model's view of a device, to compare: everything but the flush count. */
export function observable(m: LedgerModel) {
  const sorted = (rs: Records) => Object.keys(rs).sort().map((k) => `${k}: ${rs[k].pieces} pcs, ${rs[k].amount}, ${rs[k].weight} g`);
  return {
    registers: { ascending: m.ascending, descending: m.descending, pieces: m.pieces },
    fundsTotal: m.fundsTotal,
    fundsCounter: m.fundsCounter,
    batch: m.batch,
    ram: sorted(m.ram),
    flash: sorted(m.flash),
    frozen: sorted(m.frozen),
    block: { lastSealed: m.lastSealed, awaitingConfirmation: m.sealed ? m.sealed.seq : 0, lastConfirmed: m.lastConfirmed, confirmedPieces: m.released.pieces, confirmedAscending: m.released.ascending },
    config: { flushEveryPieces: m.flushEveryPieces, lockUntilConfirmed: m.lockUntilConfirmed }
  };
}

export type Observed = ReturnType<typeof observable>;

/** The distinct states of a list (by JSON). */
export function distinct(ms: LedgerModel[]): LedgerModel[] {
  const seen = new Set<string>();
  return ms.filter((m) => {
    const k = JSON.stringify(m);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
