// The Buffer frame reader and writer (kit/frames.ts) against the protocol's byte-string
// FrameDecoder (protocol/frame.ts), which the PSD and the host use: on any bytes, cut into
// any chunks, the same frames and the same drops in the same order; frameBytes is encodeFrame.
import { expect } from 'chai';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder, MAX_PAYLOAD_BYTES, type Frame } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { FrameReader, frameBytes } from '../kit/frames.ts';

type Event = ['frame', Frame] | ['drop', string, number, number | undefined];

function viaDecoder(chunks: Buffer[]): { events: Event[]; pending: number } {
  const events: Event[] = [];
  const d = new FrameDecoder(
    crc32,
    (f) => events.push(['frame', f]),
    (why, bytes, seq) => events.push(['drop', why, bytes, seq])
  );
  for (const c of chunks) d.push(c.toString('latin1'));
  return { events, pending: d.pending() };
}

function viaReader(chunks: Buffer[]): { events: Event[]; pending: number } {
  const events: Event[] = [];
  const r = new FrameReader(
    (f) => events.push(['frame', f]),
    (why, bytes, seq) => events.push(['drop', why, bytes, seq])
  );
  for (const c of chunks) r.push(c);
  return { events, pending: r.pending() };
}

/** frames, some corrupted, with garbage, false syncs and oversize claims between them */
const piece = fc.oneof(
  fc.record({ type: fc.integer({ min: 0, max: 255 }), seq: fc.integer({ min: 0, max: 0xffff }), payload: fc.string({ maxLength: 300 }) }).map(({ type, seq, payload }) => Buffer.from(encodeFrame(type, seq, payload, crc32), 'latin1')),
  fc
    .tuple(fc.string({ maxLength: 100 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
    .map(([payload, at, x]) => {
      const b = Buffer.from(encodeFrame(1, 7, payload, crc32), 'latin1');
      b[at % b.length] ^= x || 1;
      return b;
    }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.from([0xa5])),
  fc.constant(Buffer.from([0xa5, 0x5a, 1, 1, 0, 9, 0xff, 0xff]))
);

describe('PSS frame reader (Buffer) = protocol FrameDecoder (byte strings)', () => {
  it('the same frames, drops and pending bytes on random input in random chunks', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 20 }), (pieces, cuts) => {
        const all = Buffer.concat(pieces);
        const chunks: Buffer[] = [];
        for (let at = 0, i = 0; at < all.length; i++) {
          const n = cuts[i % cuts.length];
          chunks.push(all.subarray(at, at + n));
          at += n;
        }
        expect(viaReader(chunks)).to.deep.equal(viaDecoder(chunks));
      }),
      { numRuns: 400 }
    );
  });

  it('a reset drops what waits, as the decoder does', () => {
    const frame = Buffer.from(encodeFrame(3, 9, '{"a":1}', crc32), 'latin1');
    const drops: number[] = [];
    const r = new FrameReader(
      () => {},
      (_why, bytes) => drops.push(bytes)
    );
    r.push(frame.subarray(0, 5));
    expect(r.pending()).to.equal(5);
    r.reset();
    expect(r.pending()).to.equal(0);
    expect(drops).to.deep.equal([5]);
  });

  it('frameBytes is encodeFrame, and refuses a payload that does not fit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.string({ maxLength: MAX_PAYLOAD_BYTES }), (type, seq, payload) => {
        expect(frameBytes(type, seq, payload).equals(Buffer.from(encodeFrame(type, seq, payload, crc32), 'latin1'))).to.equal(true);
      }),
      { numRuns: 300 }
    );
    expect(() => frameBytes(1, 1, 'x'.repeat(MAX_PAYLOAD_BYTES + 1))).to.throw(/too long/);
  });
});
