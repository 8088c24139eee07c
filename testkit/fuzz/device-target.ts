// Fuzz target `device`: the command handler of the BUILT image (dist/firmware/<board>.js)
// running in the virtual board. Each case starts from one of the scenarios (device-scenarios.ts:
// blank, ready, batch, dynamic, sealed, host), sends hostile bytes (random bytes, mutated frames, command frames
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
import { readFileSync } from 'node:fs';
import { Command } from '../../protocol/commands.ts';
import { PROTOCOL_VERSION, RESPONSE_FLAG } from '../../protocol/frame.ts';
import type { FuzzTarget, Finding } from './framework.ts';
import { FuzzBoard, STALE_FRAME_S, imagePath, type Out } from './device-board.ts';
import { SCENARIOS, buildScenarios, bootScenario, type Scenario, type ScenarioName } from './device-scenarios.ts';
import { COMMAND_TYPES, FIELDS, MAY_CHANGE, PURE, payloadFor, materialize, type Part } from './device-commands.ts';
import { commandName as name, errorCode, isLinkReport, judgeAnswer, judgeState, stateOf } from './device-checks.ts';
import { ErrorCode } from '../../protocol/errors.ts';
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

/** One scenario's running board and what the next case needs to know about it. */
interface Live {
  board: FuzzBoard;
  baseline: Record<Part, unknown>;
  /** the last frame the device executed (a probe) and its answer: a repeat is a retransmission */
  last: { seq: number; crc: number; answer: string };
  /** the last case changed something: the next case needs a fresh board */
  dirty: boolean;
  /** the front's counters (STATUS link) in the last probe's answer */
  link: { frames: number; retransmits: number; crcErrors: number };
}

export interface DeviceTargetOptions {
  board?: string;
  /** image source text instead of dist/firmware/<board>.js (testkit/fuzz/planted.ts plants bugs this way) */
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
      const image = opts.image ?? readFileSync(imagePath(boardId), 'latin1');
      // a command added to protocol/commands.ts but not yet to device-commands.ts is still
      // fuzzed, with random fields, no refusal oracle, and no state change allowed on success
      const unmodelled = COMMAND_TYPES.filter((t) => !(t in MAY_CHANGE) || !(t in FIELDS));
      if (unmodelled.length) console.warn(`fuzz: testkit/fuzz/device-commands.ts does not model ${unmodelled.map(name).join(', ')} yet: add its fields (FIELDS), what it may change (MAY_CHANGE) and its refusals (mustRefuse)`);
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
        const status = JSON.parse(a.frame.payload);
        return { board, baseline: stateOf(status), last: { seq: p.seq, crc: p.crc, answer: a.bytes }, dirty: false, link: status.link };
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
          if (dirty) {
            count('boards restored');
            retire(c.scenario);
          }
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
        const answers = outs.filter((o) => !isLinkReport(o.frame));

        // ---- every intact frame: exactly one answer, in order, with its seq, a proper type and body
        let prev = l.last;
        let retransmits = 0;
        let oracle = true; // the scenario's facts describe the device until a command changed it
        const successes: number[] = [];
        let status: Out | undefined;
        let secondProbe = false; // the STATUS that answered came after the stale-frame window
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
          if (req.seq === prev.seq && req.crc === prev.crc) {
            // a retransmission: the stored answer again, byte for byte, and nothing executed
            if (a.bytes !== prev.answer) return { kind: 'unanswered', detail: `${what} repeats the previous frame but its answer is not the stored one${sent()}` };
            retransmits++;
            continue;
          }
          prev = { seq: req.seq, crc: req.crc, answer: a.bytes };
          if (isProbe) {
            if (a.frame.type !== (Command.STATUS | RESPONSE_FLAG)) return { kind: 'unanswered', detail: `${what} was refused: ${a.frame.payload}${sent()}` };
            status = a;
            continue;
          }
          const v = judgeAnswer(req, a.frame, scenario.facts, oracle, what);
          count(v.label);
          if (v.finding) return { kind: v.finding.kind, detail: v.finding.detail + sent() };
          if (v.ok) {
            successes.push(req.type);
            if (!PURE.has(req.type)) oracle = false;
          }
        }
        if (answers.length > spec.frames.length)
          return { kind: 'unanswered', detail: `${answers.length} answers to ${spec.frames.length} frames; extra: ${answers.slice(spec.frames.length).map((o) => o.frame.payload.slice(0, 100)).join(' | ')}${sent()}` };
        if (outs.length > answers.length) count('link error reports');
        // a CRC report carries the seq of a frame that failed its CRC (so the host can retransmit
        // at once), an oversize report seq 0 (firmware/core/device.ts onDrop)
        for (const o of outs.filter((x) => isLinkReport(x.frame))) {
          const crcReport = errorCode(o.frame.payload) === ErrorCode.CRC;
          if (crcReport ? !spec.crcSeqs.includes(o.frame.seq) : o.frame.seq !== 0)
            return { kind: 'unanswered', detail: `a ${crcReport ? 'CRC' : 'oversize'} report carries seq ${o.frame.seq}, which is not the seq of a frame dropped for that reason${sent()}` };
        }
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
          secondProbe = true;
          if (!status) return { kind: 'hang', detail: `no answer to STATUS even after the ${STALE_FRAME_S} s stale-frame window${successes.includes(Command.REBOOT) ? ' (after a REBOOT)' : ''}${sent()}` };
          if (!b.alive) return { kind: 'crash', detail: `the board stopped${sent()}` };
        }
        l.last = { seq: p.seq, crc: p.crc, answer: status.bytes };
        const answer = JSON.parse(status.frame.payload);

        // ---- state: only what a successful command may change
        const { finding, changed } = judgeState(l.baseline, stateOf(answer), successes);
        if (finding) return { kind: finding.kind, detail: finding.detail + sent() };

        // ---- the front's own count: every frame decoded, retransmissions not executed again,
        // every CRC failure counted (a reboot starts the counters anew)
        const link = answer.link;
        // (a STATUS too large for a frame leaves the link counters out: then nothing to compare)
        if (link && l.link && !successes.includes(Command.REBOOT)) {
          const frames = spec.frames.length + (secondProbe ? 1 : 0);
          const d = { frames: link.frames - l.link.frames, retransmits: link.retransmits - l.link.retransmits, crcErrors: link.crcErrors - l.link.crcErrors };
          if (d.retransmits !== retransmits) return { kind: 'state', detail: `the device counted ${d.retransmits} retransmissions, the case sent ${retransmits} (a repeated frame executed again?)${sent()}` };
          if (d.frames !== frames || d.crcErrors !== spec.crcDrops)
            return { kind: 'unanswered', detail: `the device counted ${d.frames} frames and ${d.crcErrors} CRC errors; the case holds ${frames} frames and ${spec.crcDrops} CRC failures${sent()}` };
        }
        l.link = link;
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
