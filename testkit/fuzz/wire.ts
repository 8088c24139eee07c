// Hostile bytes for anything that reads the frame format (protocol/frame.ts): random bytes,
// and valid frames mutated by bit flips, bursts, truncation, duplication, splicing, oversize
// and lying lengths, false syncs, changed version/type with a fresh CRC, garbage around them.
// Byte strings (chars 0..255), as the protocol uses. The CRC here is zlib's, not
// protocol/crc32.ts, so the frames the targets are fed do not depend on the code under test.
import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { SYNC, HEADER_BYTES, CRC_BYTES, MAX_PAYLOAD_BYTES } from '../../protocol/frame.ts';

export function crc(bytes: string): number {
  return zlibCrc32(Buffer.from(bytes, 'latin1')) >>> 0;
}

function u16(n: number): string {
  return String.fromCharCode((n >>> 8) & 0xff, n & 0xff);
}
function u32(n: number): string {
  return u16(n >>> 16) + u16(n & 0xffff);
}

/** A frame with whatever version and length the caller wants, and a correct CRC. */
export function rawFrame(version: number, type: number, seq: number, payload: string, length = payload.length): string {
  const body = String.fromCharCode(version & 0xff, type & 0xff) + u16(seq) + u16(length) + payload;
  return SYNC + body + u32(crc(body));
}

/** The CRC recomputed over a (mutated) frame's own header and payload: intact on the wire
 * though its fields are hostile. Keeps the declared length; the payload is cut or padded. */
export function reseal(frame: string): string {
  if (frame.length < HEADER_BYTES) return frame;
  const len = (frame.charCodeAt(6) << 8) | frame.charCodeAt(7);
  const payload = frame.substr(HEADER_BYTES, len).padEnd(len, ' ');
  return rawFrame(frame.charCodeAt(2), frame.charCodeAt(3), (frame.charCodeAt(4) << 8) | frame.charCodeAt(5), payload, len);
}

export const byteString = (maxLength: number) => fc.uint8Array({ maxLength }).map((u) => Buffer.from(u).toString('latin1'));

/** Bytes that look like the start of a frame: a sync and a header with any length. */
export const falseSync = fc
  .record({ version: fc.integer({ min: 0, max: 255 }), type: fc.integer({ min: 0, max: 255 }), seq: fc.integer({ min: 0, max: 0xffff }), len: fc.integer({ min: 0, max: 0xffff }), tail: byteString(16) })
  .map((h) => SYNC + String.fromCharCode(h.version, h.type) + u16(h.seq) + u16(h.len) + h.tail);

function setByte(s: string, at: number, v: number): string {
  return s.slice(0, at) + String.fromCharCode(v & 0xff) + s.slice(at + 1);
}

function flipBits(s: string, bitFrom: number, bits: number, pattern: number): string {
  let out = s;
  for (let i = 0; i < bits; i++) {
    if (!((pattern >>> i) & 1) && i !== 0 && i !== bits - 1) continue; // a burst starts and ends with a flipped bit
    const b = bitFrom + i;
    const at = Math.floor(b / 8);
    if (at >= out.length) break;
    out = setByte(out, at, out.charCodeAt(at) ^ (1 << (b % 8)));
  }
  return out;
}

/** How a valid frame is spoiled; `intact` says whether the result still carries a correct CRC. */
export type Mutation =
  | { kind: 'none' }
  | { kind: 'burst'; at: number; bits: number; pattern: number }
  | { kind: 'flip-reseal'; at: number; mask: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'duplicate' }
  | { kind: 'oversize'; len: number; reseal: boolean }
  | { kind: 'length'; len: number; reseal: boolean }
  | { kind: 'version'; version: number }
  | { kind: 'type'; type: number }
  | { kind: 'false-sync'; sync: string }
  | { kind: 'garbage'; before: string; after: string };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'none' }),
  // bursts of at most 32 bits: CRC-32 detects every one of them
  fc.record({ kind: fc.constant('burst' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 32 }), pattern: fc.nat() }),
  fc.record({ kind: fc.constant('flip-reseal' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.constant<Mutation>({ kind: 'duplicate' }),
  fc.record({ kind: fc.constant('oversize' as const), len: fc.integer({ min: MAX_PAYLOAD_BYTES + 1, max: 0xffff }), reseal: fc.boolean() }),
  fc.record({ kind: fc.constant('length' as const), len: fc.integer({ min: 0, max: MAX_PAYLOAD_BYTES }), reseal: fc.boolean() }),
  fc.record({ kind: fc.constant('version' as const), version: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('type' as const), type: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('false-sync' as const), sync: falseSync }),
  fc.record({ kind: fc.constant('garbage' as const), before: byteString(64), after: byteString(64) })
);

export function mutate(frame: string, m: Mutation): string {
  switch (m.kind) {
    case 'none':
      return frame;
    case 'burst': {
      const bitsInFrame = frame.length * 8;
      return flipBits(frame, m.at % Math.max(1, bitsInFrame - m.bits + 1), m.bits, m.pattern);
    }
    case 'flip-reseal': {
      // a changed header or payload byte behind a correct CRC (sync bytes left alone)
      const at = 2 + (m.at % Math.max(1, frame.length - 2 - CRC_BYTES));
      return reseal(setByte(frame, at, frame.charCodeAt(at) ^ m.mask));
    }
    case 'truncate':
      return frame.slice(0, m.keep % frame.length);
    case 'duplicate':
      return frame + frame;
    case 'oversize':
    case 'length': {
      const s = frame.slice(0, 6) + u16(m.len) + frame.slice(8);
      return m.reseal ? reseal(s) : s;
    }
    case 'version':
      return reseal(setByte(frame, 2, m.version));
    case 'type':
      return reseal(setByte(frame, 3, m.type));
    case 'false-sync':
      return m.sync + frame;
    case 'garbage':
      return m.before + frame + m.after;
  }
}

/** Splices two byte strings: a prefix of one, then the other (a frame cut by the next). */
export const splice = (a: string, b: string, cut: number) => a.slice(0, cut % (a.length + 1)) + b;

/** A stream as the line delivers it: the bytes and where the reads split them. */
export interface Stream {
  bytes: string;
  /** chunk lengths; their sum is bytes.length */
  chunks: number[];
}

/** Splits bytes into chunks at generated points (the same bytes, any read sizes). */
export function chunked(bytes: string, cuts: number[]): Stream {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const chunks: number[] = [];
  let last = 0;
  for (const p of points) {
    if (p > last) chunks.push(p - last);
    last = Math.max(last, p);
  }
  if (bytes.length > last) chunks.push(bytes.length - last);
  return { bytes, chunks };
}

export function* pieces(s: Stream): Generator<string> {
  let at = 0;
  for (const n of s.chunks) {
    yield s.bytes.substr(at, n);
    at += n;
  }
}

/**
 * Hostile streams built from valid frames (from `frames`): random bytes, and one to four
 * segments each a mutated frame, a splice of two, or garbage, cut into random reads.
 */
export function hostileStream(frames: fc.Arbitrary<string>, maxGarbage = 1100): fc.Arbitrary<Stream> {
  const segment = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(frames, mutation).map(([f, m]) => mutate(f, m)) },
    { weight: 2, arbitrary: fc.tuple(frames, frames, fc.nat()).map(([a, b, cut]) => splice(a, b, cut)) },
    { weight: 1, arbitrary: byteString(64) },
    { weight: 1, arbitrary: falseSync }
  );
  const bytes = fc.oneof({ weight: 1, arbitrary: byteString(maxGarbage) }, { weight: 4, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('')) });
  return fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 6 })).map(([b, cuts]) => chunked(b, cuts));
}

export function hex(s: string, max = 4096): string {
  const h = Buffer.from(s, 'latin1').toString('hex');
  return h.length > max ? h.slice(0, max) + `... (${s.length} bytes)` : h;
}

/** A readable dump of a stream: printable ASCII kept, other bytes as \xNN. */
export function showStream(s: Stream): string {
  const text = s.bytes.replace(/[^\x20-\x7e]|\\/g, (c) => (c === '\\' ? '\\\\' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
  return `${s.bytes.length} bytes in reads of [${s.chunks.join(', ')}]: "${text.length > 6000 ? text.slice(0, 6000) + '...' : text}"\n  hex: ${hex(s.bytes)}`;
}
