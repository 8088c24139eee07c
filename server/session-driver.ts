// The PSS side of a secure session with one PSD (protocol/session.ts). The host only relays:
// each step hands it one PSD request ({type, payload}) and takes back the PSD's answer.
// Inside the session the PSS reads the outstanding sealed block, verifies and stores it
// exactly like a plain upload (server/pss.ts), confirms it to the PSD, and then, if asked,
// loads a funds reset and sets parameters: one session, one round of the seed's claim 9.
// Last, the PSD's sealed audit (protocol/audit.ts; before a withdrawal, while it holds its
// keys), which the PSS checks against the previous one (server/audits.ts).
//
// Inner requests are ordinary PSD commands sealed in SESSION {m}; the PSD answers
// {m} sealing {ok: body} or {error: {code, message}} (firmware/core/session-handlers.ts).
// Statistics come first: a device whose block is rejected gets no funds in that session.
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { Command, CommandName } from '../protocol/commands.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { ErrorCode, errorText } from '../protocol/errors.ts';
import { RECORD_BYTES } from '../protocol/records.ts';
import { BLOCK_HEADER_BYTES, BLOCK_RATES, BLOCK_CHAIN, blockHeadBytes, decodeBlockHead } from '../protocol/block.ts';
import { sessionKeys, sessionEnd, sessionSend, sessionReceive, SESSION_NONCE_BYTES, type SessionEnd } from '../protocol/session.ts';
import { nodeAeadPrims } from './crypto-prims.ts';
import { tablesForSession } from './rates.ts';
import { encodeRates } from '../protocol/rates.ts';
import { MAX_AUDIT_BYTES } from '../protocol/audit.ts';
import { sha256 } from './hashes.ts';
import { isHex, hexToString, stringToHex } from './bytestrings.ts';
import { PssError, isPssError } from '../protocol/pss-errors.ts';
import type { Pss } from './pss.ts';
import { MAX_UPLOAD_BYTES, type PsdRequest, type SessionReport, type SessionStep } from '../protocol/pss-wire.ts';

/** Records per BLOCK_READ inside a session: the sealed answer (IV, tag, counter, then hex
 * on the wire) must fit one 1,012-byte frame payload; 6 records are ~420 bytes of JSON. */
export const SESSION_RECORDS_PER_READ = 6;

/** What the host relays back: the PSD's answer body, or the error the PSD (or the line) gave. */
export type RelayAnswer = { answer: unknown; error?: undefined } | { error: { code: unknown; message: unknown }; answer?: undefined };

export interface SessionOptions {
  /** where an unexpected (internal) error's details go: the report only says INTERNAL */
  log?: (line: string) => void;
  /** a funds reset to load in the same session, minor units */
  funds?: number;
  /** PSD parameters (CONFIG payload: flushPeriodS, flushEveryPieces, lowStoragePct, lockUntilConfirmed) */
  config?: Record<string, unknown>;
  /** replace the device and KMS keys (after the statistics are confirmed, before funds) */
  rekey?: boolean;
  /** withdraw the device from service once its final block is confirmed: its keys erased, its
   * unused descending register credited back to its account (server/kms.ts withdraw) */
  withdraw?: boolean;
  /** the host's list of the pieces of the block the PSD seals (server/pieces.ts), for a
   * device with per-piece data */
  pieces?: string;
}

/** An error inside the session: ends it, and says what the PSD or the PSS refused. */
class SessionStop extends Error {
  constructor(
    public code: string,
    message: string
  ) {
    super(message);
  }
}

/** The PSD sends {code, detail} (the message is looked up by code); a relayed host error
 * may carry a composed message. */
function psdError(command: number, e: { code?: unknown; message?: unknown; detail?: unknown }): SessionStop {
  const code = typeof e.code === 'number' ? e.code : ErrorCode.INTERNAL;
  const text = typeof e.message === 'string' ? e.message : errorText(code, typeof e.detail === 'string' ? e.detail : undefined);
  return new SessionStop('PSD_' + code, `the PSD refused ${CommandName[command] ?? command}: ${text}`);
}

function object(v: unknown, what: string): Record<string, any> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SessionStop('SESSION', `${what}: answer is not an object`);
  return v as Record<string, any>;
}

export class PssSession {
  readonly report: SessionReport;
  private steps: Generator<PsdRequest, void, RelayAnswer>;
  private finished = false;

  constructor(
    private pss: Pss,
    readonly device: number,
    private opts: SessionOptions = {}
  ) {
    // UNKNOWN_DEVICE / REVOKED before anything is relayed; a device whose withdrawal is pending
    // (pss withdraw without it) is reached only to withdraw it: its final figures settle the refund
    const row = pss.kms.reachableDevice(device);
    if (row.status === 'withdrawing') {
      if (opts.funds !== undefined || opts.rekey || opts.config !== undefined)
        throw new PssError('REVOKED', `device ${device} is being withdrawn (refund pending): a session with it withdraws it (psd upload --session --withdraw), nothing else`);
      this.opts = { ...opts, withdraw: true };
    }
    if (opts.funds !== undefined && (!Number.isInteger(opts.funds) || opts.funds < 1)) throw new PssError('BAD_ARGUMENT', 'funds must be a positive integer amount');
    if (opts.config !== undefined && (!opts.config || typeof opts.config !== 'object' || Array.isArray(opts.config))) throw new PssError('BAD_ARGUMENT', 'config must be an object');
    this.report = { device, block: null, confirmed: false, funds: null, config: null };
    this.steps = this.plan();
  }

  get done(): boolean {
    return this.finished;
  }

  /** The first request for the PSD (SESSION_OPEN). */
  begin(): SessionStep {
    return this.advance(undefined);
  }

  /** Takes the PSD's answer to the last request; returns the next request or the report. */
  next(input: RelayAnswer): SessionStep {
    if (this.finished) throw new PssError('SESSION', 'the session is over; begin a new one');
    return this.advance(input);
  }

  private advance(input: RelayAnswer | undefined): SessionStep {
    try {
      const r = input === undefined ? this.steps.next() : this.steps.next(input);
      if (!r.done) return { relay: r.value };
    } catch (e) {
      const known = e instanceof SessionStop || isPssError(e);
      if (!known) this.opts.log?.(`session: device ${this.device}: internal error: ${(e as Error)?.stack ?? e}`);
      const stop = known ? (e as SessionStop) : new SessionStop('INTERNAL', 'internal error in the session');
      this.report.error = { code: stop.code, message: stop.message };
    }
    this.finished = true;
    return { done: true, report: this.report };
  }

  /** Sends one request to the PSD in clear (only SESSION_OPEN) and returns its answer. */
  private *plain(type: number, payload: Record<string, unknown>): Generator<PsdRequest, Record<string, any>, RelayAnswer> {
    const a = yield { type, payload };
    if (a.error) throw psdError(type, a.error);
    return object(a.answer, CommandName[type]);
  }

  /** Sends one PSD command inside the session and returns its answer body. */
  private *inner(end: SessionEnd, type: number, payload: Record<string, unknown>): Generator<PsdRequest, Record<string, any>, RelayAnswer> {
    const m = sessionSend(nodeAeadPrims, end, crypto.randomBytes(16).toString('latin1'), asciiJson({ type, payload }));
    const a = yield { type: Command.SESSION, payload: { m: stringToHex(m) } };
    if (a.error) throw psdError(Command.SESSION, a.error);
    const outer = object(a.answer, 'session');
    if (!isHex(outer.m)) throw new SessionStop('SESSION', 'session answer carries no message');
    const plaintext = sessionReceive(nodeAeadPrims, end, hexToString(outer.m));
    if (plaintext === null) throw new SessionStop('SESSION', 'the PSD\'s session message does not authenticate (altered, replayed or under other keys)');
    let body: any;
    try {
      body = JSON.parse(plaintext);
    } catch {
      throw new SessionStop('SESSION', 'the PSD\'s session message is not JSON');
    }
    body = object(body, CommandName[type]);
    if (body.error) throw psdError(type, object(body.error, CommandName[type]));
    return object(body.ok, CommandName[type]);
  }

  private *plan(): Generator<PsdRequest, void, RelayAnswer> {
    const device = this.device;
    const nonce = crypto.randomBytes(SESSION_NONCE_BYTES).toString('latin1');
    // X25519 is offered; a PSD that cannot afford it answers without, and the keys then
    // rest on the device key and both nonces alone (protocol/session.ts)
    const eph = nacl.box.keyPair();
    const opened = yield* this.plain(Command.SESSION_OPEN, { nonce: stringToHex(nonce), x25519: Buffer.from(eph.publicKey).toString('hex') });
    if (opened.device !== device) throw new SessionStop('SESSION', `the PSD says it is device ${opened.device}, not ${device}`);
    if (!isHex(opened.nonce, SESSION_NONCE_BYTES)) throw new SessionStop('SESSION', 'the PSD sent no 16-byte nonce');
    let shared = '';
    if (opened.x25519 !== undefined) {
      if (!isHex(opened.x25519, 32)) throw new SessionStop('SESSION', 'the PSD\'s x25519 key is not 32 bytes');
      shared = Buffer.from(nacl.scalarMult(eph.secretKey, Buffer.from(opened.x25519, 'hex'))).toString('latin1');
    }
    // the PSD says which keys it holds: a rekey whose answer was lost is completed here
    const row = this.pss.kms.reachableDevice(device);
    const version = opened.keyVersion ?? 0;
    if (version !== row.key_version) {
      if (version !== row.pending_key_version) throw new SessionStop('SESSION', `the PSD holds key version ${version}, the KMS knows ${row.key_version}`);
      this.pss.kms.rekeyDone(device, version);
    }
    const keys = sessionKeys(sha256, this.pss.kms.deviceKey(device, version), device, nonce, hexToString(opened.nonce), shared);
    if (!keys) throw new SessionStop('SESSION', 'could not derive session keys');
    const end = sessionEnd(keys, false);

    // statistics: seal (or fetch the block awaiting confirmation), read it, verify, store, confirm
    // the data center's time first, in every session: the PSD's trusted time, which bounds the
    // clock its host may set and recovers one the host set wrong (firmware/ondemand/admin.ts)
    const now = Date.now();
    this.pss.noteTrustedTime(device, Math.floor(now / 1000));
    yield* this.inner(end, Command.CLOCK, { now });
    this.report.clock = Math.floor(now / 1000);
    // a withdrawal settles on every piece: when the block was sealed before this session and
    // pieces were franked after it, their block is sealed and stored in this session too (a
    // second round), so one run withdraws
    for (let round = 1; ; round++) {
      const x: Record<string, any> = yield* this.inner(end, Command.STATS_EXTRACT, {});
      const seq = x.seq;
      if (!Number.isInteger(seq) || seq < 1) throw new SessionStop('SESSION', 'stats extract answered no block number');
      const headBytes = x.headBytes;
      const recordCount = x.recordCount;
      if (!Number.isInteger(headBytes) || headBytes < BLOCK_HEADER_BYTES || headBytes > blockHeadBytes(0xffff /* the customer count is a u16 */, BLOCK_RATES | BLOCK_CHAIN)) throw new SessionStop('SESSION', 'stats extract answered a bad head length');
      if (!Number.isInteger(recordCount) || recordCount < 0 || recordCount > 65535) throw new SessionStop('SESSION', 'stats extract answered a bad record count');
      if (!isHex(x.seal, undefined, 64)) throw new SessionStop('SESSION', 'stats extract answered no seal');
      if (headBytes + recordCount * RECORD_BYTES + x.seal.length / 2 > MAX_UPLOAD_BYTES) throw new PssError('OVERSIZE', `block of ${recordCount} records is larger than the PSS takes (${MAX_UPLOAD_BYTES} bytes)`);
      let head = isHex(x.head) ? hexToString(x.head) : '';
      while (head.length < headBytes) {
        const page = yield* this.inner(end, Command.BLOCK_READ, { seq, headFrom: head.length });
        if (!isHex(page.head) || page.head.length === 0) throw new SessionStop('SESSION', 'block read answered no head bytes');
        head += hexToString(page.head);
      }
      let records = '';
      while (records.length < recordCount * RECORD_BYTES) {
        const from = records.length / RECORD_BYTES;
        const page = yield* this.inner(end, Command.BLOCK_READ, { seq, from, count: Math.min(SESSION_RECORDS_PER_READ, recordCount - from) });
        if (!Array.isArray(page.records) || page.records.length === 0 || !page.records.every((r: unknown) => isHex(r, RECORD_BYTES)))
          throw new SessionStop('SESSION', `block read from record ${from} answered no records`);
        if (page.from !== undefined && page.from !== from) throw new SessionStop('SESSION', `block read from record ${from} answered records from ${page.from}`);
        records += page.records.map((r: string) => hexToString(r)).join('');
      }
      const raw = head.substr(0, headBytes) + records.substr(0, recordCount * RECORD_BYTES) + hexToString(x.seal);
      const stored = this.pss.upload(raw, 'session', this.opts.pieces); // throws the rejection: no confirmation, no funds
      this.report.block = { seq: stored.seq, stored: stored.stored, records: stored.recordCount };
      const confirmed = yield* this.inner(end, Command.CONFIRM, { seq: stored.seq, mac: stored.confirmation });
      this.report.confirmed = true;
      const sealed = decodeBlockHead(head.substr(0, headBytes));
      const registers = confirmed.registers ?? {};
      if (!this.opts.withdraw || round > 1 || (registers.pieces === sealed.pieces && registers.ascending === sealed.ascending)) break;
      (this.report.earlierBlocks ??= []).push(this.report.block!);
    }

    // the rate tables: the one in force and any newer (the PSD keeps what it has; an older
    // version than it holds it refuses as a replay, which is no error here)
    for (const t of tablesForSession(this.pss.store, Math.floor(Date.now() / 1000))) {
      try {
        yield* this.inner(end, Command.RATES, { table: Buffer.from(encodeRates(t), 'latin1').toString('hex') });
        (this.report.rates ??= []).push(t.version);
      } catch (e) {
        if (!(e instanceof SessionStop) || e.code !== 'PSD_' + ErrorCode.REPLAY) throw e;
      }
    }
    if (this.opts.withdraw) {
      if (this.opts.funds !== undefined || this.opts.rekey || this.opts.config !== undefined) throw new SessionStop('SESSION', 'a withdrawal takes no funds, rekey or config');
      // the final audit, while the PSD still holds its keys
      yield* this.audit(end);
      const w = yield* this.inner(end, Command.WITHDRAW, {});
      const r = w.registers ?? {};
      if (w.withdrawn !== true || !Number.isSafeInteger(r.descending) || r.descending < 0) throw new SessionStop('SESSION', 'the PSD did not say it withdrew, with its registers');
      // the PSD's own descending register, authenticated by the session: credited back
      const credit = this.pss.kms.withdraw(device, { descending: r.descending });
      this.report.withdrawn = { ascending: r.ascending, descending: r.descending, pieces: r.pieces, account: credit.account, credited: credit.credited };
      return;
    }
    if (this.opts.rekey) {
      const k = this.pss.kms.rekey(device);
      const r = yield* this.inner(end, Command.REKEY, { version: k.version, deviceKey: stringToHex(k.deviceKey), kmsKey: stringToHex(k.kmsKey) });
      this.pss.kms.rekeyDone(device, r.keyVersion);
      this.report.keyVersion = r.keyVersion;
    }
    if (this.opts.funds !== undefined) {
      const reset = this.pss.kms.fundsReset(device, this.opts.funds, 'session');
      this.report.funds = { counter: reset.counter, amount: reset.amount, loaded: false };
      yield* this.inner(end, Command.FUNDS, { counter: reset.counter, amount: reset.amount, mac: stringToHex(reset.mac) });
      this.pss.kms.fundsLoaded(device, reset.counter);
      this.report.funds.loaded = true;
    }
    if (this.opts.config !== undefined) {
      const c = yield* this.inner(end, Command.CONFIG, this.opts.config);
      this.report.config = c.config ?? c;
    }
    // every contact carries the device's audit: last, so it shows what this session did
    yield* this.audit(end);
  }

  /** Reads a new audit from the PSD, a page at a time, and has the PSS verify, check and store it. */
  private *audit(end: SessionEnd): Generator<PsdRequest, void, RelayAnswer> {
    let first: Record<string, any>;
    try {
      first = yield* this.inner(end, Command.AUDIT, {});
    } catch (e) {
      // an image from before the audit: the session's other work stands; the PSS has no audit
      if (e instanceof SessionStop && e.code === 'PSD_' + ErrorCode.UNKNOWN_COMMAND) return;
      throw e;
    }
    const seq = first.seq;
    const bytes = first.bytes;
    if (!Number.isInteger(seq) || seq < 1 || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_AUDIT_BYTES || !isHex(first.data)) throw new SessionStop('SESSION', 'audit answered no audit');
    let raw = hexToString(first.data);
    while (raw.length < bytes) {
      const page = yield* this.inner(end, Command.AUDIT, { seq, from: raw.length });
      if (!isHex(page.data) || page.from !== raw.length) throw new SessionStop('SESSION', `audit ${seq} read from byte ${raw.length} answered no bytes`);
      raw += hexToString(page.data);
    }
    const r = this.pss.audit(raw.substr(0, bytes), 'session');
    this.report.audit = { seq: r.seq, stored: r.stored, flags: r.flags, events: r.newEvents };
  }
}
