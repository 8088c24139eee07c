// Requests over a framed line, shared by the host's PSD client (host-bridge/client.ts, a
// serial port: one request at a time) and the PSS client (kit/pss-client.ts, TCP: uploads
// pipelined, many frames in flight, each matched to its answer by sequence number): a frame
// out with the next sequence number, exactly one matching frame back. On silence it sends the
// same frame again (same sequence number, which the other end answers from its stored answer
// without executing the request twice), and at once when the other end reports the frame
// arrived corrupted. What an error looks like is each client's own (hooks).
import crypto from 'node:crypto';
import { FrameDecoder, RESPONSE_FLAG, ERROR_TYPE, type Frame } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { frameBytes } from './frames.ts';

export interface ExchangeHooks {
  /** puts the bytes of one frame on the line (`retransmit`: a repeat of the frame before) */
  write(frame: Buffer, retransmit: boolean, seq: number): void;
  /** every frame that arrives, matching or not (taps, counters) */
  heard?(f: Frame): void;
  /** the error when every try went unanswered */
  noAnswer(tries: number, timeoutMs: number): Error;
  /** the error when the answer's payload is not JSON */
  notJson(): Error;
  /** an error answer: the error to reject with, or 'retransmit' (the frame arrived corrupted) */
  errorAnswer(body: any): Error | 'retransmit';
  /** the error when the answer is of another type than the request's */
  wrongType(got: number, sent: number): Error;
}

export interface ExchangeTries {
  /** how long to wait for each answer */
  timeoutMs: number;
  /** retransmissions after the first try */
  retries: number;
}

interface Pending {
  seq: number;
  type: number;
  resolve: (v: any) => void;
  reject: (e: Error) => void;
  /** the other end got our frame corrupted: send it again now (if tries remain) */
  retransmit: () => void;
}

export class FrameExchange {
  private seq = crypto.randomInt(1, 0xffff);
  private decoder: FrameDecoder;
  /** requests waiting for their answers, by sequence number */
  private pending = new Map<number, Pending>();

  constructor(private hooks: ExchangeHooks) {
    this.decoder = new FrameDecoder(crc32, (f) => this.onFrame(f));
  }

  /** Bytes from the line (a byte string). */
  push(bytes: string): void {
    this.decoder.push(bytes);
  }

  /** A fresh line (a new connection): no half frame carried over. */
  reset(): void {
    this.decoder.reset();
  }

  /** true while a request waits for its answer */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** requests sent and not yet answered */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The line is gone: every waiting request fails with `e`. */
  fail(e: Error): void {
    for (const p of [...this.pending.values()]) p.reject(e);
  }

  private onFrame(f: Frame) {
    this.hooks.heard?.(f);
    const p = this.pending.get(f.seq);
    if (!p) return; // a late answer to an earlier try: already handled
    let body: any;
    try {
      body = f.payload ? JSON.parse(f.payload) : {};
    } catch {
      return p.reject(this.hooks.notJson());
    }
    if (f.type === ERROR_TYPE) {
      const e = this.hooks.errorAnswer(body);
      return e === 'retransmit' ? p.retransmit() : p.reject(e);
    }
    if (f.type !== (p.type | RESPONSE_FLAG)) return p.reject(this.hooks.wrongType(f.type, p.type));
    p.resolve(body);
  }

  /**
   * Sends one request (its payload already encoded) and resolves with the answer body.
   * `pipelined`: sent while others still wait for their answers (the PSS over TCP answers
   * frames in order and keeps its recent answers for retransmissions); else one at a time.
   */
  async request<T = any>(type: number, payload: string, tries: ExchangeTries & { pipelined?: boolean }): Promise<T> {
    if (this.pending.size && !tries.pipelined) throw new Error('one request at a time');
    do this.seq = (this.seq % 0xffff) + 1;
    while (this.pending.has(this.seq));
    const seq = this.seq;
    const frame = frameBytes(type, seq, payload);
    try {
      return await new Promise<T>((resolve, reject) => {
        let sent = 0;
        let timer: NodeJS.Timeout;
        const giveUp = () => {
          clearTimeout(timer);
          reject(this.hooks.noAnswer(sent, tries.timeoutMs));
        };
        const send = () => {
          sent++;
          clearTimeout(timer);
          this.hooks.write(frame, sent > 1, seq);
          timer = setTimeout(() => (sent <= tries.retries ? send() : giveUp()), tries.timeoutMs);
        };
        this.pending.set(seq, {
          seq,
          type,
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
          retransmit: () => (sent <= tries.retries ? send() : giveUp())
        });
        send();
      });
    } finally {
      this.pending.delete(seq);
    }
  }
}
