// The frame: one request or one response on the serial line (or TCP, same bytes).
//
//   offset size  field
//   0      2     sync 0xA5 0x5A        (resynchronisation point after garbage)
//   2      1     protocol version
//   3      1     message type          (command; response = command | 0x80; 0xFF = error)
//   4      2     sequence number, big-endian (a retransmission repeats it)
//   6      2     payload length, big-endian
//   8      n     payload (ASCII JSON)
//   8+n    4     CRC-32 of bytes 2 .. 8+n-1, big-endian
//
// A whole frame fits Espruino's 1,024-byte serial receive buffer.
import { u16, u32, readU16, readU32 } from './bytes.ts';

export var SYNC = '\xa5\x5a';
export var PROTOCOL_VERSION = 1;
export var HEADER_BYTES = 8;
export var CRC_BYTES = 4;
export var MAX_FRAME_BYTES = 1024;
export var MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - HEADER_BYTES - CRC_BYTES;
export var RESPONSE_FLAG = 0x80;
export var ERROR_TYPE = 0xff;

export interface Frame {
  version: number;
  type: number;
  seq: number;
  payload: string;
  /** CRC of the frame as received: a retransmission carries the same one. */
  crc: number;
}

export type Crc32 = (bytes: string) => number;

/** Frames a payload; throws when it cannot fit one frame. */
export function encodeFrame(type: number, seq: number, payload: string, crc32: Crc32): string {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new Error('payload too long: ' + payload.length);
  var body = String.fromCharCode(PROTOCOL_VERSION, type & 0xff) + u16(seq) + u16(payload.length) + payload;
  return SYNC + body + u32(crc32(body));
}

/** Why bytes were dropped: 'garbage' (no sync), 'crc', 'oversize'. */
export type DropReason = 'garbage' | 'crc' | 'oversize';

/**
 * Incremental decoder. Feed it whatever the line delivers; it calls onFrame for each
 * intact frame and onDrop for what it had to skip, then looks for the next sync.
 * A bad frame costs only its first byte: the search restarts right after it, so a real
 * frame hidden behind a false sync is still found.
 */
export class FrameDecoder {
  buf = '';
  constructor(
    private crc32: Crc32,
    private onFrame: (f: Frame) => void,
    /** seq is the (untrusted) sequence number read from a frame that failed its CRC */
    private onDrop: (why: DropReason, bytes: number, seq?: number) => void = function () {}
  ) {}

  push(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      var buf = this.buf;
      var at = buf.indexOf(SYNC);
      if (at < 0) {
        // keep a trailing 0xA5: it may be the first half of the next sync
        var keep = buf.length && buf.charCodeAt(buf.length - 1) === 0xa5 ? 1 : 0;
        if (buf.length - keep) this.onDrop('garbage', buf.length - keep);
        this.buf = buf.substr(buf.length - keep);
        return;
      }
      if (at > 0) {
        this.onDrop('garbage', at);
        buf = this.buf = buf.substr(at);
      }
      if (buf.length < HEADER_BYTES) return;
      var len = readU16(buf, 6);
      if (len > MAX_PAYLOAD_BYTES) {
        this.onDrop('oversize', 1);
        this.buf = buf.substr(1);
        continue;
      }
      var total = HEADER_BYTES + len + CRC_BYTES;
      if (buf.length < total) return;
      var body = buf.substr(2, HEADER_BYTES - 2 + len);
      var crc = readU32(buf, HEADER_BYTES + len);
      if (this.crc32(body) !== crc) {
        this.onDrop('crc', 1, readU16(buf, 4));
        this.buf = buf.substr(1);
        continue;
      }
      this.buf = buf.substr(total);
      this.onFrame({
        version: buf.charCodeAt(2),
        type: buf.charCodeAt(3),
        seq: readU16(buf, 4),
        payload: buf.substr(HEADER_BYTES, len),
        crc: crc
      });
    }
  }

  /** Bytes waiting for the rest of a frame. */
  pending(): number {
    return this.buf.length;
  }

  /** Drops a half-received frame, e.g. after the line stayed silent too long. */
  reset(): void {
    if (this.buf.length) this.onDrop('garbage', this.buf.length);
    this.buf = '';
  }
}
