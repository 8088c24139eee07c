// Fuzz target `frame`: the frame codec of protocol/frame.ts (FrameDecoder, encodeFrame), the
// code every side runs on untrusted bytes. Its verdicts:
//   crash       push/encode threw where it must not (or did not throw where it must)
//   hang        a push overran the bound, or the decoder holds more than one frame's bytes
//   state       it delivered a frame that is not an intact frame of the input (a corrupted
//               frame accepted), or one at the wrong place
//   unanswered  an intact frame of the input was not delivered, bytes went unaccounted, the
//               result depended on how the reads were split, or it did not recover after reset()
// The reference is `specDecode` below: the documented algorithm (sync, length <= 1012, CRC,
// a bad candidate costs one byte) written as a plain index scan with zlib's CRC.
import fc from 'fast-check';
import { FrameDecoder, encodeFrame, type Crc32, MAX_PAYLOAD_BYTES, MAX_FRAME_BYTES, HEADER_BYTES, CRC_BYTES, PROTOCOL_VERSION, type Frame } from '../../protocol/frame.ts';
import { crc32 as protocolCrc32 } from '../../protocol/crc32.ts';
import type { FuzzTarget, Finding } from './framework.ts';
import { crc, rawFrame, byteString, hostileStream, chunked, pieces, showStream, hex, type Stream } from './wire.ts';

interface SpecFrame {
  at: number;
  version: number;
  type: number;
  seq: number;
  payload: string;
  crc: number;
}

/** What an exact decoder must deliver for these bytes, and what it keeps waiting for. */
export function specDecode(b: string): { frames: SpecFrame[]; pending: number; crcDrops: number; oversizeDrops: number; crcSeqs: number[] } {
  const frames: SpecFrame[] = [];
  /** the (untrusted) seq in the header of each candidate that failed its CRC */
  const crcSeqs: number[] = [];
  let crcDrops = 0;
  let oversizeDrops = 0;
  const n = b.length;
  const byte = (i: number) => b.charCodeAt(i);
  let p = 0;
  while (p < n) {
    if (byte(p) !== 0xa5) {
      p++;
      continue;
    }
    if (p + 1 === n) break; // a lone trailing 0xA5 may be half a sync
    if (byte(p + 1) !== 0x5a) {
      p++;
      continue;
    }
    if (n - p < HEADER_BYTES) break;
    const len = byte(p + 6) * 256 + byte(p + 7);
    if (len > MAX_PAYLOAD_BYTES) {
      oversizeDrops++;
      p++;
      continue;
    }
    const total = HEADER_BYTES + len + CRC_BYTES;
    if (n - p < total) break;
    const c = ((byte(p + total - 4) << 24) | (byte(p + total - 3) << 16) | (byte(p + total - 2) << 8) | byte(p + total - 1)) >>> 0;
    if (crc(b.substr(p + 2, HEADER_BYTES - 2 + len)) !== c) {
      crcDrops++;
      crcSeqs.push(byte(p + 4) * 256 + byte(p + 5));
      p++;
      continue;
    }
    frames.push({ at: p, version: byte(p + 2), type: byte(p + 3), seq: byte(p + 4) * 256 + byte(p + 5), payload: b.substr(p + HEADER_BYTES, len), crc: c });
    p += total;
  }
  return { frames, pending: n - p, crcDrops, oversizeDrops, crcSeqs };
}

interface Decoded {
  frames: Frame[];
  drops: { why: string; bytes: number }[];
  decoder: FrameDecoder;
  maxPending: number;
  slowestPushMs: number;
}

function decode(s: Stream, crc32: Crc32): Decoded {
  const out: Decoded = { frames: [], drops: [], decoder: null as unknown as FrameDecoder, maxPending: 0, slowestPushMs: 0 };
  out.decoder = new FrameDecoder(
    crc32,
    (f) => out.frames.push(f),
    (why, bytes) => out.drops.push({ why, bytes })
  );
  for (const chunk of pieces(s)) {
    const t = performance.now();
    out.decoder.push(chunk);
    out.slowestPushMs = Math.max(out.slowestPushMs, performance.now() - t);
    out.maxPending = Math.max(out.maxPending, out.decoder.pending());
  }
  return out;
}

const sameFrame = (f: Frame, s: SpecFrame) => f.version === s.version && f.type === s.type && f.seq === s.seq && f.payload === s.payload && f.crc === s.crc;
const frameBytes = (f: Frame) => HEADER_BYTES + f.payload.length + CRC_BYTES;
const showFrame = (f: Frame | SpecFrame) => `{v${f.version} type 0x${f.type.toString(16)} seq ${f.seq} crc ${f.crc.toString(16)} payload ${JSON.stringify(f.payload.length > 80 ? f.payload.slice(0, 80) + '...' : f.payload)}}`;

/** A push of at most a few KB must not take this long even on a loaded machine. */
const PUSH_BOUND_MS = 500;

function checkStream(s: Stream, crc32: Crc32): Finding | null {
  let got: Decoded;
  try {
    got = decode(s, crc32);
  } catch (e) {
    return { kind: 'crash', detail: `FrameDecoder.push threw: ${(e as Error)?.stack ?? e}` };
  }
  if (got.slowestPushMs > PUSH_BOUND_MS) return { kind: 'hang', detail: `one push took ${got.slowestPushMs.toFixed(0)} ms` };
  // hostile bytes cannot make it hold more than one frame's worth
  if (got.maxPending >= MAX_FRAME_BYTES) return { kind: 'hang', detail: `decoder holds ${got.maxPending} bytes (a frame is at most ${MAX_FRAME_BYTES})` };

  const want = specDecode(s.bytes);
  for (let i = 0; i < got.frames.length; i++) {
    const f = got.frames[i];
    const w = want.frames[i];
    if (!w || !sameFrame(f, w)) {
      // is it an intact frame of the input at all?
      const genuine = crc(String.fromCharCode(f.version, f.type, f.seq >> 8, f.seq & 255, f.payload.length >> 8, f.payload.length & 255) + f.payload) === f.crc;
      return {
        kind: 'state',
        detail: `delivered frame #${i} ${showFrame(f)} but the spec expects ${w ? showFrame(w) + ' at byte ' + w.at : 'no frame there'}${genuine ? '' : ' (its CRC is not even correct)'}`
      };
    }
  }
  if (got.frames.length < want.frames.length)
    return { kind: 'unanswered', detail: `delivered ${got.frames.length} frames, the spec finds ${want.frames.length}; first missing: ${showFrame(want.frames[got.frames.length])} at byte ${want.frames[got.frames.length].at}` };
  const pending = got.decoder.pending();
  if (pending !== want.pending) return { kind: 'unanswered', detail: `decoder waits on ${pending} bytes, the spec on ${want.pending}` };
  // every byte is a frame's, dropped with a reason, or pending
  const dropped = got.drops.reduce((n, d) => n + d.bytes, 0);
  const inFrames = got.frames.reduce((n, f) => n + frameBytes(f), 0);
  if (dropped + inFrames + pending !== s.bytes.length)
    return { kind: 'unanswered', detail: `bytes unaccounted: ${s.bytes.length} in, ${inFrames} in frames + ${dropped} dropped + ${pending} pending` };
  const crcDrops = got.drops.filter((d) => d.why === 'crc').length;
  const oversizeDrops = got.drops.filter((d) => d.why === 'oversize').length;
  if (crcDrops !== want.crcDrops || oversizeDrops !== want.oversizeDrops)
    return { kind: 'unanswered', detail: `reported ${crcDrops} CRC and ${oversizeDrops} oversize drops; the spec: ${want.crcDrops} and ${want.oversizeDrops}` };

  // the same bytes in one read give the same frames (the decoder does not depend on read sizes)
  const whole = decode({ bytes: s.bytes, chunks: s.bytes.length ? [s.bytes.length] : [] }, crc32);
  if (whole.frames.length !== got.frames.length || whole.frames.some((f, i) => !sameFrame(f, { ...got.frames[i], at: 0 })))
    return { kind: 'unanswered', detail: `one read gives ${whole.frames.length} frames, reads of [${s.chunks}] give ${got.frames.length}` };

  // a silent line (reset) clears whatever it waited for; a good frame then gets through
  got.decoder.reset();
  if (got.decoder.pending() !== 0) return { kind: 'hang', detail: `reset() left ${got.decoder.pending()} bytes` };
  const probe = rawFrame(PROTOCOL_VERSION, 1, 0xbeef, '{}');
  const before = got.frames.length;
  got.decoder.push(probe);
  if (got.frames.length !== before + 1 || got.frames[before].seq !== 0xbeef)
    return { kind: 'unanswered', detail: `after reset() a valid frame was not delivered (${got.frames.length - before} frames)` };
  return null;
}

/** A burst of at most 32 flipped bits after the sync: CRC-32 detects every such burst, so
 * the decoder must not deliver a frame at byte 0 (padding lets every candidate complete). */
function checkBurst(frame: string, mutated: string, crc32: Crc32): Finding | null {
  const bytes = mutated + '\0'.repeat(MAX_FRAME_BYTES);
  const f = checkStream({ bytes, chunks: [bytes.length] }, crc32);
  if (f) return f;
  const first = specDecode(bytes).frames[0];
  if (first && first.at === 0) return { kind: 'state', detail: `a frame with flipped bits was accepted: ${showFrame(first)}\n  original: ${hex(frame)}` };
  return null;
}

function checkRoundTrip(type: number, seq: number, payload: string, cuts: number[], crc32: Crc32): Finding | null {
  let bytes: string;
  try {
    bytes = encodeFrame(type, seq, payload, crc32);
  } catch (e) {
    if (payload.length > MAX_PAYLOAD_BYTES) return null;
    return { kind: 'crash', detail: `encodeFrame threw on a ${payload.length}-byte payload: ${(e as Error).message}` };
  }
  if (payload.length > MAX_PAYLOAD_BYTES) return { kind: 'state', detail: `encodeFrame framed a ${payload.length}-byte payload (max ${MAX_PAYLOAD_BYTES})` };
  // the layout of the README, built independently
  const expected = rawFrame(PROTOCOL_VERSION, type, seq, payload);
  if (bytes !== expected) return { kind: 'state', detail: `encodeFrame gave ${hex(bytes)}, the layout says ${hex(expected)}` };
  const got = decode(chunked(bytes, cuts), crc32);
  if (got.frames.length !== 1) return { kind: 'unanswered', detail: `a valid frame decoded to ${got.frames.length} frames` };
  const f = got.frames[0];
  if (f.version !== PROTOCOL_VERSION || f.type !== (type & 0xff) || f.seq !== seq || f.payload !== payload || got.decoder.pending() !== 0)
    return { kind: 'state', detail: `round trip changed the frame: ${showFrame(f)}` };
  return null;
}

export type FrameCase =
  | { kind: 'stream'; stream: Stream }
  | { kind: 'burst'; frame: string; mutated: string }
  | { kind: 'roundtrip'; type: number; seq: number; payload: string; cuts: number[] };

/** Valid frames of any version/type with ASCII-JSON-like or binary payloads (which may hold
 * frames of their own). */
const payloadArb = fc.oneof(
  { weight: 3, arbitrary: fc.json({ maxDepth: 3 }).filter((j) => j.length <= MAX_PAYLOAD_BYTES) },
  { weight: 2, arbitrary: byteString(64) },
  { weight: 1, arbitrary: byteString(MAX_PAYLOAD_BYTES) }
);
const validFrame = fc
  .record({ version: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.integer({ min: 0, max: 255 })), type: fc.integer({ min: 0, max: 255 }), seq: fc.integer({ min: 0, max: 0xffff }), payload: payloadArb })
  .map((f) => rawFrame(f.version, f.type, f.seq, f.payload));

const burstCase = fc.record({ frame: validFrame, at: fc.nat(), bits: fc.integer({ min: 1, max: 32 }), pattern: fc.nat() }).map(({ frame, at, bits, pattern }) => {
  // flip bits only after the sync, so the frame is still a candidate
  const from = 16 + (at % Math.max(1, (frame.length - 2) * 8 - bits + 1));
  let m = frame;
  for (let i = 0; i < bits; i++) {
    if (i !== 0 && i !== bits - 1 && !((pattern >>> i) & 1)) continue;
    const b = from + i;
    const byteAt = b >> 3;
    m = m.slice(0, byteAt) + String.fromCharCode(m.charCodeAt(byteAt) ^ (1 << (b & 7))) + m.slice(byteAt + 1);
  }
  return { kind: 'burst' as const, frame, mutated: m };
});

export const frameCase: fc.Arbitrary<FrameCase> = fc.oneof(
  { weight: 6, arbitrary: hostileStream(validFrame, 3000).map((stream) => ({ kind: 'stream' as const, stream })) },
  { weight: 2, arbitrary: burstCase },
  {
    weight: 2,
    arbitrary: fc
      .record({
        type: fc.integer({ min: 0, max: 255 }),
        seq: fc.integer({ min: 0, max: 0xffff }),
        payload: fc.oneof({ weight: 4, arbitrary: payloadArb }, { weight: 1, arbitrary: byteString(MAX_PAYLOAD_BYTES + 200) }),
        cuts: fc.array(fc.nat(), { maxLength: 4 })
      })
      .map((r) => ({ kind: 'roundtrip' as const, ...r }))
  }
);

/** The codec with the host's CRC-32 (protocol/crc32.ts); `crc32` replaces it, e.g. to check
 * that the target catches a decoder with a sloppy CRC. */
export function frameTarget(crc32: Crc32 = protocolCrc32): FuzzTarget<FrameCase> {
  return {
    name: 'frame',
    description: 'protocol/frame.ts FrameDecoder and encodeFrame against the documented frame layout',
    arbitrary: frameCase,
    caseBoundMs: 2000,
    show(c) {
      if (c.kind === 'stream') return 'stream ' + showStream(c.stream);
      if (c.kind === 'burst') return `burst: frame ${hex(c.frame)}\n  flipped to ${hex(c.mutated)}`;
      return `roundtrip type 0x${c.type.toString(16)} seq ${c.seq} payload (${c.payload.length} bytes) ${hex(c.payload, 400)} reads cut at [${c.cuts}]`;
    },
    async open() {
      const seen: { [what: string]: number } = {};
      const add = (what: string, n = 1) => (seen[what] = (seen[what] ?? 0) + n);
      return {
        coverage: () => seen,
        async runCase(c: FrameCase) {
          add(c.kind + ' cases');
          if (c.kind === 'stream') {
            const spec = specDecode(c.stream.bytes);
            add('stream frames delivered', spec.frames.length);
            add('stream CRC drops', spec.crcDrops);
            add('stream oversize drops', spec.oversizeDrops);
            if (spec.pending) add('streams ending in a partial frame');
            return checkStream(c.stream, crc32);
          }
          if (c.kind === 'burst') return checkBurst(c.frame, c.mutated, crc32);
          return checkRoundTrip(c.type, c.seq, c.payload, c.cuts, crc32);
        },
        async close() {}
      };
    }
  };
}
