// Request/response over a Link: one frame out, exactly one matching frame back.
// On silence it retransmits the same frame (same sequence number), which the device
// answers from its stored response without executing the command again (the loop is
// kit/exchange.ts, shared with the PSS client).
import { RESPONSE_FLAG, ERROR_TYPE, MAX_PAYLOAD_BYTES } from '../protocol/frame.ts';
import { FrameExchange } from '../kit/exchange.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { CommandName } from '../protocol/commands.ts';
import type { AnswerOf, RequestOf } from '../protocol/bodies.ts';
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

export class PsdClient {
  private line: FrameExchange;
  private heardBytes = 0;
  private heardFrames = 0;
  private closed: Error | null = null;
  readonly timeoutMs: number;
  readonly retries: number;
  stats = { requests: 0, retransmits: 0, bytesOut: 0, bytesIn: 0 };
  /** the request under way: its name and frame, for taps and the no-answer message */
  private sending = { type: 0, name: '', payload: '' };

  constructor(private link: Link, opts: ClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.retries = opts.retries ?? 2;
    this.line = new FrameExchange({
      write: (frame, retransmit, seq) => {
        if (retransmit) this.stats.retransmits++;
        this.stats.bytesOut += frame.length;
        const s = this.sending;
        if (frameTaps.size) tap({ dir: 'out', t: Date.now(), port: this.link.description, type: s.type, name: s.name, seq, payload: s.payload, ...(retransmit ? { retransmit: true } : {}) });
        this.link.write(frame);
      },
      heard: (f) => {
        this.heardFrames++;
        if (frameTaps.size) tap({ dir: 'in', t: Date.now(), port: this.link.description, type: f.type, name: f.type === ERROR_TYPE ? 'ERROR' : (CommandName[f.type & ~RESPONSE_FLAG] ?? '0x' + f.type.toString(16)) + ' answer', seq: f.seq, payload: f.payload });
      },
      noAnswer: (tries, ms) => {
        const why = this.heardBytes && !this.heardFrames ? ErrorCode.WRONG_DEVICE : ErrorCode.NO_ANSWER;
        return new PsdError(why, `${this.sending.name}: ${tries} tries, ${ms} ms each, on ${this.link.description}`);
      },
      notJson: () => new PsdError(ErrorCode.WRONG_DEVICE, 'answer is not JSON'),
      // CRC: the device got our frame corrupted; send it again now
      errorAnswer: (body) => (body.code === ErrorCode.CRC ? 'retransmit' : deviceError(body)),
      wrongType: (got, sent) => new PsdError(ErrorCode.WRONG_DEVICE, `answer type 0x${got.toString(16)} to 0x${sent.toString(16)}`)
    });
    link.onData((b) => {
      this.heardBytes += b.length;
      this.stats.bytesIn += b.length;
      this.line.push(b.toString('latin1'));
    });
    link.onClose((err) => {
      this.closed = new PsdError(ErrorCode.LINE_LOST, err?.message);
      this.line.fail(this.closed);
    });
  }

  /** Sends one command and resolves with the device's answer body (the request and answer
   * bodies of each command: protocol/bodies.ts). */
  async request<T extends number>(type: T, body: RequestOf<T> = {} as RequestOf<T>, opts: ClientOptions = {}): Promise<AnswerOf<T>> {
    if (this.closed) throw this.closed;
    if (this.line.busy) throw new Error('one request at a time');
    const payload = asciiJson(body);
    if (payload.length > MAX_PAYLOAD_BYTES) throw new PsdError(ErrorCode.OVERSIZE, `${payload.length} bytes of payload`);
    this.stats.requests++;
    this.sending = { type, name: CommandName[type] ?? '0x' + type.toString(16), payload };
    return this.line.request<AnswerOf<T>>(type, payload, { timeoutMs: opts.timeoutMs ?? this.timeoutMs, retries: opts.retries ?? this.retries });
  }

  close() {
    return this.link.close();
  }
}
