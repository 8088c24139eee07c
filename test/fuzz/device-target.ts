// Fuzz target `device`: the command handler of the BUILT image (dist/firmware/<board>.js)
// running in the virtual board. Each case starts from one of the scenarios (blank, ready,
// batch, dynamic, sealed), sends hostile bytes (random bytes, mutated frames, command frames
// with random or mutated JSON for every command type), then checks:
//   crash       an uncaught exception on the console, the board died, output that is not
//               frames, or an INTERNAL error (a handler threw something it did not mean to)
//   hang        after the case a well-formed STATUS gets no answer, even after the board
//               clock (manual) moved past the stale-frame window (1 s) that drops a partial frame
//   state       the state (registers, funds counter, journal bytes used, records, batch, block,
//               config, lock, clock, identity) changed in a part that no command the image
//               answered with success may change; or it accepted a request it must refuse
//               (forged MAC, wrong arguments, wrong state: device-commands.ts mustRefuse)
//   unanswered  an intact frame (as the documented decoder finds it) got no answer, more than
//               one, an answer with the wrong seq/type, a body that is not {code, detail|message}
//               with a device error code, the wrong code for a bad version (3), an unknown
//               command (4) or a payload that is not a JSON object (5), a retransmission not
//               answered byte-identically, or frames dropped for a bad CRC or length (by design
//               they are not executed) without a CRC (1) or oversize (2) report
import fc from 'fast-check';
import { Command } from '../../protocol/commands.ts';
import { ErrorCode, ErrorMessage } from '../../protocol/errors.ts';
import { PROTOCOL_VERSION, RESPONSE_FLAG, ERROR_TYPE } from '../../protocol/frame.ts';
import type { FuzzTarget, Finding } from './framework.ts';
import { readFileSync } from 'node:fs';
import { FuzzBoard, STALE_FRAME_S, imagePath, type Out } from './device-board.ts';
import { SCENARIOS, buildScenarios, bootScenario, type Scenario, type ScenarioName } from './device-scenarios.ts';
import { COMMAND_TYPES, FIELDS, MAY_CHANGE, PURE, payloadFor, materialize, mustRefuse, type Part } from './device-commands.ts';
import { rawFrame, mutation, mutate, byteString, falseSync, chunked, pieces, showStream, type Mutation, type Stream } from './wire.ts';
import { specDecode } from './frame-target.ts';

export type Segment =
  | { kind: 'frame'; version: number; type: number; seq: number; payload: string; mutation: Mutation }
  | { kind: 'bytes'; bytes: string };

export interface DeviceCase {
  scenario: ScenarioName;
  segments: Segment[];
  /** where the line's reads split the bytes */
  cuts: number[];
}

const commandType = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...COMMAND_TYPES) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });

const frameSegment: fc.Arbitrary<Segment> = commandType.chain((type) =>
  fc.record({
    kind: fc.constant('frame' as const),
    version: fc.oneof({ weight: 20, arbitrary: fc.constant(PROTOCOL_VERSION) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    type: fc.constant(type),
    seq: fc.integer({ min: 0, max: 0xffff }),
    payload: payloadFor(type),
    // most frames arrive intact: the handlers are the main surface; the rest are damaged
    mutation: fc.oneof({ weight: 3, arbitrary: fc.constant<Mutation>({ kind: 'none' }) }, { weight: 1, arbitrary: mutation })
  })
);

const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 10, arbitrary: frameSegment },
  { weight: 1, arbitrary: byteString(300).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  { weight: 1, arbitrary: falseSync.map((bytes) => ({ kind: 'bytes' as const, bytes })) }
);

export const deviceCase: fc.Arbitrary<DeviceCase> = fc.record({
  scenario: fc.constantFrom(...SCENARIOS),
  segments: fc.oneof({ weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(segment, { minLength: 0, maxLength: 4 }) }),
  cuts: fc.array(fc.nat(), { maxLength: 4 })
});

function streamOf(c: DeviceCase, s: Scenario): Stream {
  const bytes = c.segments.map((g) => (g.kind === 'bytes' ? g.bytes : mutate(rawFrame(g.version, g.type, g.seq, materialize(g.payload, s.facts)), g.mutation))).join('');
  return chunked(bytes, c.cuts);
}

/** What a case may not change unless a command was answered with success (see MAY_CHANGE). */
function stateOf(s: any): Record<Part, unknown> {
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
  return (Object.keys(a) as Part[]).filter((k) => (k === 'clock' ? !(a.clock === 0) !== !(b.clock === 0) || Math.abs((a.clock as number) - (b.clock as number)) > 1 : JSON.stringify(a[k]) !== JSON.stringify(b[k])));
}

const DEVICE_CODES = new Set(Object.keys(ErrorMessage).map(Number));
const KNOWN_TYPES = new Set(COMMAND_TYPES);
const name = (t: number) => Object.entries(Command).find(([, v]) => v === t)?.[0] ?? '0x' + t.toString(16);

/** The error body's code, or a reason it is not a proper error body. */
function errorCode(payload: string): number | string {
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

/** One scenario's running board and what the next case needs to know about it. */
interface Live {
  board: FuzzBoard;
  baseline: Record<Part, unknown>;
  /** the last frame the device executed (a probe) and its answer: a repeat is a retransmission */
  last: { seq: number; crc: number; answer: string };
  /** the last case changed something: the next case needs a fresh board */
  dirty: boolean;
}

export interface DeviceTargetOptions {
  board?: string;
  /** image source text instead of dist/firmware/<board>.js (test/fuzz/planted.ts plants bugs this way) */
  image?: string;
}

export function deviceTarget(opts: DeviceTargetOptions = {}): FuzzTarget<DeviceCase> {
  const boardId = opts.board ?? 'pico';
  return {
    name: 'device',
    description: `command handler of the built image dist/firmware/${boardId}.js in the virtual board${opts.image !== undefined ? ' (given image)' : ''}`,
    arbitrary: deviceCase,
    caseBoundMs: 10000,
    show(c) {
      const segs = c.segments.map((g) => (g.kind === 'bytes' ? `bytes ${JSON.stringify(g.bytes)}` : `frame v${g.version} ${name(g.type)} seq ${g.seq} payload ${JSON.stringify(g.payload)}${g.mutation.kind === 'none' ? '' : ' then ' + JSON.stringify(g.mutation)}`));
      return `scenario ${c.scenario}, reads cut at [${c.cuts}]\n  ` + segs.join('\n  ');
    },
    async open() {
      // one image for the whole run, even if dist/ is rebuilt meanwhile
      const image = opts.image ?? readFileSync(imagePath(boardId), 'utf8');
      const unmodelled = COMMAND_TYPES.filter((t) => !(t in MAY_CHANGE) || !(t in FIELDS));
      if (unmodelled.length) throw new Error(`test/fuzz/device-commands.ts does not model ${unmodelled.map(name).join(', ')}: add its fields (FIELDS), what it may change (MAY_CHANGE) and its refusals (mustRefuse)`);
      const built = await buildScenarios(boardId, image);
      const live = new Map<ScenarioName, Live>();
      let probes = 0;
      const seen: { [what: string]: number } = {};
      const count = (what: string) => (seen[what] = (seen[what] ?? 0) + 1);

      /** STATUS with a payload never sent before, so it is never taken for a retransmission. */
      function probeFrame() {
        probes++;
        const seq = 0xa000 + (probes % 0x1000);
        const bytes = rawFrame(PROTOCOL_VERSION, Command.STATUS, seq, `{"probe":${probes}}`);
        return { seq, bytes, crc: specDecode(bytes).frames[0].crc };
      }

      async function fresh(s: Scenario): Promise<Live> {
        const board = await bootScenario(boardId, s, image);
        const p = probeFrame();
        const from = board.out.length;
        await board.write(p.bytes);
        const a = board.out.slice(from).find((o) => o.frame.seq === p.seq && o.frame.type === (Command.STATUS | RESPONSE_FLAG));
        if (!a) throw new Error(`scenario ${s.name}: the freshly booted board does not answer STATUS`);
        return { board, baseline: stateOf(JSON.parse(a.frame.payload)), last: { seq: p.seq, crc: p.crc, answer: a.bytes }, dirty: false };
      }

      async function liveFor(name: ScenarioName): Promise<Live> {
        let l = live.get(name);
        if (!l) {
          l = await fresh(built.scenarios.get(name)!);
          live.set(name, l);
        }
        return l;
      }

      function retire(name: ScenarioName) {
        count('boards restored');
        live.get(name)?.board.close();
        live.delete(name);
      }

      async function runCase(c: DeviceCase): Promise<Finding | null> {
        const scenario = built.scenarios.get(c.scenario)!;
        const l = await liveFor(c.scenario);
        let dirty = true; // until the case proves harmless
        try {
          l.dirty = true;
          const f = await check(c, scenario, l);
          if (!f) dirty = l.dirty || l.board.rebooted > 0 || l.board.advanced > 30 || !l.board.alive;
          return f;
        } finally {
          if (dirty) retire(c.scenario);
        }
      }

      async function check(c: DeviceCase, scenario: Scenario, l: Live): Promise<Finding | null> {
        const b = l.board;
        const stream = streamOf(c, scenario);
        const from = b.out.length;
        const consoleFrom = b.console.length;
        for (const piece of pieces(stream)) await b.write(piece);
        // then a well-formed STATUS: it may complete a partial frame of the case (which must
        // then fail its CRC), or be swallowed by one (dropped after the stale-frame window)
        let p = probeFrame();
        await b.write(p.bytes);
        const sentBytes = stream.bytes + p.bytes;
        const spec = specDecode(sentBytes);
        const sent = () => `\n  bytes sent: ${showStream(stream)}`;

        // ---- crash signs
        const uncaught = b.console.slice(consoleFrom).filter((s) => /Uncaught/.test(s));
        if (uncaught.length) return { kind: 'crash', detail: `console: ${uncaught.join(' / ')}${sent()}` };
        if (!b.alive) return { kind: 'crash', detail: `the board stopped${sent()}` };
        if (b.junk) return { kind: 'crash', detail: `the device wrote ${b.junk} bytes that are not frames${sent()}` };

        /** After the stale-frame window (which drops any partial frame) a new STATUS must be
         * answered; its answer, or undefined if the device stopped answering. */
        const answersLater = async () => {
          await b.advance(STALE_FRAME_S + 0.05);
          p = probeFrame();
          const k = b.out.length;
          await b.write(p.bytes);
          return b.out.slice(k).find((o) => o.frame.seq === p.seq && o.frame.type === (Command.STATUS | RESPONSE_FLAG));
        };

        const outs = b.out.slice(from);
        const linkReport = (o: Out) => o.frame.type === ERROR_TYPE && [ErrorCode.CRC, ErrorCode.OVERSIZE].includes(errorCode(o.frame.payload) as number);
        const answers = outs.filter((o) => !linkReport(o));

        // ---- every intact frame: exactly one answer, in order, with its seq, a proper type and body
        let prev = l.last;
        let oracleOn = true; // the oracle knows the scenario's state until something changed it
        const successes: number[] = [];
        let status: Out | undefined;
        for (let i = 0; i < spec.frames.length; i++) {
          const req = spec.frames[i];
          const a = answers[i];
          const isProbe = req.at === stream.bytes.length;
          const what = isProbe ? 'the STATUS after the case' : `frame #${i} (${name(req.type)} v${req.version} seq ${req.seq} payload ${JSON.stringify(req.payload.slice(0, 300))})`;
          if (!a) {
            const stillAnswers = await answersLater();
            return { kind: stillAnswers ? 'unanswered' : 'hang', detail: `${what} got no answer (${answers.length} answers to ${spec.frames.length} frames, the last one the STATUS after the case)${stillAnswers ? '' : '; the device answers nothing any more, not even STATUS after the stale-frame window'}${sent()}` };
          }
          if (a.frame.seq !== req.seq) return { kind: 'unanswered', detail: `${what} answered with seq ${a.frame.seq}${sent()}` };
          const retransmit = req.seq === prev.seq && req.crc === prev.crc;
          if (retransmit) {
            if (a.bytes !== prev.answer) return { kind: 'unanswered', detail: `${what} repeats the previous frame but its answer is not the stored one${sent()}` };
            continue;
          }
          prev = { seq: req.seq, crc: req.crc, answer: a.bytes };
          const ok = a.frame.type === (req.type | RESPONSE_FLAG) && a.frame.type !== ERROR_TYPE;
          if (!ok && a.frame.type !== ERROR_TYPE) return { kind: 'unanswered', detail: `${what} answered with type 0x${a.frame.type.toString(16)}${sent()}` };
          if (isProbe) {
            if (!ok) return { kind: 'unanswered', detail: `${what} was refused: ${a.frame.payload}${sent()}` };
            status = a;
            continue;
          }
          let expected: number | null = null;
          let request: any;
          if (req.version !== PROTOCOL_VERSION) expected = ErrorCode.VERSION;
          else if (!KNOWN_TYPES.has(req.type)) expected = ErrorCode.UNKNOWN_COMMAND;
          else {
            try {
              request = req.payload.length ? JSON.parse(req.payload) : {};
              if (request === null || typeof request !== 'object') expected = ErrorCode.BAD_PAYLOAD;
            } catch {
              expected = ErrorCode.BAD_PAYLOAD;
            }
          }
          if (ok) {
            if (expected !== null) return { kind: 'unanswered', detail: `${what} was answered with success; expected error ${expected} (${ErrorMessage[expected]})${sent()}` };
            let body: any;
            try {
              body = JSON.parse(a.frame.payload);
            } catch {
              return { kind: 'unanswered', detail: `${what}: the answer is not JSON: ${a.frame.payload.slice(0, 200)}${sent()}` };
            }
            if (!body || typeof body !== 'object') return { kind: 'unanswered', detail: `${what}: the answer is not an object${sent()}` };
            const why = oracleOn ? mustRefuse(req.type, request, scenario.facts) : req.type === Command.SESSION ? 'no message of the fuzzer authenticates' : null;
            if (why) return { kind: 'state', detail: `${what} was accepted but must be refused: ${why}; answer ${a.frame.payload.slice(0, 300)}${sent()}` };
            successes.push(req.type);
            count(`${KNOWN_TYPES.has(req.type) ? name(req.type) : 'other type'} ok`);
            if (!PURE.has(req.type)) oracleOn = false;
            continue;
          }
          const code = errorCode(a.frame.payload);
          count(`${KNOWN_TYPES.has(req.type) ? name(req.type) : 'other type'} error ${code}`);
          if (typeof code === 'string') return { kind: 'unanswered', detail: `${what}: ${code}${sent()}` };
          if (expected !== null && code !== expected) return { kind: 'unanswered', detail: `${what} answered with error ${code}; expected ${expected} (${ErrorMessage[expected]})${sent()}` };
          if (code === ErrorCode.INTERNAL && !/does not fit a frame/.test(a.frame.payload))
            return { kind: 'crash', detail: `${what}: the handler threw an unexpected exception: ${a.frame.payload}${sent()}` };
        }
        if (answers.length > spec.frames.length)
          return { kind: 'unanswered', detail: `${answers.length} answers to ${spec.frames.length} frames; extra: ${answers.slice(spec.frames.length).map((o) => o.frame.payload.slice(0, 100)).join(' | ')}${sent()}` };
        if (outs.length > answers.length) count('link error reports');
        if (spec.crcDrops + spec.oversizeDrops > 0 && outs.length === answers.length)
          return { kind: 'unanswered', detail: `${spec.crcDrops} candidate frames failed their CRC and ${spec.oversizeDrops} had an oversize length, but the device reported neither${sent()}` };

        // a REBOOT answered: let its timer fire; the board must come back and answer
        if (successes.includes(Command.REBOOT)) {
          await b.advance(0.1);
          status = undefined;
        }
        if (!status) {
          count(successes.includes(Command.REBOOT) ? 'reboots' : 'STATUS swallowed by a partial frame');
          // the STATUS was swallowed by a partial frame (or the board rebooted): the partial
          // frame must be dropped after the stale-frame window, then STATUS answered
          status = await answersLater();
          if (!status) return { kind: 'hang', detail: `no answer to STATUS even after the ${STALE_FRAME_S} s stale-frame window${successes.includes(Command.REBOOT) ? ' (after a REBOOT)' : ''}${sent()}` };
          if (!b.alive) return { kind: 'crash', detail: `the board stopped${sent()}` };
        }
        l.last = { seq: p.seq, crc: p.crc, answer: status.bytes };
        const after = stateOf(JSON.parse(status.frame.payload));

        // ---- state: only what a successful command may change
        const allowed = new Set<Part>(successes.flatMap((t) => MAY_CHANGE[t] ?? []));
        const changed = changedParts(l.baseline, after);
        const unexplained = changed.filter((k) => !allowed.has(k));
        if (unexplained.length)
          return {
            kind: 'state',
            detail: `${unexplained.join(', ')} changed (${unexplained.map((k) => JSON.stringify(l.baseline[k]) + ' -> ' + JSON.stringify(after[k])).join('; ')}) though ${successes.length ? 'only ' + successes.map(name).join(', ') + ' succeeded' : 'no command succeeded'}${sent()}`
          };
        const r0 = l.baseline.registers as any;
        const r1 = after.registers as any;
        if (r1.controlTotal !== r1.ascending + r1.descending || r1.ascending < r0.ascending || r1.pieces < r0.pieces || (r1.controlTotal !== r0.controlTotal && !successes.includes(Command.FUNDS) && !successes.includes(Command.SESSION)))
          return { kind: 'state', detail: `registers moved against the invariants: ${JSON.stringify(r0)} -> ${JSON.stringify(r1)}${sent()}` };
        l.dirty = changed.length > 0 || successes.some((t) => !PURE.has(t));
        return null;
      }

      return {
        runCase,
        coverage: () => seen,
        async close() {
          for (const n of [...live.keys()]) retire(n);
          built.dispose();
        }
      };
    }
  };
}
