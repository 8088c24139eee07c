// Fuzz target `pss`: the PSS's TCP input (server/service.ts over server/datacenter.ts in a
// temp dir, as `pss serve` runs it). Each case opens a connection and writes hostile bytes,
// split across TCP writes: random bytes, floods, and frames of every request type
// (protocol/pss-wire.ts) with valid, hostile or random JSON, uploads of sealed blocks (valid,
// stored, gap, replay, revoked, unknown, uncertified, wrong algorithm, implausible) whole
// or in parts, block bytes flipped, cut or extended, and every frame mutation of wire.ts.
// Its verdicts:
//   crash       an INTERNAL error answer or an internal error in the service's log (a handler
//               threw something it did not mean to); the service stops accepting connections
//   hang        after the case, a `hello` on a fresh connection gets no answer within 3 s
//   state       the database (devices, blocks, records, funds_resets, meta) differs from what
//               the answered requests allow: only a register, certify, funds or upload
//               answered with success may change it, and only the rows it names, as it says
//               (an upload stores only a block this fuzzer sealed, next in its chain); or a
//               request that must be refused (revoked or unknown device, another key, a
//               forged block) was answered with success
//   unanswered  an intact frame (as the documented decoder finds it) got no answer before the
//               connection closed, or one with the wrong seq or type, an error that is not
//               {code, message} with a protocol/pss-errors.ts code, the wrong code for a bad
//               version, payload or type, or a retransmission not answered as the first time
// The rejections table is the operator's log of refused uploads and may grow. After a case
// that changed the database, its tables are put back from a snapshot taken at the start
// (Store.restoreFrom), so every case starts from the same registry and blocks. Plain
// connections are devices': register, certify, funds and sessions with funds or rekey are
// refused there (NOT_AUTHORISED, an error answer like any other); test/pss-roles.test.ts
// covers them over TLS.
import nodeCrypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openDataCenter, type DataCenter } from '../../server/datacenter.ts';
import { startService, type Service } from '../../server/service.ts';
import { PssRequest, PssRequestName } from '../../protocol/pss-wire.ts';
import { PssErrorCode } from '../../protocol/pss-errors.ts';
import { MASTER_KEY_FILE, CA_SEED_FILE } from '../../server/keyfiles.ts';
import { PROTOCOL_VERSION, RESPONSE_FLAG, ERROR_TYPE, HEADER_BYTES, CRC_BYTES } from '../../protocol/frame.ts';
import type { FuzzTarget, Finding } from './framework.ts';
import { rawFrame, chunked, pieces, type Stream } from './wire.ts';
import { specDecode } from './frame-target.ts';
import { ED, SERIALS, BOARDS, makeBlocks } from './pss-blocks.ts';
import { type PssCase, KNOWN_TYPES, pssCase, segmentBytes, typeName, showSegment } from './pss-inputs.ts';
import { type Tables, tables, cloneTables, tableDiff, allow } from './pss-tables.ts';
export { type PssSegment, type PssCase, pssCase } from './pss-inputs.ts';

// ---- the connection ------------------------------------------------------------------------------

interface Received {
  bytes: string;
  closed: boolean;
}

/** A client connection: collects what the service sends, and whether it closed. */
function connect(port: number): Promise<{ socket: net.Socket; got: Received; changed: (fn: () => void) => void }> {
  return new Promise((resolve, reject) => {
    const got: Received = { bytes: '', closed: false };
    let listener: (() => void) | null = null;
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.on('data', (b) => {
      got.bytes += b.toString('latin1');
      listener?.();
    });
    socket.on('close', () => {
      got.closed = true;
      listener?.();
    });
    socket.on('error', () => {}); // a reset or a write after the service closed: 'close' follows
    socket.once('connect', () => resolve({ socket, got, changed: (fn) => (listener = fn) }));
    socket.once('error', (e) => reject(e));
  });
}

/** Resolves when `done()` holds (checked whenever something arrives) or after `ms`. */
function until(changed: (fn: () => void) => void, done: () => boolean, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (done()) return resolve(true);
    const timer = setTimeout(() => {
      changed(() => {});
      resolve(false);
    }, ms);
    changed(() => {
      if (!done()) return;
      clearTimeout(timer);
      changed(() => {});
      resolve(true);
    });
  });
}

const ANSWER_MS = 3000;
/** the service's default maxGarbageBytes (server/service.ts) */
const MAX_GARBAGE = 4096;
const PROBE_MS = 3000;
const ERROR_CODES = new Set<string>(Object.values(PssErrorCode));

interface Answer {
  type: number;
  seq: number;
  payload: string;
  body: any;
}

/** A drop report: what the service sends for bytes that were not an intact frame. */
const isDropReport = (a: Answer) => a.type === ERROR_TYPE && (a.body?.code === 'BAD_FRAME' || (a.body?.code === 'OVERSIZE' && /^frame longer than/.test(a.body?.message)));

function parseAnswers(bytes: string): Answer[] {
  return specDecode(bytes).frames.map((f) => {
    let body: any;
    try {
      body = JSON.parse(f.payload);
    } catch {
      body = undefined;
    }
    return { type: f.type, seq: f.seq, payload: f.payload, body };
  });
}

/** Pairs each intact request with its answer, in order (drop reports in between are skipped). */
function pair(requests: ReturnType<typeof specDecode>['frames'], answers: Answer[]): { matched: (Answer | undefined)[]; stray: Answer[] } {
  const matched: (Answer | undefined)[] = [];
  let at = 0;
  for (const r of requests) {
    while (at < answers.length && isDropReport(answers[at])) at++;
    matched.push(answers[at]);
    if (at < answers.length) at++;
  }
  return { matched, stray: answers.slice(at).filter((a) => !isDropReport(a)) };
}

// ---- the target ---------------------------------------------------------------------------------

export interface PssTargetOptions {
  /** changes the data center after its baseline is made (a planted bug shows the checks catch it) */
  plant?: (dc: DataCenter) => void;
}

export function pssTarget(opts: PssTargetOptions = {}): FuzzTarget<PssCase> {
  return {
    name: 'pss',
    description: 'server/service.ts: the PSS TCP service over a data directory, hostile frames and bytes on a connection',
    arbitrary: pssCase,
    caseBoundMs: 12000,
    show(c) {
      return `writes cut at [${c.cuts}]\n  ` + c.segments.map(showSegment).join('\n  ');
    },
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-pss-'));
      // fixed KMS secrets: the same device keys, certificates and blocks in every run
      fs.writeFileSync(path.join(dir, MASTER_KEY_FILE), nodeCrypto.createHash('sha256').update('psd fuzz pss: master').digest(), { mode: 0o600 });
      fs.writeFileSync(path.join(dir, CA_SEED_FILE), nodeCrypto.createHash('sha256').update('psd fuzz pss: ca').digest(), { mode: 0o600 });
      const dc = await openDataCenter(dir);
      const keys: { [d: number]: string } = {};
      for (const d of [1001, 1002, 1003, 1004] as const) {
        const r = dc.kms.registerDevice(SERIALS[d], BOARDS[d]);
        if (r.device !== d) throw new Error(`pss fuzz target: ${SERIALS[d]} registered as device ${r.device}, expected ${d}`);
        keys[d] = r.deviceKey;
      }
      dc.kms.certify(1002, ED.publicKey);
      dc.kms.revoke(1003);
      const facts = makeBlocks({ 1001: keys[1001], 1003: keys[1003] });
      for (const ref of ['hmac-1', 'hmac-2', 'ed-1'] as const) dc.pss.upload(facts.blocks[ref].raw);
      const baselineFile = path.join(dir, 'baseline.sqlite');
      dc.store.snapshotTo(baselineFile);
      const baseline = tables(dc);
      if (baseline.blocks.size !== 3) throw new Error('pss fuzz target: the baseline blocks were not stored');
      /** Puts the baseline tables back, in one transaction of the service's own Store. */
      const restore = () => dc.store.restoreFrom(baselineFile);

      opts.plant?.(dc);
      const log: string[] = [];
      const service: Service = await startService(dc, { port: 0, log: (l) => log.push(l) });
      let probes = 0;
      const seen: { [what: string]: number } = {};
      const count = (what: string, n = 1) => (seen[what] = (seen[what] ?? 0) + n);

      async function probe(): Promise<Finding | null> {
        probes++;
        const seq = probes & 0xffff;
        let c;
        try {
          c = await connect(service.port);
        } catch (e) {
          return { kind: 'crash', detail: `the service no longer accepts connections: ${(e as Error).message}` };
        }
        try {
          c.socket.write(Buffer.from(rawFrame(PROTOCOL_VERSION, PssRequest.HELLO, seq, '{}'), 'latin1'));
          const ok = await until(c.changed, () => c.got.closed || parseAnswers(c.got.bytes).some((a) => a.seq === seq), PROBE_MS);
          const a = parseAnswers(c.got.bytes).find((x) => x.seq === seq);
          if (!ok || !a) return { kind: 'hang', detail: `a hello on a fresh connection after the case got ${c.got.closed ? 'the connection closed' : `no answer in ${PROBE_MS} ms`}` };
          if (a.type !== (PssRequest.HELLO | RESPONSE_FLAG) || a.body?.protocol !== PROTOCOL_VERSION) return { kind: 'hang', detail: `a hello on a fresh connection after the case was answered ${a.payload}` };
          return null;
        } finally {
          c.socket.destroy();
        }
      }

      /** Every intact request got one answer, the right one; success answers applied to `want`. */
      function judgeAnswers(requests: ReturnType<typeof specDecode>['frames'], answers: Answer[], closed: boolean, want: Tables): Finding | null {
        const { matched, stray } = pair(requests, answers);
        for (let i = 0; i < requests.length; i++) {
          const r = requests[i];
          const a = matched[i];
          const what = `intact frame #${i} (v${r.version} ${typeName(r.type)} seq ${r.seq} payload ${JSON.stringify(r.payload.slice(0, 300))})`;
          if (!a) {
            if (closed) break; // the service closed the connection: the rest is unanswered by design
            return { kind: 'unanswered', detail: `${what} got no answer in ${ANSWER_MS} ms; answers: ${answers.map((x) => `0x${x.type.toString(16)}/${x.seq} ${x.payload.slice(0, 120)}`).join(' | ') || 'none'}` };
          }
          const shown = `${what} was answered type 0x${a.type.toString(16)} seq ${a.seq}: ${a.payload.slice(0, 400)}`;
          if (a.seq !== r.seq || (a.type !== ERROR_TYPE && a.type !== ((r.type | RESPONSE_FLAG) & 0xff))) return { kind: 'unanswered', detail: `${shown} (not an answer to it)` };
          if (!a.body || typeof a.body !== 'object' || Array.isArray(a.body)) return { kind: 'unanswered', detail: `${shown} (not a JSON object)` };
          const retransmit = i > 0 && requests[i - 1].seq === r.seq && requests[i - 1].crc === r.crc;
          if (retransmit) {
            if (a.payload !== matched[i - 1]!.payload || a.type !== matched[i - 1]!.type) return { kind: 'unanswered', detail: `${shown}, a retransmission of the frame before, answered ${matched[i - 1]!.payload.slice(0, 400)}` };
            count('retransmissions answered again');
            continue;
          }
          let req: unknown;
          try {
            req = r.payload ? JSON.parse(r.payload) : {};
          } catch {
            req = undefined;
          }
          const isObject = !!req && typeof req === 'object' && !Array.isArray(req);
          const expectCode = r.version !== PROTOCOL_VERSION ? 'VERSION' : !isObject ? 'BAD_PAYLOAD' : !KNOWN_TYPES.includes(r.type) ? 'UNKNOWN_REQUEST' : null;
          if (a.type === ERROR_TYPE) {
            const { code, message } = a.body;
            if (!ERROR_CODES.has(code) || typeof message !== 'string' || !message) return { kind: 'unanswered', detail: `${shown} (an error answer is {code, message} with a protocol/pss-errors.ts code)` };
            if (code === 'INTERNAL') return { kind: 'crash', detail: `${shown}${log.length ? '\n  log: ' + log.join('\n  ') : ''}` };
            if (expectCode && code !== expectCode) return { kind: 'unanswered', detail: `${shown}; expected ${expectCode}` };
            if (r.type === PssRequest.HELLO && !expectCode) return { kind: 'unanswered', detail: `${shown}; hello never fails` };
            count(`${PssRequestName[r.type] ?? 'unknown type'}: ${code}`);
            continue;
          }
          if (expectCode) return { kind: 'state', detail: `${shown}; it must be refused with ${expectCode}` };
          if (a.body.report?.error?.code === 'INTERNAL') return { kind: 'crash', detail: `${shown}${log.length ? '\n  log: ' + log.join('\n  ') : ''}` };
          count(`${typeName(r.type)}: ok${r.type === PssRequest.UPLOAD ? (a.body.digest === undefined ? ' (part)' : a.body.stored ? ' (stored)' : ' (repeat)') : ''}`);
          const why = allow(want, r.type, req as Record<string, any>, a.body, facts);
          if (why) return { kind: 'state', detail: `${shown}: ${why}` };
        }
        if (stray.length && !closed) return { kind: 'unanswered', detail: `answers no intact frame asked for: ${stray.map((x) => `type 0x${x.type.toString(16)} seq ${x.seq} ${x.payload.slice(0, 200)}`).join(' | ')}` };
        return null;
      }

      async function runCase(cs: PssCase): Promise<Finding | null> {
        log.length = 0;
        const bytes = cs.segments.map((g) => segmentBytes(g, facts)).join('');
        const stream: Stream = chunked(bytes, cs.cuts);
        const requests = specDecode(bytes).frames;
        const c = await connect(service.port);
        let answers: Answer[] = [];
        try {
          for (const piece of pieces(stream)) {
            if (c.got.closed) break;
            c.socket.write(Buffer.from(piece, 'latin1'));
            await new Promise((r) => setImmediate(r)); // separate writes arrive as separate reads
          }
          const answered = () => {
            const { matched } = pair(requests, parseAnswers(c.got.bytes));
            return matched.every((a) => a !== undefined);
          };
          await until(c.changed, () => c.got.closed || answered(), ANSWER_MS);
          // a moment for answers no request asked for
          await new Promise((r) => setTimeout(r, 1));
          answers = parseAnswers(c.got.bytes);
        } finally {
          c.socket.destroy();
        }
        if (c.got.closed) count('connections closed by the service');
        count('drop reports', answers.filter(isDropReport).length);

        // what the service and the session driver log for a throw they did not mean (a
        // relayed PSD refusal "...: internal error" is the PSD's, not theirs)
        const internal = log.filter((l) => /^\S+: [\w-]+: internal error: |^session: device \d+: internal error: |: decoder failed: /.test(l));
        const want = cloneTables(baseline);
        // the service closes a connection only after more than 4,096 bytes that are not frames
        const notFrames = bytes.length - requests.reduce((n, r) => n + HEADER_BYTES + r.payload.length + CRC_BYTES, 0);
        const verdict: Finding | null = internal.length
          ? { kind: 'crash', detail: `the service logged: ${internal.join('\n')}` }
          : c.got.closed && notFrames <= MAX_GARBAGE
            ? { kind: 'unanswered', detail: `the service closed the connection, though only ${notFrames} of the ${bytes.length} bytes were not frames` }
            : judgeAnswers(requests, answers, c.got.closed, want);

        // the database: only what the answered requests allow; then back to the baseline
        const got = tables(dc);
        const diff = tableDiff(want, got);
        if (tableDiff(baseline, got)) {
          count('database restored after a change');
          restore();
        }
        if (verdict) return verdict;
        if (diff) return { kind: 'state', detail: `the database changed in a way no answered request allows: ${diff}` };
        return probe();
      }

      return {
        coverage: () => seen,
        runCase,
        async close() {
          await service.close();
          dc.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      };
    }
  };
}
