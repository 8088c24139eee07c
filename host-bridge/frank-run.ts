// A franking run as a plain function: what `psd frank` does between reading the device's
// state and printing the result (host-bridge/franking.ts is the CLI around it). One piece
// (no batch open), one piece of a dynamic batch, or the pieces of a batch-mode batch in
// requests of `chunk` pieces; zero-value pieces and test imprints one at a time.
import crypto from 'node:crypto';
import { Command as Cmd } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { weightBand } from '../protocol/records.ts';
import type { FrankAnswer, FrankRequest, Registers } from '../protocol/bodies.ts';
import { PsdError } from './errors.ts';
import type { PsdClient } from './client.ts';
import { HostRecords } from './host-records.ts';
import { PieceLog } from './pieces.ts';

/** The device refuses to frank or open a batch until the host set its clock; it restarts at each power-up. */
export async function syncClock(client: PsdClient, nowMs = Date.now()): Promise<number> {
  const r = await client.request(Cmd.CLOCK, { now: nowMs });
  return r.clock;
}

/** What to frank. The batch open on the device (if any) decides the mode. */
export interface FrankRunParams {
  /** single piece (no batch open); a dynamic batch's own customer may be repeated */
  customer?: number;
  /** single or dynamic piece */
  category?: number;
  /** single or dynamic piece, grams */
  weight?: number;
  /** single or dynamic piece, minor units; may be left to the rate table in force on the PSD */
  postage?: number;
  /** a zero-value piece or a test imprint (not in batch mode) */
  kind?: 'zero' | 'test';
  /** batch mode: pieces to frank (default 1) */
  count?: number;
  /** batch mode: pieces per request (1..MAX_PIECES_PER_FRANK) */
  chunk: number;
  /** send one request with this id (resending one a lost line left unanswered); default: a random id per request */
  id?: number;
  /** fetch every indicium into the result */
  indicia?: boolean;
  /** the host store folder, where the records go when the PSD keeps them on the host */
  store: string;
  /** tries of one request on a timeout or a lost line, with the same id (default 4) */
  attempts?: number;
  /** the time the device's clock is set to, ms since the epoch (default now) */
  nowMs?: number;
}

/** What the run tells its caller as it goes (a progress bar, Ctrl-C handling). All optional. */
export interface FrankRunReporter {
  /** the requests are about to go out: pieces in all, requests, and the batch's mode */
  start?(run: { total: number; requests: number; mode: 'single' | 'dynamic' | 'batch' }): void;
  /** a request goes on the line (its id and pieces), or the one on it was answered (null) */
  inFlight?(request: { id: number; count: number } | null): void;
  /** pieces franked and acknowledged so far */
  progress?(pieces: number): void;
  /** a request is sent again (same id) after a timeout or a lost line */
  retry?(e: Error): void;
  /** asked before each request: true sends no more (the run ends, interrupted) */
  stopping?(): boolean;
}

/** The outcome of a run (the `psd frank --json` answer, less what printing adds). */
export interface FrankRunResult {
  mode: 'single' | 'dynamic' | 'batch';
  customer: number | undefined;
  /** the batch's transaction number, null without a batch */
  txn: number | null;
  pieces: number;
  /** minor units charged */
  amount: number;
  requests: number;
  ids: number[];
  /** requests sent again after a timeout */
  retries: number;
  /** the device answered from a commit it had made before (a resent id): nothing new was charged */
  replay: boolean;
  /** the caller asked the run to stop (FrankRunReporter.stopping) while it ran */
  interrupted?: true;
  /** with interrupted: the pieces asked for */
  requested?: number;
  /** the first piece's number (1-based), null when none was franked */
  first: number | null;
  kind?: 'zero-value' | 'test imprint';
  /** past the data center's warning threshold: seconds until franking locks */
  contactLockInS?: number;
  registers: Registers;
  /** with FrankRunParams.indicia: every indicium, hex */
  indicia?: string[];
}

function badArg(msg: string, hint?: string): PsdError {
  return new PsdError(ErrorCode.BAD_ARGUMENT, msg, hint);
}

/** A line that went quiet or away: the request's fate is open. */
export function isLost(e: unknown): boolean {
  return e instanceof PsdError && (e.code === ErrorCode.NO_ANSWER || e.code === ErrorCode.LINE_LOST);
}

/** One FRANK request; on a timeout or a lost line it sends the SAME id again (the device
 * never charges twice for an id: it answers a repeated id from the commit it made). */
async function frankOnce(client: PsdClient, body: FrankRequest, attempts: number, onRetry: (e: Error) => void): Promise<FrankAnswer> {
  for (let i = 1; ; i++) {
    try {
      return await client.request(Cmd.FRANK, body);
    } catch (e) {
      if (!isLost(e) || i >= attempts) throw e;
      onRetry(e as Error);
    }
  }
}

/** Every indicium of a FRANK answer (the answer carries the first few, INDICIA reads the rest). */
async function fetchIndicia(client: PsdClient, answer: FrankAnswer): Promise<string[]> {
  const out: string[] = answer.indicia.slice();
  while (out.length < answer.count) {
    const r = await client.request(Cmd.INDICIA, { from: answer.first + out.length });
    if (r.id !== answer.id || !r.indicia.length) throw new PsdError(ErrorCode.INCONSISTENT, `indicia for ${answer.id} not available (device answered for ${r.id})`);
    out.push(...r.indicia);
  }
  return out.slice(0, answer.count);
}

/**
 * Franks what `p` asks on the device behind `client`: reads its STATUS (the batch open, the
 * settings), checks the parameters against it, sets the device's clock, sends the FRANK
 * requests and, where the PSD keeps its records on the host, counts each piece in the host
 * store. Errors: BAD_ARGUMENT (PsdError) for parameters the batch open does not allow,
 * before anything is sent; the device's refusal as it came (pieces acknowledged before it
 * stay franked: STATUS shows them); a lost line names what was acknowledged and the one
 * request whose fate is open.
 */
export async function runFranking(client: PsdClient, p: FrankRunParams, reporter: FrankRunReporter = {}): Promise<FrankRunResult> {
  const s = await client.request(Cmd.STATUS);
  const b = s.batch;
  const kind = p.kind;
  if (kind && p.postage !== undefined) throw badArg(`--${kind === 'zero' ? 'zero-value' : 'test-imprint'} pieces carry no postage: drop --postage`);
  if (kind && b && b.mode === 'batch') throw badArg(`batch ${b.txn} is in batch mode: zero-value and test imprints are franked one at a time (end the batch first)`);
  const perPiece: Partial<FrankRequest> = kind ? { category: p.category, weight: p.weight, kind } : { category: p.category, weight: p.weight, postage: p.postage };
  const missing = (names: ('customer' | 'category' | 'weight')[]) => names.filter((n) => p[n] === undefined).map((n) => '--' + n);
  let bodies: { count: number; base: Partial<FrankRequest> }[];
  if (b && b.mode === 'batch') {
    if (p.customer !== undefined || p.category !== undefined || p.weight !== undefined || p.postage !== undefined)
      throw badArg(`batch ${b.txn} (customer ${b.customer}) is in batch mode: its category, weight and postage are fixed; give only --count`);
    const count = p.count ?? 1;
    bodies = [];
    for (let left = count; left > 0; left -= p.chunk) bodies.push({ count: Math.min(p.chunk, left), base: {} });
  } else {
    if (p.count !== undefined && p.count !== 1) throw badArg(`--count is for a batch-mode batch; ${b ? 'this dynamic batch' : 'with no batch open, psd'} franks one piece per command`);
    if (b && p.customer !== undefined && p.customer !== b.customer) throw badArg(`batch ${b.txn} is for customer ${b.customer}`);
    // the postage may be left to the rate table in force on the PSD: it says when it needs one
    const m = missing(b ? ['category', 'weight'] : ['customer', 'category', 'weight']);
    if (m.length) throw badArg(`${b ? 'a dynamic piece' : 'a single piece (no batch open)'} needs ${m.join(', ')}`, 'see psd frank --help');
    bodies = [{ count: 1, base: b ? perPiece : { customer: p.customer, ...perPiece } }];
  }
  if (p.id !== undefined && bodies.length > 1) throw badArg('--id sends one request: give --count at most --chunk');
  await syncClock(client, p.nowMs);
  // the settings: STATUS shows only some (none when too large for a frame), CONFIG {} all
  const settings = (await client.request(Cmd.CONFIG, {})).config;
  // records on the host (claim 10): each franked piece is counted here
  const hostRecords = settings.recordsOnHost ? new HostRecords(p.store, s.device) : null;
  // per-piece data: every indicium is kept in the host store, to be uploaded with its block
  const pieceLog = settings.perPiece && kind !== 'test' ? new PieceLog(p.store, s.device) : null;
  const band = weightBand((b && b.mode === 'batch' ? b.weight : p.weight) ?? 0);
  const total = bodies.reduce((n, x) => n + x.count, 0);
  const mode = b ? b.mode : 'single';
  const attempts = p.attempts ?? 4;
  reporter.start?.({ total, requests: bodies.length, mode });
  let pieces = 0;
  let amount = 0;
  let retries = 0;
  let last: FrankAnswer | null = null;
  let inFlight: { id: number; count: number } | null = null;
  const ids: number[] = [];
  const indicia: string[] = [];
  let replayed = 0;
  let interrupted = false;
  try {
    for (const x of bodies) {
      if (reporter.stopping?.()) {
        interrupted = true;
        break;
      }
      const id = p.id ?? crypto.randomInt(1, 2 ** 32 - 1);
      inFlight = { id, count: x.count };
      reporter.inFlight?.(inFlight);
      const body: FrankRequest = b && b.mode === 'batch' ? { id, count: x.count } : { id, ...x.base };
      const a = await frankOnce(client, body, attempts, (e) => {
        retries++;
        reporter.retry?.(e);
      });
      if (a.id !== id) throw new PsdError(ErrorCode.INCONSISTENT, `answer for id ${a.id}, sent ${id}`);
      if (hostRecords && kind !== 'test') {
        const piece = b && b.mode === 'batch' ? b : { ...x.base, customer: b ? b.customer : p.customer };
        hostRecords.add(piece.customer!, piece.category!, piece.weight!, piece.postage ?? 0, a.count);
      }
      ids.push(id);
      inFlight = null;
      reporter.inFlight?.(null);
      if (a.repeated) replayed++;
      pieces += a.count;
      amount += a.amount;
      last = a;
      if (p.indicia || pieceLog) {
        const got = await fetchIndicia(client, a);
        pieceLog?.append(band, got);
        if (p.indicia) indicia.push(...got);
      }
      reporter.progress?.(pieces);
    }
    // a stop asked while the last request was on the line still marks the run interrupted
    if (reporter.stopping?.()) interrupted = true;
  } catch (e) {
    // say exactly what is known: what the device acknowledged, and the one request whose
    // fate is open (the device committed it or not; resending its id never charges twice)
    if (!isLost(e) || !inFlight) throw e;
    const err = e as PsdError;
    throw new PsdError(
      err.code,
      `${err.message.replace(/^[^:]*: /, '')}; ${pieces} piece${pieces === 1 ? '' : 's'} franked and acknowledged before it, request id ${inFlight.id} (${inFlight.count} piece${inFlight.count === 1 ? '' : 's'}) unanswered`,
      `reconnect, then \`psd frank --id ${inFlight.id}${b && b.mode === 'batch' ? ` --count ${inFlight.count}` : ' <same piece options>'}\` answers from the device's commit if it was made (never charged twice), or franks it now; \`psd status\` shows the piece counter`
    );
  }
  return {
    mode,
    customer: b ? b.customer : p.customer,
    txn: b ? b.txn : null,
    pieces,
    amount,
    requests: ids.length,
    ids,
    retries,
    replay: replayed > 0,
    ...(interrupted ? { interrupted: true as const, requested: total } : {}),
    first: last && pieces ? last.first + last.count - pieces : null,
    ...(kind ? { kind: kind === 'zero' ? ('zero-value' as const) : ('test imprint' as const) } : {}),
    ...(last && last.contactLockInS !== undefined ? { contactLockInS: last.contactLockInS } : {}),
    registers: last ? last.registers : s.registers,
    ...(p.indicia ? { indicia } : {})
  };
}
