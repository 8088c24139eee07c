// Request/response over a Link: one frame out, exactly one matching frame back.
// On silence it retransmits the same frame (same sequence number), which the device
// answers from its stored response without executing the command again.
import crypto from 'node:crypto';
import { FrameDecoder, Frame, encodeFrame, RESPONSE_FLAG, ERROR_TYPE, MAX_PAYLOAD_BYTES } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { CommandName } from '../protocol/commands.ts';
import { PsdError, deviceError } from './errors.ts';
import type { Link } from './link.ts';

export interface ClientOptions {
  /** how long to wait for each answer */
  timeoutMs?: number;
  /** retransmissions after the first try */
  retries?: number;
}

/** One frame on a line, as a frame tap sees it (the HIL report carries the frames around a
 * failing case). */
export interface FrameEvent {
  /** 'out' to the device, 'in' from it */
  dir: 'out' | 'in';
  /** ms since the epoch */
  t: number;
  port: string;
  type: number;
  name: string;
  seq: number;
  payload: string;
  /** a retransmission of the frame before */
  retransmit?: boolean;
}

/** Listeners to every frame every PsdClient in this process sends and receives. Kept on
 * globalThis: a test runner may load this module twice (require and import), and a tap must
 * hear the clients of both. */
const TAPS = Symbol.for('psd-lab.frameTaps');
export const frameTaps: Set<(e: FrameEvent) => void> = ((globalThis as Record<symbol, unknown>)[TAPS] ??= new Set()) as Set<(e: FrameEvent) => void>;

function tap(e: FrameEvent) {
  for (const f of frameTaps) {
    try {
      f(e);
    } catch {
      /* a tap never breaks the line */
    }
  }
}

interface Pending {
  seq: number;
  type: number;
  resolve: (v: any) => void;
  reject: (e: Error) => void;
}

export class PsdClient {
  private seq = crypto.randomInt(1, 0xffff);
  private decoder: FrameDecoder;
  private pending: Pending | null = null;
  private retransmitNow: (() => void) | null = null;
  private heardBytes = 0;
  private heardFrames = 0;
  private closed: Error | null = null;
  readonly timeoutMs: number;
  readonly retries: number;
  stats = { requests: 0, retransmits: 0, bytesOut: 0, bytesIn: 0 };

  constructor(private link: Link, opts: ClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.retries = opts.retries ?? 2;
    this.decoder = new FrameDecoder(crc32, (f) => this.onFrame(f));
    link.onData((b) => {
      this.heardBytes += b.length;
      this.stats.bytesIn += b.length;
      this.decoder.push(b.toString('latin1'));
    });
    link.onClose((err) => {
      this.closed = new PsdError(ErrorCode.LINE_LOST, err?.message);
      if (this.pending) this.pending.reject(this.closed);
    });
  }

  private onFrame(f: Frame) {
    this.heardFrames++;
    if (frameTaps.size) tap({ dir: 'in', t: Date.now(), port: this.link.description, type: f.type, name: f.type === ERROR_TYPE ? 'ERROR' : (CommandName[f.type & ~RESPONSE_FLAG] ?? '0x' + f.type.toString(16)) + ' answer', seq: f.seq, payload: f.payload });
    const p = this.pending;
    if (!p || f.seq !== p.seq) return; // a late answer to an earlier try: already handled
    let body: any;
    try {
      body = f.payload ? JSON.parse(f.payload) : {};
    } catch {
      return p.reject(new PsdError(ErrorCode.WRONG_DEVICE, 'answer is not JSON'));
    }
    if (f.type === ERROR_TYPE) {
      if (body.code === ErrorCode.CRC && this.retransmitNow) return this.retransmitNow();
      return p.reject(deviceError(body));
    }
    if (f.type !== (p.type | RESPONSE_FLAG)) return p.reject(new PsdError(ErrorCode.WRONG_DEVICE, `answer type 0x${f.type.toString(16)} to 0x${p.type.toString(16)}`));
    p.resolve(body);
  }

  /** Sends one command and resolves with the device's answer body. */
  async request<T = any>(type: number, body: object = {}, opts: ClientOptions = {}): Promise<T> {
    if (this.closed) throw this.closed;
    if (this.pending) throw new Error('one request at a time');
    const payload = asciiJson(body);
    if (payload.length > MAX_PAYLOAD_BYTES) throw new PsdError(ErrorCode.OVERSIZE, `${payload.length} bytes of payload`);
    this.seq = (this.seq % 0xffff) + 1;
    const seq = this.seq;
    const frame = Buffer.from(encodeFrame(type, seq, payload, crc32), 'latin1');
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const retries = opts.retries ?? this.retries;
    this.stats.requests++;
    const name = CommandName[type] ?? '0x' + type.toString(16);
    try {
      return await new Promise<T>((resolve, reject) => {
        let tries = 0;
        let timer: NodeJS.Timeout;
        const send = () => {
          tries++;
          if (tries > 1) this.stats.retransmits++;
          this.stats.bytesOut += frame.length;
          if (frameTaps.size) tap({ dir: 'out', t: Date.now(), port: this.link.description, type, name, seq, payload, ...(tries > 1 ? { retransmit: true } : {}) });
          this.link.write(frame);
          clearTimeout(timer);
          timer = setTimeout(onTimeout, timeoutMs);
        };
        const onTimeout = () => {
          if (tries <= retries) return send();
          const why = this.heardBytes && !this.heardFrames ? ErrorCode.WRONG_DEVICE : ErrorCode.NO_ANSWER;
          reject(new PsdError(why, `${name}: ${tries} tries, ${timeoutMs} ms each, on ${this.link.description}`));
        };
        this.retransmitNow = () => (tries <= retries ? send() : onTimeout());
        this.pending = {
          seq,
          type,
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          }
        };
        send();
      });
    } finally {
      this.pending = null;
      this.retransmitNow = null;
    }
  }

  close() {
    return this.link.close();
  }
}
