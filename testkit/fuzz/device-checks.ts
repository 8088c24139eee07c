// The device target's judgements that need no board: what one answer must look like, and
// which changes of the device's state the answered commands explain.
import { Command } from '../../protocol/commands.ts';
import { ErrorCode, ErrorMessage } from '../../protocol/errors.ts';
import { PROTOCOL_VERSION, RESPONSE_FLAG, ERROR_TYPE, type Frame } from '../../protocol/frame.ts';
import { jsonError } from '../../protocol/json.ts';
import { COMMAND_TYPES, MAY_CHANGE, SESSION_ONLY, mustRefuse, type Facts, type Part } from './device-commands.ts';
import type { Finding } from './framework.ts';

const DEVICE_CODES = new Set(Object.keys(ErrorMessage).map(Number));
const KNOWN_TYPES = new Set(COMMAND_TYPES);
/** types with a handler outside a session */
const HANDLED = new Set(COMMAND_TYPES.filter((t) => !SESSION_ONLY.has(t)));

export const commandName = (t: number) => Object.entries(Command).find(([, v]) => v === t)?.[0] ?? '0x' + t.toString(16);
/** for the coverage counts: known commands by name, the rest together */
export const kindOf = (t: number) => (KNOWN_TYPES.has(t) ? commandName(t) : 'other type');

/** The error body's code, or a reason it is not a proper error body. */
export function errorCode(payload: string): number | string {
  let b: any;
  try {
    b = JSON.parse(payload);
  } catch {
    return 'error body is not JSON: ' + payload.slice(0, 200);
  }
  if (!b || typeof b !== 'object' || !Number.isInteger(b.code)) return 'error body has no integer code: ' + payload.slice(0, 200);
  if (!DEVICE_CODES.has(b.code)) return `error code ${b.code} is not a device error code`;
  if (typeof (b.detail ?? b.message) !== 'string') return 'error body has no detail or message string: ' + payload.slice(0, 200);
  return b.code;
}

/** CRC (1) and oversize (2) reports: the front's answer to dropped bytes, not to a frame. */
export const isLinkReport = (f: Frame) => f.type === ERROR_TYPE && (errorCode(f.payload) === ErrorCode.CRC || errorCode(f.payload) === ErrorCode.OVERSIZE);

/** The front's own refusal a frame must get (firmware/core/device.ts execute), or null when
 * it reaches its handler; `request` is the parsed payload then. */
function frontRefusal(req: Frame): { code: number | null; request?: any } {
  if (req.version !== PROTOCOL_VERSION) return { code: ErrorCode.VERSION };
  if (!HANDLED.has(req.type)) return { code: ErrorCode.UNKNOWN_COMMAND };
  // strict JSON (protocol/json.ts) with an object at the top, whatever JSON.parse would take
  if (req.payload.length && jsonError(req.payload) >= 0) return { code: ErrorCode.BAD_PAYLOAD };
  const request = req.payload.length ? JSON.parse(req.payload) : {};
  return request === null || typeof request !== 'object' || Array.isArray(request) ? { code: ErrorCode.BAD_PAYLOAD } : { code: null, request };
}

export interface Verdict {
  finding?: Finding;
  /** answered with success */
  ok: boolean;
  /** for the coverage counts */
  label: string;
}

/**
 * One request and its answer (already matched by seq). `oracle` is off once a command of the
 * case changed the state, since the scenario's facts no longer describe the device then.
 */
export function judgeAnswer(req: Frame, answer: Frame, facts: Facts, oracle: boolean, what: string): Verdict {
  const ok = answer.type === (req.type | RESPONSE_FLAG) && answer.type !== ERROR_TYPE;
  const label = `${kindOf(req.type)} ${ok ? 'ok' : 'error'}`;
  if (!ok && answer.type !== ERROR_TYPE) return { ok, label, finding: { kind: 'unanswered', detail: `${what} answered with type 0x${answer.type.toString(16)}` } };
  const front = frontRefusal(req);
  if (ok) {
    if (front.code !== null) return { ok, label, finding: { kind: 'unanswered', detail: `${what} was answered with success; expected error ${front.code} (${ErrorMessage[front.code]})` } };
    let body: any;
    try {
      body = JSON.parse(answer.payload);
    } catch {
      return { ok, label, finding: { kind: 'unanswered', detail: `${what}: the answer is not JSON: ${answer.payload.slice(0, 200)}` } };
    }
    if (!body || typeof body !== 'object') return { ok, label, finding: { kind: 'unanswered', detail: `${what}: the answer is not an object` } };
    // the fuzzer holds no session keys: whatever the state, nothing it sends can authenticate
    const why = oracle ? mustRefuse(req.type, front.request, facts) : req.type === Command.SESSION ? 'no message of the fuzzer authenticates' : null;
    if (why) return { ok, label, finding: { kind: 'state', detail: `${what} was accepted but must be refused: ${why}; answer ${answer.payload.slice(0, 300)}` } };
    return { ok, label };
  }
  const code = errorCode(answer.payload);
  if (typeof code === 'string') return { ok, label, finding: { kind: 'unanswered', detail: `${what}: ${code}` } };
  const coded = `${label} ${code}`;
  if (front.code !== null && code !== front.code) return { ok, label: coded, finding: { kind: 'unanswered', detail: `${what} answered with error ${code}; expected ${front.code} (${ErrorMessage[front.code]})` } };
  // the front turns a handler's unexpected exception into INTERNAL; an answer too big for a
  // frame is INTERNAL too, by design
  if (code === ErrorCode.INTERNAL && !/does not fit a frame/.test(answer.payload)) return { ok, label: coded, finding: { kind: 'crash', detail: `${what}: the handler threw an unexpected exception: ${answer.payload}` } };
  return { ok, label: coded };
}

/** The parts of a STATUS answer a case may not change unless a command was answered with success. */
export function stateOf(s: any): Record<Part, unknown> {
  return {
    identity: [s.device, s.deviceId],
    registers: s.registers,
    funds: s.fundsCounter,
    storage: [s.storage.used, s.storage.free, s.storage.total, s.storage.low],
    records: [s.storage.records, s.storage.ramRecords, s.storage.recordCapacity],
    batch: s.batch,
    block: s.block,
    config: s.config,
    lock: s.lock,
    // the clock runs: what a command can change is whether it is set and its offset from uptime
    clock: s.clock ? s.clock - s.uptime : 0,
    resetCause: s.resetCause
  };
}

function changedParts(a: Record<Part, unknown>, b: Record<Part, unknown>): Part[] {
  const clockMoved = (x: unknown, y: unknown) => (x === 0) !== (y === 0) || Math.abs((x as number) - (y as number)) > 1; // floor() on both sides
  return (Object.keys(a) as Part[]).filter((k) => (k === 'clock' ? clockMoved(a.clock, b.clock) : JSON.stringify(a[k]) !== JSON.stringify(b[k])));
}

/** A finding if the state moved where no successful command may move it, or against the
 * registers' invariants; else the parts that changed (empty when none). */
export function judgeState(before: Record<Part, unknown>, after: Record<Part, unknown>, successes: number[]): { finding?: Finding; changed: Part[] } {
  const allowed = new Set<Part>(successes.flatMap((t) => MAY_CHANGE[t] ?? []));
  const changed = changedParts(before, after);
  const unexplained = changed.filter((k) => !allowed.has(k));
  if (unexplained.length) {
    const moves = unexplained.map((k) => JSON.stringify(before[k]) + ' -> ' + JSON.stringify(after[k])).join('; ');
    return { changed, finding: { kind: 'state', detail: `${unexplained.join(', ')} changed (${moves}) though ${successes.length ? 'only ' + successes.map(commandName).join(', ') + ' succeeded' : 'no command succeeded'}` } };
  }
  const r0 = before.registers as any;
  const r1 = after.registers as any;
  const funded = successes.includes(Command.FUNDS) || successes.includes(Command.SESSION);
  if (r1.controlTotal !== r1.ascending + r1.descending || r1.ascending < r0.ascending || r1.pieces < r0.pieces || (r1.controlTotal !== r0.controlTotal && !funded))
    return { changed, finding: { kind: 'state', detail: `registers moved against the invariants: ${JSON.stringify(r0)} -> ${JSON.stringify(r1)}` } };
  return { changed };
}
