// A client of the PSS (protocol/pss-wire.ts), for the host (`psd upload`, sessions) and for
// `pss report --remote`: one TCP connection, the PSD's frames with
// JSON payloads, one answer per request. On silence it retransmits the same frame (same
// sequence number), which the PSS answers from its stored answer without running it twice.
//
//   const pss = await PssClient.connect('127.0.0.1:7707');
//   const r = await pss.upload(blockBytes);        // {device, seq, stored, digest, confirmation}
//   (a secure session between a PSD and the PSS: host-bridge/session-relay.ts runSession)
//   await pss.close();
import net from 'node:net';
import tls from 'node:tls';
import { MAX_PAYLOAD_BYTES } from '../protocol/frame.ts';
import { FrameExchange } from './exchange.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { PssRequest, PssRequestName, DEFAULT_PSS_HOST, DEFAULT_PSS_PORT, UPLOAD_HEX_PER_FRAME, type UploadAnswer, type SessionStep, type AuditAnswer } from '../protocol/pss-wire.ts';
import { credentialFromEnv, type Credential } from './tls.ts';

export type { Credential };
export { credentialFromEnv };

/** An error from the PSS ({code, message} it sent) or on the way to it (NO_PSS, NO_ANSWER, LINE_LOST, NOT_PSS). */
export class PssClientError extends Error {
  constructor(
    public code: string,
    message: string
  ) {
    super(message);
    this.name = 'PssClientError';
  }
  toJSON() {
    return { code: this.code, message: this.message };
  }
}

export interface PssClientOptions {
  /** wait this long for each answer */
  timeoutMs?: number;
  /** retransmissions after the first try; also connection attempts after the first */
  retries?: number;
  connectTimeoutMs?: number;
  /**
   * an operator's or auditor's credential (kit/tls.ts): the connection is TLS with this
   * client certificate, and the PSS's certificate must be of the credential's CA. Without
   * one, plain frames: what a device may do (upload, sessions without funds or rekey).
   */
  credential?: Credential | null;
}

export interface PssAddress {
  host: string;
  port: number;
}

/** "host:port", "tcp://host:port", ":port" or "port"; default 127.0.0.1:7707. */
export function parsePssAddress(text: string | undefined): PssAddress {
  if (!text) return { host: DEFAULT_PSS_HOST, port: DEFAULT_PSS_PORT };
  const m = /^(?:tcp:\/\/)?(?:(\[[^\]]+\]|[^:/]*):)?(\d{1,5})\/?$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535) throw new PssClientError('BAD_ARGUMENT', `"${text}" is not a PSS address (host:port)`);
  return { host: (m[1] || DEFAULT_PSS_HOST).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Frames an uploadMany keeps in flight: a 50-record block is 3 frames. */
export const DEFAULT_UPLOAD_WINDOW = 48;
/** Errors of the way to the PSS, not of a block: the blocks after them are not sent. */
const TRANSPORT_ERRORS = new Set(['NO_PSS', 'NO_ANSWER', 'LINE_LOST', 'NOT_PSS']);

/** TLS errors that mean the PSS's certificate and the credential's CA (or the credential and
 * the PSS's lab CA) do not belong together: a credential of another data center. */
const CA_MISMATCH = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|CERT_SIGNATURE_FAILURE|ERR_SSL_TLSV1_ALERT_UNKNOWN_CA)$/;

/** What became of one block of an uploadMany: the PSS's answer, or the error. */
export type UploadOutcome = { answer: UploadAnswer; error?: undefined } | { error: PssClientError; answer?: undefined };

export interface Hello {
  server: string;
  version: string;
  protocol: number;
  /** hex, 32 bytes: checks device certificates */
  caPublicKey: string;
}

export interface Registration {
  device: number;
  seal: 'hmac' | 'ed25519';
  /** hex: for `psd provision` only, never to be printed or stored on the host */
  deviceKey: string;
  kmsKey: string;
  /** the data center's time, ms since 1970: the PSD's first trusted time (PROVISION now) */
  now: number;
}

export interface FundsReset {
  device: number;
  counter: number;
  amount: number;
  /** hex: goes to the PSD as FUNDS {counter, amount, mac} */
  mac: string;
}

export class PssClient {
  private line: FrameExchange;
  private closed: PssClientError | null = null;
  readonly timeoutMs: number;
  readonly retries: number;

  /** set when the PSS closed the connection (idle): the next request connects again */
  private lost: PssClientError | null = null;
  private socket!: net.Socket;

  private constructor(
    socket: net.Socket,
    private target: PssAddress,
    private opts: PssClientOptions
  ) {
    this.address = `${target.host}:${target.port}`;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retries = opts.retries ?? 2;
    this.line = new FrameExchange({
      // the frames of one turn of the event loop (a pipelined upload's) leave in one write
      write: (frame) => {
        const socket = this.socket;
        if (!socket.writableCorked) {
          socket.cork();
          process.nextTick(() => socket.uncork());
        }
        socket.write(frame);
      },
      noAnswer: (tries, ms) => new PssClientError('NO_ANSWER', `${this.requestName}: no answer from the PSS at ${this.address} (${tries} tries, ${ms} ms each)`),
      notJson: () => new PssClientError('NOT_PSS', 'answer is not JSON'),
      // BAD_FRAME: the PSS got our frame corrupted; send it again now
      errorAnswer: (body) => (body.code === 'BAD_FRAME' ? 'retransmit' : new PssClientError(typeof body.code === 'string' ? body.code : 'ERROR', typeof body.message === 'string' ? body.message : 'error')),
      wrongType: (got, sent) => new PssClientError('NOT_PSS', `answer type 0x${got.toString(16)} to 0x${sent.toString(16)}`)
    });
    this.attach(socket);
  }

  readonly address: string;

  private attach(socket: net.Socket) {
    this.socket = socket;
    this.lost = null;
    this.line.reset();
    socket.on('data', (b) => this.line.push(b.toString('latin1')));
    const lost = (why: string, code = 'LINE_LOST') => {
      if (this.socket !== socket) return;
      this.lost ??= new PssClientError(code, code === 'LINE_LOST' ? `connection to the PSS at ${this.address} ${why}` : why);
      this.line.fail(this.lost);
    };
    socket.on('close', () => lost('closed'));
    // the PSS refused our client certificate (unknown CA, expired) after the handshake
    socket.on('error', (e: NodeJS.ErrnoException) =>
      /^ERR_SSL/.test(e.code ?? '') ? lost(`the PSS at ${this.address} refused the credential ${this.opts.credential?.source ?? ''}: ${e.message}`, 'NOT_AUTHORISED') : lost('failed: ' + e.message)
    );
  }

  /** Connects, retrying a refused connection (a PSS still starting) `retries` times. */
  static async connect(address?: string | PssAddress, opts: PssClientOptions = {}): Promise<PssClient> {
    const a = typeof address === 'object' ? address : parsePssAddress(address);
    const tries = (opts.retries ?? 2) + 1;
    for (let i = 1; ; i++) {
      try {
        return new PssClient(await connectOnce(a, opts.connectTimeoutMs ?? 3000, opts.credential), a, opts);
      } catch (e) {
        if (i >= tries) throw e;
        await new Promise((r) => setTimeout(r, 200 * i));
      }
    }
  }

  /** Sends one request and resolves with the PSS's answer body; rejects with a PssClientError. */
  async request<T = any>(type: number, body: object = {}): Promise<T> {
    if (this.closed) throw this.closed;
    if (this.line.busy) throw new Error('one request at a time');
    await this.reconnectIfLost();
    return this.send<T>(type, body, false);
  }

  /** the PSS closes idle connections; a connection's upload parts and session go with it */
  private async reconnectIfLost(): Promise<void> {
    if (this.lost) this.attach(await connectOnce(this.target, this.opts.connectTimeoutMs ?? 3000, this.opts.credential));
  }

  private send<T>(type: number, body: object | string, pipelined: boolean): Promise<T> {
    const payload = typeof body === 'string' ? body : asciiJson(body);
    if (payload.length > MAX_PAYLOAD_BYTES) return Promise.reject(new PssClientError('OVERSIZE', `${payload.length} bytes of payload do not fit a frame`));
    this.requestName = PssRequestName[type] ?? '0x' + type.toString(16);
    return this.line.request<T>(type, payload, { timeoutMs: this.timeoutMs, retries: this.retries, pipelined });
  }

  /** the request under way, for the no-answer message */
  private requestName = '';

  hello(): Promise<Hello> {
    return this.request(PssRequest.HELLO);
  }

  /** Registers a board (the same serial gets its device and keys back). */
  register(serial: string, board: string, seal?: 'hmac' | 'ed25519'): Promise<Registration> {
    return this.request(PssRequest.REGISTER, seal ? { serial, board, seal } : { serial, board });
  }

  /** Certifies an Ed25519 device's public key (hex); resolves with the certificate (hex). */
  async certify(device: number, publicKey: string): Promise<string> {
    return (await this.request(PssRequest.CERTIFY, { device, publicKey })).certificate;
  }

  /** A funds reset the KMS authenticated, to hand to the PSD (FUNDS {counter, amount, mac}). */
  funds(device: number, amount: number): Promise<FundsReset> {
    return this.request(PssRequest.FUNDS, { device, amount });
  }

  /** Sends the list of the pieces of the next block (server/pieces.ts encoding, byte string) for
   * a device with per-piece data; the next upload or session on this connection takes it. */
  async sendPieces(list: string): Promise<void> {
    const hex = Buffer.from(list, 'latin1').toString('hex');
    for (let at = 0; ; at += UPLOAD_HEX_PER_FRAME) {
      const part = hex.substr(at, UPLOAD_HEX_PER_FRAME);
      if (at + UPLOAD_HEX_PER_FRAME >= hex.length) {
        await this.request(PssRequest.PIECES, { hex: part });
        return;
      }
      await this.request(PssRequest.PIECES, { hex: part, more: true });
    }
  }

  /** Uploads one sealed block (byte string), in as many frames as it needs. */
  async upload(block: string): Promise<UploadAnswer> {
    const hex = Buffer.from(block, 'latin1').toString('hex');
    for (let at = 0; ; at += UPLOAD_HEX_PER_FRAME) {
      const part = hex.substr(at, UPLOAD_HEX_PER_FRAME);
      if (at + UPLOAD_HEX_PER_FRAME >= hex.length) return this.request(PssRequest.UPLOAD, { hex: part });
      await this.request(PssRequest.UPLOAD, { hex: part, more: true });
    }
  }

  /** Hands the PSS one sealed device audit (byte string, protocol/audit.ts): it answers the
   * continuity flags it stored with it. */
  audit(raw: string): Promise<AuditAnswer & { device: number }> {
    return this.request(PssRequest.AUDIT, { hex: Buffer.from(raw, 'latin1').toString('hex') });
  }

  /**
   * Uploads many sealed blocks (byte strings) pipelined: their frames go out back to back, at
   * most `window` waiting for answers at a time, instead of one round trip each; the PSS
   * answers them in order, each block once it is durably stored (uploads on several
   * connections share its group commits). Resolves with one outcome per block, in order:
   * its answer, or the PSS's refusal (or the transport's error) as a PssClientError. Once the
   * connection is lost or the PSS stops answering, the blocks not yet answered get that error.
   */
  async uploadMany(blocks: string[], window = DEFAULT_UPLOAD_WINDOW): Promise<UploadOutcome[]> {
    if (this.closed) throw this.closed;
    if (this.line.busy) throw new Error('one request at a time');
    await this.reconnectIfLost();
    const outcomes: Promise<UploadOutcome>[] = [];
    // the frames sent and not yet answered, oldest first (the PSS answers in order)
    const inFlight: Promise<unknown>[] = [];
    // set by the first error of the way (not of a block): nothing more is sent
    const line: { broken: PssClientError | null } = { broken: null };
    const transport = (e: unknown) => {
      const err = e instanceof PssClientError ? e : new PssClientError('LINE_LOST', String((e as Error)?.message ?? e));
      if (TRANSPORT_ERRORS.has(err.code)) line.broken ??= err;
      return err;
    };
    for (const block of blocks) {
      const hex = Buffer.from(block, 'latin1').toString('hex');
      const parts: Promise<UploadAnswer>[] = [];
      let sentAll = false;
      for (let at = 0; !line.broken; at += UPLOAD_HEX_PER_FRAME) {
        while (inFlight.length >= window) await inFlight.shift();
        if (line.broken) break;
        const last = at + UPLOAD_HEX_PER_FRAME >= hex.length;
        const part = hex.substr(at, UPLOAD_HEX_PER_FRAME);
        // the JSON text of {hex, more} written out (hex needs no escaping): no stringify and
        // no scan for characters to escape over a kilobyte per frame
        const answer = this.send<UploadAnswer>(PssRequest.UPLOAD, last ? `{"hex":"${part}"}` : `{"hex":"${part}","more":true}`, true);
        const settled = answer.catch(transport);
        parts.push(answer);
        inFlight.push(settled);
        sentAll = last;
        if (last) break;
      }
      const unsent = line.broken;
      outcomes.push(
        !sentAll && unsent
          ? Promise.all(parts).then(
              () => ({ error: unsent }),
              (e) => ({ error: transport(e) })
            )
          : Promise.all(parts).then(
              (answers) => ({ answer: answers[answers.length - 1] }),
              (e) => ({ error: transport(e) })
            )
      );
    }
    return Promise.all(outcomes);
  }

  sessionBegin(device: number, opts: { funds?: number; config?: Record<string, unknown>; rekey?: boolean; withdraw?: boolean } = {}): Promise<SessionStep> {
    return this.request(PssRequest.SESSION_BEGIN, { device, ...opts });
  }

  /** Relays the PSD's answer body (sent as it is, so it fits a frame like the PSD's did), or its error. */
  sessionNext(input: { answer: object } | { error: { code: number; message: string } }): Promise<SessionStep> {
    return this.request(PssRequest.SESSION_NEXT, 'error' in input ? { error: input.error } : input.answer);
  }

  sessionEnd(): Promise<{ ended: boolean }> {
    return this.request(PssRequest.SESSION_END);
  }

  /** A report (server/report.ts) as an auditor or operator asks for it: every page of rows. */
  async report(q: { by: string; from?: number; to?: number; customers?: number[]; devices?: number[]; sort?: string }): Promise<any> {
    let page = await this.request(PssRequest.REPORT, q);
    const report = { by: page.by, from: page.from, to: page.to, rows: [...page.rows], totals: page.totals };
    while (page.next !== undefined) {
      page = await this.request(PssRequest.REPORT, { ...q, offset: page.next });
      report.rows.push(...page.rows);
    }
    return report;
  }

  /**
   * A period's signed export as an auditor or operator asks for it (server/export.ts): its
   * summary and every file's bytes, a frame's page at a time. `progress` sees bytes received
   * of bytes in all. Writes nothing: the caller writes and verifies the files.
   */
  async exportPeriod(q: { period: string; pssId?: string }, progress?: (received: number, total: number) => void): Promise<{ summary: any; files: { name: string; bytes: Buffer }[] }> {
    const summary = await this.request(PssRequest.EXPORT, q);
    const list = summary.files as { name: string; bytes: number }[];
    const total = list.reduce((n, f) => n + f.bytes, 0);
    let received = 0;
    const files: { name: string; bytes: Buffer }[] = [];
    for (let i = 0; i < list.length; i++) {
      const parts: Buffer[] = [];
      let offset: number | undefined = 0;
      while (offset !== undefined) {
        const page: { data: string; next?: number } = await this.request(PssRequest.EXPORT, { ...q, file: i, offset });
        const part = Buffer.from(page.data, 'base64');
        parts.push(part);
        received += part.length;
        progress?.(received, total);
        offset = page.next;
      }
      const bytes = Buffer.concat(parts);
      if (bytes.length !== list[i].bytes) throw new PssClientError('BAD_ANSWER', `export file ${list[i].name}: ${bytes.length} bytes received, ${list[i].bytes} announced`);
      files.push({ name: list[i].name, bytes });
    }
    return { summary, files };
  }

  status(device?: number): Promise<any> {
    return this.request(PssRequest.STATUS, device === undefined ? {} : { device });
  }

  close(): Promise<void> {
    this.closed ??= new PssClientError('LINE_LOST', 'client closed');
    return new Promise((r) => {
      if (this.socket.destroyed) return r();
      this.socket.end(() => r());
      setTimeout(() => (this.socket.destroy(), r()), 200).unref();
    });
  }
}

function connectOnce(a: PssAddress, timeoutMs: number, credential?: Credential | null): Promise<net.Socket> {
  const where = `${a.host}:${a.port}`;
  return new Promise((resolve, reject) => {
    const socket = credential
      ? tls.connect({ host: a.host, port: a.port, key: credential.key, cert: credential.cert, ca: credential.ca, servername: net.isIP(a.host) ? undefined : a.host })
      : net.connect({ host: a.host, port: a.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PssClientError('NO_PSS', `no PSS at ${where} (connection timed out after ${timeoutMs} ms)`));
    }, timeoutMs);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (credential && CA_MISMATCH.test(e.code ?? ''))
        reject(new PssClientError('NOT_AUTHORISED', `the PSS at ${where} and the credential of ${credential.source} are not of one lab CA (${e.code}): a credential of another data center? Use one that pss credential issue made on the data folder this PSS serves`));
      else if (credential && e.code !== 'ECONNREFUSED' && e.code !== 'ENOTFOUND' && e.code !== 'EHOSTUNREACH')
        reject(new PssClientError('NOT_AUTHORISED', `TLS with the PSS at ${where} failed with the credential of ${credential.source}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ')));
      else reject(new PssClientError('NO_PSS', `no PSS at ${where} (${e.code ?? e.message})`));
    });
    socket.once(credential ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
