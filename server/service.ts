// The PSS's TCP service: frames in (protocol/frame.ts), one answer per request. Whatever
// arrives (garbage, truncated or oversized frames, bad JSON) gets an error frame or the
// connection is closed, and never changes state: only a whole, intact request reaches the
// API. A retransmitted frame (same sequence number and CRC) gets the stored answer again.
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { PROTOCOL_VERSION, RESPONSE_FLAG, ERROR_TYPE, MAX_PAYLOAD_BYTES, type Frame, type DropReason } from '../protocol/frame.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { PssError, type PssErrorCodeName } from '../protocol/pss-errors.ts';
import { Connection, type ApiEvents, type Who } from './api.ts';
import { FrameReader, frameBytes } from '../kit/frames.ts';
import { ensureTls, type TlsFiles } from '../kit/tls.ts';
import { roleOf } from './credentials.ts';
import { PssRequest, PssRequestName, DEFAULT_PSS_HOST, DEFAULT_PSS_PORT } from '../protocol/pss-wire.ts';
import type { DataCenter } from './datacenter.ts';

export interface ServiceOptions extends ApiEvents {
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** a connection silent this long is closed */
  idleMs?: number;
  /** bytes that are not frames, since the last good frame, before the connection is closed */
  maxGarbageBytes?: number;
  /** a frame still incomplete after this much silence is dropped (as the PSD does on its line) */
  frameGapMs?: number;
  maxConnections?: number;
  /** the lab CA and the service's key and certificate (default: <data>/tls, made if absent) */
  tls?: TlsFiles;
}

export interface Service {
  host: string;
  port: number;
  connections(): number;
  close(): Promise<void>;
}

export const DEFAULT_IDLE_MS = 60000;
export const DEFAULT_FRAME_GAP_MS = 1000;
const DEFAULT_MAX_GARBAGE = 4096;
/** Answers kept per connection for retransmissions: more than a client keeps in flight (DEFAULT_UPLOAD_WINDOW). */
const RECENT_ANSWERS = 256;
const noop = () => {};

export async function startService(dc: DataCenter, opts: ServiceOptions = {}): Promise<Service> {
  await dc.pss.ingestStarted();
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  const maxGarbage = opts.maxGarbageBytes ?? DEFAULT_MAX_GARBAGE;
  const frameGapMs = opts.frameGapMs ?? DEFAULT_FRAME_GAP_MS;
  const sockets = new Set<net.Socket>();
  const tlsFiles = opts.tls ?? ensureTls(dc.dir);
  const secureContext = tls.createSecureContext({ key: tlsFiles.key, cert: tlsFiles.cert, ca: tlsFiles.ca, minVersion: 'TLSv1.2' });
  // A TLSSocket made by hand (not by a tls.Server) sets neither `authorized` nor refuses a
  // chain that does not verify (Node runs that check for tls.Server connections only): the
  // client certificate is checked here against the lab CA, signature and dates.
  const labCa = new crypto.X509Certificate(tlsFiles.ca);
  const labCaRefusal = (peer: crypto.X509Certificate | undefined): string => {
    if (!peer) return 'no certificate';
    if (!peer.checkIssued(labCa) || !peer.verify(labCa.publicKey)) return 'not issued by the lab CA';
    const now = Date.now();
    if (now < Date.parse(peer.validFrom) || now > Date.parse(peer.validTo)) return `outside its validity (${peer.validFrom} .. ${peer.validTo})`;
    return '';
  };
  const server = net.createServer((socket) => accept(socket));
  server.maxConnections = opts.maxConnections ?? 64;

  // One port for both: a device's frames start with the sync byte 0xA5, a TLS client's first
  // record with 0x16 (handshake). Plain connections are devices (no secret); TLS ones carry
  // an operator's or auditor's client certificate of the lab CA.
  function accept(raw: net.Socket) {
    sockets.add(raw);
    raw.setNoDelay(true);
    raw.on('error', () => raw.destroy()); // a reset by the peer is not our problem
    raw.on('close', () => sockets.delete(raw));
    raw.setTimeout(idleMs, () => {
      opts.log?.(`${raw.remoteAddress}:${raw.remotePort}: idle ${idleMs} ms, closed`);
      raw.destroy();
    });
    raw.once('data', (first: Buffer) => {
      if (first[0] !== 0x16) {
        // a plain connection has no name: the log says where it came from ("device 127.0.0.1:5123")
        const from = `${raw.remoteAddress}:${raw.remotePort} (no credential)`;
        serve(raw, raw, () => ({ role: 'device', name: from }));
        raw.emit('data', first);
        return;
      }
      // TLS over a stream of our own that starts with the bytes already read
      const inner = new Duplex({
        read() {},
        write(chunk, _enc, cb) {
          if (raw.destroyed) return cb();
          raw.write(chunk, cb);
        },
        final(cb) {
          raw.end();
          cb();
        }
      });
      inner.push(first);
      raw.on('data', (d) => inner.push(d));
      raw.on('end', () => inner.push(null));
      raw.on('close', () => inner.destroy());
      const peerName = `${raw.remoteAddress}:${raw.remotePort}`;
      const t = new tls.TLSSocket(inner as unknown as net.Socket, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: true });
      t.on('error', (e) => {
        opts.log?.(`${raw.remoteAddress}:${raw.remotePort}: TLS refused: ${e.message}`);
        raw.destroy();
      });
      t.once('secure', () => {
        const cert = t.getPeerCertificate();
        const serial = cert?.serialNumber ?? '';
        // Only a chain to this lab's CA counts (a self-made certificate with an operator's
        // serial would otherwise pass); without a certificate the connection is a device's
        // (it needs no secret: its sealed blocks authenticate themselves).
        if (!serial) return serve(t, raw, (): Who => ({ role: 'device', name: peerName }));
        const why = labCaRefusal(t.getPeerX509Certificate());
        if (why) {
          opts.log?.(`${peerName}: certificate ${cert?.subject?.CN ?? '?'} (serial ${serial}) refused: ${why}`);
          return serve(t, raw, (): Who => ({ role: 'untrusted', name: `${cert?.subject?.CN ?? '?'} (serial ${serial}: ${why})` }));
        }
        // looked up at every request: a revoked credential is refused from its next request on
        serve(t, raw, (): Who => {
          const r = roleOf(dc.store, serial);
          return r ?? { role: 'revoked', name: `${cert?.subject?.CN ?? '?'} (serial ${serial})` };
        });
      });
    });
  }

  function serve(socket: net.Socket, raw: net.Socket, who: () => Who) {
    const peer = `${raw.remoteAddress}:${raw.remotePort}`;
    const api = new Connection(dc, { ...opts, who });
    let last: { seq: number; crc: number; bytes: Buffer } | null = null;
    let garbage = 0;
    let dropped: { why: DropReason; seq?: number } | null = null;
    let gapTimer: NodeJS.Timeout | null = null;
    raw.on('close', () => {
      if (gapTimer) clearTimeout(gapTimer);
    });

    // the answers that settle together (a group commit's) leave in one write, not one each
    let corked = false;
    const send = (bytes: Buffer) => {
      if (socket.destroyed) return;
      if (!corked) {
        corked = true;
        socket.cork();
        setImmediate(() => {
          corked = false;
          socket.uncork();
        });
      }
      socket.write(bytes);
    };
    const errorFrame = (seq: number, code: PssErrorCodeName, message: string) => frameBytes(ERROR_TYPE, seq, asciiJson({ code, message }));

    const decoder = new FrameReader(
      (f) => onFrame(f),
      (why, bytes, seq) => {
        garbage += bytes;
        dropped ??= { why, seq };
      }
    );

    // Requests are answered in order. Uploads are pipelined: a client may send many frames
    // without waiting (kit/pss-client.ts uploadMany); each upload frame runs as soon as the
    // frames before it have run (its block joins the next group commit) and is answered once
    // the answers before it have gone and its block is durably stored. Any other request runs
    // only after every earlier answer has gone (what it reads or changes follows them). The
    // answers of the last RECENT_ANSWERS frames are kept: a retransmitted frame (same sequence
    // number and CRC) gets the answer of the frame it repeats, in its turn, never a second
    // run, also while that answer still waits for its group commit.
    const recent = new Map<number, { crc: number; answer: Promise<Buffer> }>();
    let answered: Promise<unknown> = Promise.resolve();
    let runNext: Promise<unknown> = Promise.resolve();
    function onFrame(f: Frame) {
      garbage = 0;
      const seen = recent.get(f.seq);
      let answer: Promise<Buffer>;
      if (seen && seen.crc === f.crc) answer = seen.answer;
      else {
        if (f.type === PssRequest.UPLOAD) answer = runNext.then(() => answerOf(f));
        else runNext = (answer = answered.then(() => answerOf(f))).then(noop, noop);
        recent.delete(f.seq);
        recent.set(f.seq, { crc: f.crc, answer });
        if (recent.size > RECENT_ANSWERS) recent.delete(recent.keys().next().value!);
      }
      answered = answered.then(() => answer).then(send, noop);
    }

    async function answerOf(f: Frame): Promise<Buffer> {
      let type = f.type | RESPONSE_FLAG;
      let payload: string;
      try {
        if (f.version !== PROTOCOL_VERSION) throw new PssError('VERSION', `protocol version ${f.version}; this PSS speaks ${PROTOCOL_VERSION}`);
        let body: unknown;
        try {
          body = f.payload ? JSON.parse(f.payload) : {};
        } catch {
          throw new PssError('BAD_PAYLOAD', 'payload is not JSON');
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new PssError('BAD_PAYLOAD', 'payload must be a JSON object');
        const result = api.handle(f.type, body as Record<string, unknown>);
        payload = asciiJson(result instanceof Promise ? await result : result);
        if (payload.length > MAX_PAYLOAD_BYTES) throw new PssError('INTERNAL', `answer of ${payload.length} bytes does not fit a frame`);
      } catch (e) {
        type = ERROR_TYPE;
        const err = e instanceof PssError ? e : new PssError('INTERNAL', 'internal error');
        if (!(e instanceof PssError)) opts.log?.(`${peer}: ${PssRequestName[f.type] ?? f.type}: internal error: ${(e as Error)?.stack ?? e}`);
        payload = asciiJson(err.toJSON());
      }
      return frameBytes(type, f.seq, payload);
    }

    // a truncated frame would otherwise swallow the start of the next one: after a silence,
    // what is pending is dropped and the sender's retransmission finds a clean decoder
    const watchGap = () => {
      if (gapTimer) clearTimeout(gapTimer);
      gapTimer = null;
      if (!decoder.pending()) return;
      gapTimer = setTimeout(() => {
        gapTimer = null;
        if (!decoder.pending()) return;
        decoder.reset();
        send(errorFrame(0, 'BAD_FRAME', `incomplete frame dropped after ${frameGapMs} ms of silence`));
      }, frameGapMs);
    };

    // set once the connection is being closed for garbage: what still arrives is not
    // executed, since its answer could no longer be sent
    let closing = false;
    socket.on('data', (chunk) => {
      if (closing) return;
      dropped = null;
      try {
        decoder.push(chunk);
      } catch (e) {
        opts.log?.(`${peer}: decoder failed: ${(e as Error).message}`);
        decoder.reset();
        dropped = { why: 'garbage' };
      }
      watchGap();
      if (!dropped) return;
      // one error answer per chunk, whatever the decoder skipped in it
      const d: { why: DropReason; seq?: number } = dropped;
      const code: PssErrorCodeName = d.why === 'oversize' ? 'OVERSIZE' : 'BAD_FRAME';
      const message = d.why === 'crc' ? 'frame CRC mismatch' : d.why === 'oversize' ? `frame longer than ${MAX_PAYLOAD_BYTES} bytes of payload` : 'bytes that are not a frame';
      send(errorFrame(d.seq ?? 0, code, message));
      if (garbage > maxGarbage) {
        opts.log?.(`${peer}: ${garbage} bytes that are not frames, closed`);
        closing = true;
        socket.end();
        raw.destroySoon();
      }
    });
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PSS_PORT, opts.host ?? DEFAULT_PSS_HOST, () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      resolve({
        host: addr.address,
        port: addr.port,
        connections: () => sockets.size,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          })
      });
    });
  });
}
