// protocol/frame.ts's frames on Node's Buffers, with zlib's CRC-32: FrameReader is its
// FrameDecoder, frameBytes its encodeFrame, the same bytes and the same drops (test/pss-frame-
// reader.test.ts compares them on random input). The byte-string versions are the PSD's (ES5,
// no Buffer, the board's native CRC); on the data center's event loop and in an uploading host
// they were the largest part of moving a block (bench pss profile, a 50-record block's three
// frames: some 70 µs to read them in the PSS, 30 µs to frame them in the host).
import zlib from 'node:zlib';
import { HEADER_BYTES, CRC_BYTES, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, type Frame, type DropReason } from '../protocol/frame.ts';

const SYNC = Buffer.from([0xa5, 0x5a]);
const EMPTY = Buffer.alloc(0);

export class FrameReader {
  private buf: Buffer = EMPTY;

  constructor(
    private onFrame: (f: Frame) => void,
    /** seq is the (untrusted) sequence number read from a frame that failed its CRC */
    private onDrop: (why: DropReason, bytes: number, seq?: number) => void = () => {}
  ) {}

  /** Takes what the socket delivered; calls onFrame for each intact frame, onDrop for what it skips. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      let buf = this.buf;
      const at = buf.indexOf(SYNC);
      if (at < 0) {
        const keep = buf.length && buf[buf.length - 1] === 0xa5 ? 1 : 0;
        if (buf.length - keep) this.onDrop('garbage', buf.length - keep);
        // a copy: the socket's chunk is not ours to keep
        this.buf = keep ? Buffer.from(buf.subarray(buf.length - 1)) : EMPTY;
        return;
      }
      if (at > 0) {
        this.onDrop('garbage', at);
        buf = this.buf = buf.subarray(at);
      }
      if (buf.length < HEADER_BYTES) break;
      const len = buf.readUInt16BE(6);
      if (len > MAX_PAYLOAD_BYTES) {
        this.onDrop('oversize', 1);
        this.buf = buf.subarray(1);
        continue;
      }
      const total = HEADER_BYTES + len + CRC_BYTES;
      if (buf.length < total) break;
      const crc = buf.readUInt32BE(HEADER_BYTES + len);
      if (zlib.crc32(buf.subarray(2, HEADER_BYTES + len)) !== crc) {
        this.onDrop('crc', 1, buf.readUInt16BE(4));
        this.buf = buf.subarray(1);
        continue;
      }
      const frame: Frame = { version: buf[2], type: buf[3], seq: buf.readUInt16BE(4), payload: buf.toString('latin1', HEADER_BYTES, HEADER_BYTES + len), crc };
      this.buf = buf.subarray(total);
      this.onFrame(frame);
    }
    // what waits for the rest of its frame, copied: not a view holding the socket's whole chunk
    this.buf = this.buf.length ? Buffer.from(this.buf) : EMPTY;
  }

  /** Bytes waiting for the rest of a frame. */
  pending(): number {
    return this.buf.length;
  }

  /** Drops a half-received frame, e.g. after the line stayed silent too long. */
  reset(): void {
    if (this.buf.length) this.onDrop('garbage', this.buf.length);
    this.buf = EMPTY;
  }
}

/** protocol/frame.ts encodeFrame as the bytes to write (the same frame), its CRC by zlib. */
export function frameBytes(type: number, seq: number, payload: string): Buffer {
  const len = Buffer.byteLength(payload, 'latin1');
  if (len > MAX_PAYLOAD_BYTES) throw new Error('payload too long: ' + len);
  const out = Buffer.allocUnsafe(HEADER_BYTES + len + CRC_BYTES);
  SYNC.copy(out, 0);
  out[2] = PROTOCOL_VERSION;
  out[3] = type & 0xff;
  out.writeUInt16BE(seq & 0xffff, 4);
  out.writeUInt16BE(len, 6);
  out.write(payload, HEADER_BYTES, 'latin1');
  out.writeUInt32BE(zlib.crc32(out.subarray(2, HEADER_BYTES + len)), HEADER_BYTES + len);
  return out;
}
