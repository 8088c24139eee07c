// Hostile JSON payloads for every command of protocol/commands.ts, and what the device must
// do with them: which requests it must refuse whatever else happens (the oracle), and which
// parts of its state a command it answered with success may change.
//
// The field rules are the firmware's own, from protocol/bodies.ts (REQUEST_FIELDS). The MACs
// of authentic FUNDS and CONFIRM requests are placeholders in the generated text, filled in
// at run time from the scenario's keys and block digests (see materialize), so a case stays
// the same input when fast-check replays or shrinks it.
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { Command } from '../../protocol/commands.ts';
import { MAX_U48 } from '../../protocol/bytes.ts';
import { MAX_U32 } from '../../protocol/records.ts';
import { REQUEST_FIELDS, type FieldSpec } from '../../protocol/bodies.ts';
import { fundsMessage } from '../../protocol/auth.ts';
import { confirmMessage } from '../../protocol/block.ts';

type Spec = FieldSpec;

const int = (min: number, max: number): Spec => ({ kind: 'int', min, max });
const hex = (bytes: number): Spec => ({ kind: 'hex', bytes });

/**
 * Ranges narrowed to where this fuzzer's scenarios have something to find: their blocks are
 * numbered 1..3 and short. The firmware accepts the wider ranges of REQUEST_FIELDS.
 */
const SCENARIO_RANGES: { [type: number]: { [name: string]: Spec } } = {
  [Command.BLOCK_READ]: { seq: int(1, 3), headFrom: int(0, 200), from: int(0, 64) },
  [Command.CONFIRM]: { seq: int(1, 3) },
  [Command.AUDIT]: { seq: int(1, 3), from: int(0, 500) }
};

/**
 * The fields the fuzzer sends with each command: the firmware's own (protocol/bodies.ts
 * REQUEST_FIELDS), the scenarios' ranges where narrower, and none of the settings the
 * firmware takes only inside a secure session (the fuzzer holds no session keys: they would
 * only ever be refused).
 */
export const FIELDS: { [type: number]: { [name: string]: Spec } } = Object.fromEntries(
  Object.entries(REQUEST_FIELDS).map(([type, fields]) => [
    type,
    Object.fromEntries(
      Object.entries(fields)
        .filter(([, spec]) => !spec.session)
        .map(([name, spec]) => [name, SCENARIO_RANGES[Number(type)]?.[name] ?? spec])
    )
  ])
);

export const COMMAND_TYPES: number[] = Object.values(Command);

/** Commands only accepted inside a secure session: the device has no handler for them
 * outside one, so they get UNKNOWN_COMMAND there. */
export const SESSION_ONLY = new Set<number>([Command.REKEY, Command.WITHDRAW, Command.RATES]);

/** Commands whose success never changes the device's state. */
export const PURE = new Set<number>([Command.STATUS, Command.LOG, Command.ECHO, Command.STATS_LIST, Command.BLOCK_READ, Command.INDICIA]);

/** Parts of the state (see device-target.ts stateOf) a successful command may change. */
export type Part = 'identity' | 'registers' | 'funds' | 'storage' | 'records' | 'batch' | 'block' | 'config' | 'lock' | 'clock' | 'resetCause';
export const MAY_CHANGE: { [type: number]: Part[] } = {
  [Command.STATUS]: [],
  [Command.ECHO]: [],
  [Command.STATS_LIST]: [],
  [Command.LOG]: [],
  [Command.BLOCK_READ]: [],
  [Command.INDICIA]: [],
  [Command.SESSION_OPEN]: [],
  // a clock moved far enough forward can be due for the period flush
  [Command.CLOCK]: ['clock', 'storage', 'records'],
  [Command.REBOOT]: ['clock', 'resetCause', 'storage'],
  [Command.PROVISION]: ['identity', 'storage'],
  [Command.FUNDS]: ['registers', 'funds', 'storage'],
  [Command.BATCH_START]: ['batch', 'storage'],
  [Command.BATCH_END]: ['batch', 'storage', 'records'],
  [Command.FRANK]: ['registers', 'batch', 'storage', 'records'],
  [Command.STATS_FLUSH]: ['storage', 'records'],
  [Command.CONFIG]: ['config', 'storage'],
  [Command.STATS_EXTRACT]: ['block', 'storage', 'records', 'lock'],
  [Command.CONFIRM]: ['block', 'storage', 'records'],
  // records kept on the host: begin and records only fill the seal in progress (not in STATUS)
  [Command.HOST_SEAL_BEGIN]: [],
  [Command.HOST_SEAL_RECORDS]: [],
  [Command.HOST_SEAL_END]: ['block', 'storage', 'records', 'lock'],
  // only inside a secure session: outside it, it must be refused
  [Command.REKEY]: [],
  [Command.WITHDRAW]: [],
  [Command.RATES]: [],
  // a new audit: its number in the journal (and a checkpoint when a page fills)
  [Command.AUDIT]: ['storage'],
  // inner commands: extract, block read, confirm, funds, config, clock
  [Command.SESSION]: ['registers', 'funds', 'storage', 'records', 'block', 'config', 'clock']
};

// ---- generation ------------------------------------------------------------------------

const anyJson = fc.jsonValue({ maxDepth: 2 });
const num = (min: number, max: number) => fc.bigInt({ min: BigInt(Math.ceil(min)), max: BigInt(Math.floor(max)) }).map(Number);
const hexText = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((u) => Buffer.from(u).toString('hex'));
const latin1 = (max: number) => fc.uint8Array({ maxLength: max }).map((u) => Buffer.from(u).toString('latin1'));

function valueFor(s: Spec): fc.Arbitrary<unknown> {
  switch (s.kind) {
    case 'int':
      return fc.oneof(
        { weight: 6, arbitrary: num(s.min, Math.min(s.max, s.min + 100000)) },
        { weight: 2, arbitrary: num(s.min, s.max) },
        { weight: 3, arbitrary: fc.constantFrom(s.min - 1, s.min, s.max, s.max + 1, 0, -1, -0, 0.5, s.min + 0.5, 2 ** 53, -(2 ** 53), 1e21, 1e308, -1e308, 4294967296) },
        { weight: 1, arbitrary: num(s.min, s.max).map(String) },
        { weight: 2, arbitrary: anyJson }
      );
    case 'hex':
      return fc.oneof(
        { weight: 4, arbitrary: hexText(s.bytes) },
        { weight: 1, arbitrary: hexText(s.bytes).map((h) => h.toUpperCase()) },
        { weight: 2, arbitrary: fc.nat({ max: 80 }).chain((n) => hexText(n)) },
        { weight: 1, arbitrary: hexText(s.bytes).map((h) => 'g' + h.slice(1)) },
        { weight: 1, arbitrary: hexText(s.bytes).map((h) => h.slice(0, -1) + ' ') },
        { weight: 2, arbitrary: anyJson }
      );
    case 'hexAny':
      return fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 400 }).chain((n) => hexText(n)) }, { weight: 1, arbitrary: fc.string() }, { weight: 1, arbitrary: anyJson });
    case 'enum':
      return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...s.values) }, { weight: 1, arbitrary: fc.constantFrom(...s.values).map((v) => v.toUpperCase()) }, { weight: 2, arbitrary: anyJson });
    case 'bool':
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 2, arbitrary: fc.constantFrom('true', 'false', 1, 0, null) }, { weight: 1, arbitrary: anyJson });
    case 'intList':
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(valueFor(int(s.min, s.max)), { maxLength: 8 }) },
        { weight: 1, arbitrary: fc.array(num(s.min, s.min + 10), { minLength: s.maxLength - 1, maxLength: s.maxLength + 2 }) },
        { weight: 2, arbitrary: anyJson }
      );
    case 'hexList':
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(valueFor(hex(s.bytes)), { maxLength: s.maxLength + 1 }) },
        { weight: 2, arbitrary: anyJson }
      );
    case 'string':
      return fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 2, arbitrary: latin1(300) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) }, { weight: 1, arbitrary: fc.string({ minLength: 900, maxLength: 1100 }) }, { weight: 2, arbitrary: anyJson });
  }
}

const strangeKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'length', '0', ''), fc.string({ maxLength: 8 }));

function validFor(s: Spec): fc.Arbitrary<unknown> {
  switch (s.kind) {
    case 'int':
      return fc.oneof(num(s.min, Math.min(s.max, s.min + 1000)), num(s.min, Math.min(s.max, s.min + 100000)));
    case 'hex':
      return hexText(s.bytes);
    case 'hexAny':
      return fc.nat({ max: 200 }).chain((n) => hexText(n));
    case 'enum':
      return fc.constantFrom(...s.values);
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ maxLength: 40 });
    case 'intList':
      return fc.uniqueArray(num(s.min, s.min + 5000), { maxLength: 6 }).map((a) => a.sort((x, y) => x - y));
    case 'hexList':
      return fc.array(hexText(s.bytes), { maxLength: s.maxLength });
  }
}

/** An object with the command's fields (each present, hostile or missing) and maybe others. */
function randomObject(type: number): fc.Arbitrary<Record<string, unknown>> {
  const fields = FIELDS[type] ?? {};
  const entries = Object.entries(fields).map(([k, s]) => fc.option(valueFor(s), { nil: undefined, freq: 4 }).map((v) => [k, v] as const));
  return fc.tuple(fc.tuple(...entries), fc.array(fc.tuple(strangeKey, anyJson), { maxLength: 2 })).map(([own, extra]) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of extra) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    for (const [k, v] of own) if (v !== undefined) o[k] = v;
    return o;
  });
}

/** Every field valid (FRANK ids include the scenarios' last ones), then maybe one made hostile or left out. */
function nearlyValidObject(type: number): fc.Arbitrary<Record<string, unknown>> {
  const fields = FIELDS[type] ?? {};
  const names = Object.keys(fields);
  const valid = names.map((k) => (type === Command.FRANK && k === 'id' ? fc.oneof(fc.constantFrom(103, 104, 105), validFor(fields[k])) : validFor(fields[k])));
  // change: which field, and whether it is left out (1 in 3) or made hostile
  const change = fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined, freq: 2 });
  return fc.tuple(fc.tuple(...valid), change, fc.tuple(...names.map((k) => valueFor(fields[k])))).map(([vals, ch, hostile]) => {
    const o: Record<string, unknown> = {};
    names.forEach((k, i) => (o[k] = vals[i]));
    if (ch && names.length) {
      const k = ch[0] % names.length;
      if (ch[1] % 3 === 0) delete o[names[k]];
      else o[names[k]] = hostile[k];
    }
    return o;
  });
}

function objectFor(type: number): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(randomObject(type), nearlyValidObject(type));
}

/** FUNDS / CONFIRM as the KMS would send them, maybe with one field changed afterwards. */
function authentic(type: number): fc.Arbitrary<Record<string, unknown>> {
  if (type === Command.FUNDS) {
    return fc
      .record({ counter: fc.constantFrom(1, 2, 2, 2, 3), amount: num(1, 5000000), change: fc.option(fc.constantFrom('counter', 'amount', 'mac'), { nil: undefined, freq: 2 }), to: fc.oneof(valueFor(int(1, 10)), valueFor(hex(32))) })
      .map(({ counter, amount, change, to }) => {
        const o: Record<string, unknown> = { counter, amount, mac: `%FUNDS_MAC:${counter}:${amount}%` };
        if (change) o[change] = to;
        return o;
      });
  }
  return fc
    .record({ seq: fc.constantFrom(1, 2, 3), change: fc.option(fc.constantFrom('seq', 'mac'), { nil: undefined, freq: 2 }), to: fc.oneof(valueFor(int(1, 3)), valueFor(hex(32))) })
    .map(({ seq, change, to }) => {
      const o: Record<string, unknown> = { seq, mac: `%CONFIRM_MAC:${seq}%` };
      if (change) o[change] = to;
      return o;
    });
}

/** Text-level damage to a JSON payload. */
const textMutation = fc.oneof(
  { weight: 12, arbitrary: fc.constant((t: string) => t) },
  { weight: 1, arbitrary: fc.nat().map((k) => (t: string) => t.slice(0, k % (t.length + 1))) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(), latin1(8)).map(([k, b]) => (t: string) => t.slice(0, k % (t.length + 1)) + b + t.slice(k % (t.length + 1))) },
  { weight: 1, arbitrary: fc.constantFrom('1e999', '-1e999', '-0', '1.0000000000000002', '9007199254740993', '0x10', '1e-400').map((n) => (t: string) => t.replace(/-?\d+(\.\d+)?/, n)) },
  { weight: 1, arbitrary: fc.constant((t: string) => `[${t}]`) },
  { weight: 1, arbitrary: fc.constant((t: string) => t.replace(/^\{/, '{"__proto__":{"code":8},')) },
  { weight: 1, arbitrary: fc.nat({ max: 500 }).map((d) => () => '['.repeat(d) + ']'.repeat(d)) },
  { weight: 1, arbitrary: fc.nat({ max: 330 }).map((d) => () => '{"a":'.repeat(d) + '1' + '}'.repeat(d)) },
  { weight: 1, arbitrary: anyJson.map((v) => () => JSON.stringify(v) ?? '') },
  { weight: 1, arbitrary: latin1(40).map((b) => () => b) }
);

/** The payload text of a request of this type. */
export function payloadFor(type: number): fc.Arbitrary<string> {
  const obj = type === Command.FUNDS || type === Command.CONFIRM ? fc.oneof({ weight: 2, arbitrary: authentic(type) }, { weight: 2, arbitrary: objectFor(type) }) : objectFor(type);
  return fc.tuple(obj, textMutation).map(([o, m]) => m(JSON.stringify(o)));
}

// ---- run time: placeholders and the oracle ---------------------------------------------

/** What a scenario's device holds, as far as the oracle needs it. */
export interface Facts {
  device: number;
  deviceKey: Buffer;
  kmsKey: Buffer;
  provisioned: boolean;
  clockSet: boolean;
  fundsCounter: number;
  descending: number;
  fundsTotal: number;
  batch: { mode: 'batch' | 'dynamic' } | null;
  lastFrankId: number;
  /** digests of the block awaiting confirmation and of the last confirmed one, by seq */
  digests: { [seq: number]: Buffer };
  sealedSeq: number;
  confirmedSeq: number;
  lockUntilConfirmed: boolean;
  /** the statistics records are kept on the host (config recordsOnHost) */
  recordsOnHost: boolean;
  /** records on the PSD or a block awaiting confirmation: recordsOnHost cannot change */
  holdsRecords: boolean;
}

const hmacHex = (key: Buffer, message: string) => createHmac('sha256', key).update(Buffer.from(message, 'latin1')).digest('hex');

export function fundsMac(f: Facts, counter: number, amount: number): string {
  return hmacHex(f.kmsKey, fundsMessage(f.device, counter, amount));
}
export function confirmMac(f: Facts, seq: number): string {
  return hmacHex(f.deviceKey, confirmMessage(f.device, seq, (f.digests[seq] ?? Buffer.alloc(32)).toString('latin1')));
}

/** Fills in the MAC placeholders for this scenario's keys and blocks. */
export function materialize(payload: string, f: Facts): string {
  return payload
    .replace(/%FUNDS_MAC:(\d+):(\d+)%/g, (_m, c, a) => fundsMac(f, Number(c), Number(a)))
    .replace(/%CONFIRM_MAC:(\d+)%/g, (_m, s) => confirmMac(f, Number(s)));
}

const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && v === Math.floor(v) && v >= min && v <= max;
const isHex = (v: unknown, bytes: number) => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-fA-F]*$/.test(v);

/**
 * Why the device must refuse this request in the scenario's state, or null when it may
 * accept it. Only certain refusals are listed (a request the device may refuse for a reason
 * not listed here is fine). `r` is the parsed payload, an object.
 */
export function mustRefuse(type: number, r: any, f: Facts): string | null {
  const bad = (name: string, s: Spec) => {
    const v = r[name];
    if (s.kind === 'int') return isInt(v, s.min, s.max) ? null : `${name} is not an integer ${s.min}..${s.max}`;
    if (s.kind === 'hex') return isHex(v, s.bytes) ? null : `${name} is not ${s.bytes} bytes of hex`;
    return null;
  };
  // the firmware's own ranges, not the scenarios' narrower ones
  const spec = REQUEST_FIELDS[type];
  const need = (...names: string[]) => {
    for (const n of names) {
      const why = bad(n, spec[n]);
      if (why) return why;
    }
    return null;
  };
  switch (type) {
    case Command.ECHO:
      return typeof r.data === 'string' ? null : 'data is not a string';
    case Command.CLOCK:
      return need('now');
    case Command.PROVISION:
      return f.provisioned ? 'already provisioned' : need('device', 'deviceKey', 'kmsKey');
    case Command.FUNDS: {
      if (!f.provisioned) return 'not provisioned';
      const why = need('counter', 'amount', 'mac');
      if (why) return why;
      if (r.mac.toLowerCase() !== fundsMac(f, r.counter, r.amount)) return 'the MAC is not the KMS key\'s over (device, counter, amount)';
      if (r.counter !== f.fundsCounter + 1) return `counter ${r.counter} is a replay (expected ${f.fundsCounter + 1})`;
      if (f.descending + r.amount > MAX_U48 || f.fundsTotal + r.amount > MAX_U48) return 'the registers would overflow';
      return null;
    }
    case Command.BATCH_START: {
      if (r.mode !== 'batch' && r.mode !== 'dynamic') return 'mode is neither batch nor dynamic';
      const why = need('customer') || (r.mode === 'batch' ? need('category', 'weight', 'postage') : null);
      if (why) return why;
      if (!f.provisioned) return 'not provisioned';
      if (f.batch) return 'a batch is open';
      if (!f.clockSet) return 'clock not set';
      return null;
    }
    case Command.BATCH_END:
      return f.batch ? null : 'no batch open';
    case Command.FRANK: {
      const whyId = need('id');
      if (whyId) return whyId;
      if (r.id === f.lastFrankId) return null; // the retransmission of the last commit: answered again, changes nothing
      const batchMode = f.batch?.mode === 'batch';
      // a zero-value piece or a test imprint: postage 0 or none, never in batch mode
      const kind = r.kind;
      if (kind !== undefined && kind !== 'zero' && kind !== 'test') return 'kind is neither zero nor test';
      if (kind !== undefined && batchMode) return 'zero-value and test imprints are not franked in batch mode';
      if (kind !== undefined && r.postage !== undefined && r.postage !== 0) return 'a zero-value piece or test imprint has no postage';
      if (batchMode) {
        const count = spec.count as { min: number; max: number };
        if (r.count !== undefined && !isInt(r.count, count.min, count.max)) return `count is not an integer ${count.min}..${count.max}`;
      } else {
        if (r.count !== undefined && r.count !== 1) return 'count other than 1 outside batch mode';
        const why = (f.batch ? null : need('customer')) || need('category', 'weight') || (kind === undefined ? need('postage') : null);
        if (why) return why;
      }
      if (!f.provisioned) return 'not provisioned';
      if (!f.clockSet) return 'clock not set';
      if (f.sealedSeq && f.lockUntilConfirmed) return 'a block awaits confirmation and the config locks franking until then';
      if (!batchMode && kind === undefined && r.postage > f.descending) return 'not enough funds';
      return null;
    }
    case Command.STATS_LIST:
    case Command.LOG:
      return r.from === undefined ? null : need('from');
    case Command.STATS_EXTRACT:
      return f.provisioned ? null : 'not provisioned';
    case Command.BLOCK_READ:
      return f.sealedSeq && r.seq === f.sealedSeq ? null : 'no such block awaits confirmation';
    case Command.CONFIRM: {
      const why = need('seq', 'mac');
      if (why) return why;
      if (r.seq !== f.sealedSeq && r.seq !== f.confirmedSeq) return `block ${r.seq} neither awaits confirmation nor was the last confirmed`;
      if (r.mac.toLowerCase() !== confirmMac(f, r.seq)) return 'the MAC is not the device key\'s over the block';
      return null;
    }
    case Command.CONFIG:
      for (const n of Object.keys(spec)) {
        if (r[n] === undefined) continue;
        if (spec[n].session) return `${n} is set by the data center, inside a session`;
        if (spec[n].kind === 'bool' ? r[n] !== true && r[n] !== false : bad(n, spec[n])) return `${n} is invalid`;
      }
      if (r.recordsOnHost !== undefined && r.recordsOnHost !== f.recordsOnHost && f.holdsRecords) return 'recordsOnHost changes only with no records on the PSD';
      return null;
    case Command.HOST_SEAL_BEGIN: {
      if (!f.provisioned) return 'not provisioned';
      if (!f.recordsOnHost) return 'the records are on the PSD';
      if (f.sealedSeq) return 'a block awaits confirmation';
      const c = r.customers;
      if (!Array.isArray(c) || c.length > 200 || c.some((x: unknown, i: number) => !isInt(x, 1, MAX_U32) || (i > 0 && (x as number) <= c[i - 1]))) return 'customers is not an ascending list of at most 200 customer numbers';
      return need('records');
    }
    case Command.HOST_SEAL_RECORDS:
    case Command.HOST_SEAL_END:
      // no scenario has a seal in progress (a BEGIN that succeeded in the same case turns this oracle off)
      return 'no host seal was begun';
    case Command.INDICIA:
      return f.lastFrankId ? null : 'nothing franked yet';
    case Command.SESSION_OPEN:
      if (!f.provisioned) return 'not provisioned';
      return typeof r.nonce === 'string' && /^[0-9a-fA-F]{32}$/.test(r.nonce) ? null : 'nonce is not 16 bytes of hex';
    case Command.SESSION:
      // the fuzzer holds no session keys: nothing it sends can authenticate
      return 'no message of the fuzzer authenticates';
    case Command.REKEY:
      return 'new keys are only taken inside a secure session';
    case Command.WITHDRAW:
      return 'only the data center withdraws a device, inside a secure session';
    case Command.RATES:
      return 'rate tables come only from the data center, inside a secure session';
  }
  return null;
}
