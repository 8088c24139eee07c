// The PSS's TCP requests (protocol/pss-wire.ts) for one connection: argument checks, then the KMS,
// the PSS or the session driver. Throws PssError; server/service.ts turns it into an error frame.
import { MAX_U48 } from '../protocol/bytes.ts';
import { PROTOCOL_VERSION, MAX_PAYLOAD_BYTES } from '../protocol/frame.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { runReport, parseGroupFields, parseSort, type Report } from './report.ts';
import { isHex, hexToString, stringToHex } from './bytestrings.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { sealName, sealNumber } from './kms.ts';
import { PssSession, type RelayAnswer } from './session-driver.ts';
import { PssRequest, PssRequestName, MAX_UPLOAD_BYTES, MAX_PIECE_LIST_BYTES } from '../protocol/pss-wire.ts';
import { MAX_AUDIT_BYTES } from '../protocol/audit.ts';
import type { DataCenter } from './datacenter.ts';
import { buildExport, type BuiltExport } from './export.ts';
import { parsePeriod, loadDiscountConfig, DEFAULT_RULES_FILE } from './discounts.ts';

export const SERVER_NAME = 'psd-lab pss';
export const SERVER_VERSION = '0.1.0';

export interface ApiEvents {
  /** one line per thing worth an operator's attention; never carries a key */
  log?: (line: string) => void;
}

/** Who is on a connection: a device (plain frames, no secret), or the holder of a credential. */
export interface Who {
  /** untrusted: a certificate this data center's lab CA did not issue (its name says why) */
  role: 'device' | 'operator' | 'auditor' | 'revoked' | 'untrusted';
  name: string;
}

/** Requests only an operator may make: they hand out keys, certificates or postage. */
const OPERATOR_ONLY = new Set<number>([PssRequest.REGISTER, PssRequest.CERTIFY, PssRequest.FUNDS]);

type Body = Record<string, unknown>;

function int(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new PssError('BAD_ARGUMENT', `${name} must be an integer ${min}..${max}`);
  return v;
}

function device(v: unknown): number {
  return int(v, 'device', 1, 4294967295);
}

export class Connection {
  private upload = '';
  /** the list of the next block's pieces (per-piece data): parts received, and the whole */
  private piecesPart = '';
  private pieces: string | undefined;
  private session: PssSession | null = null;

  constructor(
    private dc: DataCenter,
    private events: ApiEvents & { who?: () => Who } = {}
  ) {}

  private log(line: string) {
    this.events.log?.(line);
  }

  /** Refuses a request the connection's role may not make (NOT_AUTHORISED); nothing is changed. */
  private authorise(type: number, body: Body): void {
    const who = this.events.who?.() ?? { role: 'operator', name: 'in-process' };
    const name = PssRequestName[type] ?? `0x${type.toString(16)}`;
    const operatorOnly = OPERATOR_ONLY.has(type) || (type === PssRequest.SESSION_BEGIN && (body.funds !== undefined || body.rekey === true || body.config !== undefined || body.withdraw === true));
    let refusal: string | null = null;
    if (who.role === 'revoked') refusal = `the credential ${who.name} was revoked`;
    else if (who.role === 'untrusted') refusal = `the credential ${who.name} is not one this data center's lab CA issued`;
    else if ((type === PssRequest.REPORT || type === PssRequest.EXPORT) && who.role !== 'auditor' && who.role !== 'operator') refusal = `${name} needs an auditor's or operator's credential over TLS (this connection has none: give PSS_CREDENTIALS)`;
    else if (operatorOnly && who.role !== 'operator')
      refusal = `${name}${type === PssRequest.SESSION_BEGIN ? ' with funds, rekey, config or withdrawal' : ''} needs an operator credential over TLS (${who.role === 'device' ? 'this connection has none: give PSS_CREDENTIALS' : `this one is an ${who.role}'s`})`;
    if (refusal) {
      this.log(`refused: ${name} from ${who.role} ${who.name}: not authorised`);
      throw new PssError('NOT_AUTHORISED', refusal);
    }
  }

  /** The answer; an upload's last part answers once its group of uploads is committed (a promise). */
  handle(type: number, body: Body): Body | Promise<Body> {
    this.authorise(type, body);
    switch (type) {
      case PssRequest.HELLO:
        return { server: SERVER_NAME, version: SERVER_VERSION, protocol: PROTOCOL_VERSION, caPublicKey: stringToHex(this.dc.kms.caPublicKey) };
      case PssRequest.REGISTER: {
        const seal = body.seal === undefined ? undefined : sealNumber(String(body.seal));
        const account = body.account === undefined ? undefined : int(body.account, 'account', 1, MAX_U48);
        const r = this.dc.kms.registerDevice(body.serial as string, body.board as string, seal, account);
        this.log(`register: serial ${body.serial} (${body.board}) is device ${r.device}`);
        // the data center's time goes with the keys: the PSD's first trusted time, so its host
        // clock is held to a window from provisioning on (firmware/ondemand/admin.ts)
        const now = Date.now();
        this.dc.pss.noteTrustedTime(r.device, Math.floor(now / 1000));
        return { device: r.device, seal: sealName(r.seal), deviceKey: stringToHex(r.deviceKey), kmsKey: stringToHex(r.kmsKey), now };
      }
      case PssRequest.CERTIFY: {
        const d = device(body.device);
        if (!isHex(body.publicKey, 32)) throw new PssError('BAD_ARGUMENT', 'publicKey must be 32 bytes of hex');
        const certificate = this.dc.kms.certify(d, hexToString(body.publicKey));
        this.log(`certify: device ${d}`);
        return { device: d, certificate: stringToHex(certificate) };
      }
      case PssRequest.FUNDS: {
        const d = device(body.device);
        const r = this.dc.kms.fundsReset(d, int(body.amount, 'amount', 1, MAX_U48));
        this.log(`funds: device ${d} counter ${r.counter} amount ${r.amount}`);
        return { device: d, counter: r.counter, amount: r.amount, mac: stringToHex(r.mac) };
      }
      case PssRequest.UPLOAD:
        return this.uploadPart(body);
      case PssRequest.PIECES:
        return this.piecesPartOf(body);
      case PssRequest.SESSION_BEGIN: {
        const d = device(body.device);
        const funds = body.funds === undefined ? undefined : int(body.funds, 'funds', 1, MAX_U48);
        const pieces = this.pieces;
        this.pieces = undefined;
        this.session = new PssSession(this.dc.pss, d, { funds, config: body.config as Record<string, unknown> | undefined, rekey: body.rekey === true, withdraw: body.withdraw === true, log: this.events.log, pieces });
        this.log(`session: device ${d} begins`);
        return this.step(this.session.begin());
      }
      case PssRequest.SESSION_NEXT: {
        if (!this.session || this.session.done) throw new PssError('SESSION', 'no session under way on this connection: send session-begin first');
        // the PSD's answers to SESSION_OPEN ({device, nonce}) and SESSION ({m}) never carry
        // `error`, so the body is the answer itself unless the host reports a refusal
        let input: RelayAnswer;
        if (body.error !== undefined) {
          const e = body.error as Body;
          if (!e || typeof e !== 'object') throw new PssError('BAD_ARGUMENT', 'error must be {code, message}');
          input = { error: { code: e.code, message: e.message } };
        } else input = { answer: body };
        return this.step(this.session.next(input));
      }
      case PssRequest.SESSION_END: {
        const ended = !!this.session && !this.session.done;
        this.session = null;
        return { ended };
      }
      case PssRequest.STATUS: {
        const counts = this.dc.pss.counts();
        if (body.device === undefined) return counts;
        const d = device(body.device);
        const row = this.dc.kms.device(d);
        if (!row) throw new PssError('UNKNOWN_DEVICE', `device ${d} is not registered`);
        return { ...counts, device: d, status: row.status, seal: sealName(row.seal), lastSeq: this.dc.pss.lastSeq(d), fundsCounter: row.funds_counter };
      }
      case PssRequest.REPORT:
        return this.reportPage(body);
      case PssRequest.EXPORT:
        return this.exportPage(body);
      case PssRequest.AUDIT: {
        if (!isHex(body.hex) || (body.hex as string).length > 2 * MAX_AUDIT_BYTES) throw new PssError('BAD_ARGUMENT', `hex must be a sealed audit of at most ${MAX_AUDIT_BYTES} bytes`);
        const r = this.dc.pss.audit(hexToString(body.hex as string), 'plain');
        this.log(`audit: device ${r.device} audit ${r.seq} ${r.stored ? 'stored' : 'repeat'}${r.flags.length ? ', flagged: ' + r.flags.map((f) => f.kind).join(', ') : ''}`);
        return { device: r.device, seq: r.seq, stored: r.stored, flags: r.flags, events: r.newEvents };
      }
      default:
        throw new PssError('UNKNOWN_REQUEST', `unknown request type 0x${type.toString(16)}`);
    }
  }

  private reportCache: { key: string; report: Report } | null = null;

  /** A report, a frame's worth of rows at a time (the report is kept for the next page). */
  private reportPage(body: Body): Body {
    const list = (v: unknown, name: string) => {
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.length > 1000) throw new PssError('BAD_ARGUMENT', `${name} must be a list of numbers`);
      return v.map((x) => int(x, name, 0, 4294967295));
    };
    const by = parseGroupFields(typeof body.by === 'string' ? body.by : 'customer,class');
    const from = body.from === undefined ? undefined : int(body.from, 'from', 0, MAX_U48);
    const to = body.to === undefined ? undefined : int(body.to, 'to', 0, MAX_U48);
    const sort = body.sort === undefined ? undefined : parseSort(String(body.sort), by);
    const offset = body.offset === undefined ? 0 : int(body.offset, 'offset', 0, 1e9);
    const q = { by, from, to, customers: list(body.customers, 'customers'), devices: list(body.devices, 'devices'), sort };
    const key = JSON.stringify(q);
    if (offset === 0 || this.reportCache?.key !== key) this.reportCache = { key, report: this.dc.store.read(() => runReport(this.dc.store, q)) };
    const r = this.reportCache.report;
    const page: Body = { by: r.by, from: r.from, to: r.to, totals: r.totals, rows: [] as unknown[] };
    const rows = page.rows as unknown[];
    let i = offset;
    for (; i < r.rows.length; i++) {
      rows.push(r.rows[i]);
      if (asciiJson({ ...page, next: i + 1 }).length > MAX_PAYLOAD_BYTES - 40) {
        rows.pop();
        break;
      }
    }
    if (i < r.rows.length) page.next = i;
    if (!rows.length && i < r.rows.length) throw new PssError('INTERNAL', 'a report row does not fit a frame');
    if (offset === 0) this.log(`report: by ${by.join(',')} (${r.rows.length} rows)`);
    return page;
  }

  private exportCache: { key: string; built: BuiltExport } | null = null;

  /**
   * A period's export (server/export.ts) for an auditor: without `file`, it is made (under the
   * PSS's discount rules, `pss serve --rules`) and its summary and file list answered; with
   * `file` (an index of that list) and `offset`, a page of that file's bytes in base64.
   */
  private exportPage(body: Body): Body {
    if (typeof body.period !== 'string' || body.period.length > 16) throw new PssError('BAD_ARGUMENT', 'period must be a period such as 2026-11');
    if (body.pssId !== undefined && (typeof body.pssId !== 'string' || body.pssId.length > 64)) throw new PssError('BAD_ARGUMENT', 'pssId must be a name of at most 64 characters');
    const rules = (this.dc.rules ??= loadDiscountConfig(DEFAULT_RULES_FILE));
    const period = parsePeriod(body.period, rules.period);
    const key = JSON.stringify([body.period, body.pssId ?? null]);
    if (body.file === undefined) {
      const built = this.dc.store.read(() => buildExport(this.dc.store, { period, rules, dataDir: this.dc.dir, pssId: body.pssId as string | undefined }));
      this.exportCache = { key, built };
      this.log(`export: period ${period.label} (${built.blocks} blocks, ${built.records} records)`);
      return { period: built.manifest.period, publicKey: built.publicKey, blocks: built.blocks, records: built.records, discount: built.discounts.totals.discount, customers: built.discounts.customers.length, files: built.files.map((f) => ({ name: f.name, bytes: f.bytes.length })) };
    }
    if (this.exportCache?.key !== key) throw new PssError('BAD_ARGUMENT', `no export of period ${body.period} was made on this connection: ask for it without file first`);
    const files = this.exportCache.built.files;
    const i = int(body.file, 'file', 0, files.length - 1);
    const bytes = files[i].bytes;
    const offset = body.offset === undefined ? 0 : int(body.offset, 'offset', 0, bytes.length);
    // base64 of a multiple of 3 bytes; the page's other fields take well under 80 bytes
    const chunk = Math.floor((MAX_PAYLOAD_BYTES - 80) / 4) * 3;
    const end = Math.min(bytes.length, offset + chunk);
    const page: Body = { file: i, offset, data: bytes.subarray(offset, end).toString('base64') };
    if (end < bytes.length) page.next = end;
    return page;
  }

  private step(s: ReturnType<PssSession['begin']>): Body {
    if (s.done) {
      const r = s.report;
      this.log(`session: device ${r.device} done: block ${r.block ? r.block.seq + (r.block.stored ? ' stored' : ' repeat') : '-'}, confirmed ${r.confirmed}, funds ${r.funds ? r.funds.amount + (r.funds.loaded ? ' loaded' : ' not loaded') : '-'}${r.error ? ', ' + r.error.code + ': ' + r.error.message : ''}`);
    }
    return s as unknown as Body;
  }

  /** The list of the next block's pieces, in parts; the last part (no `more`) completes it. */
  private piecesPartOf(body: Body): Body {
    if (typeof body.hex !== 'string' || !isHex(body.hex)) {
      this.piecesPart = '';
      throw new PssError('BAD_ARGUMENT', 'hex must be the list of pieces (or its next part) as hex');
    }
    if (this.piecesPart.length + body.hex.length / 2 > MAX_PIECE_LIST_BYTES) {
      this.piecesPart = '';
      throw new PssError('OVERSIZE', `list of pieces longer than ${MAX_PIECE_LIST_BYTES} bytes`);
    }
    this.piecesPart += hexToString(body.hex);
    if (body.more === true) return { received: this.piecesPart.length };
    this.pieces = this.piecesPart;
    this.piecesPart = '';
    return { received: this.pieces.length };
  }

  /** A block arrives in parts of at most a frame each; the last part (no `more`) is verified. */
  private uploadPart(body: Body): Body | Promise<Body> {
    // Buffer.from stops at the first pair that is not hex: a shorter result is a refusal (one
    // pass over the text, where a test and a conversion were two)
    const part = typeof body.hex === 'string' && body.hex.length % 2 === 0 ? Buffer.from(body.hex, 'hex') : null;
    if (!part || part.length * 2 !== (body.hex as string).length) {
      this.upload = '';
      throw new PssError('BAD_ARGUMENT', 'hex must be the block (or its next part) as hex');
    }
    if (this.upload.length + part.length > MAX_UPLOAD_BYTES) {
      this.upload = '';
      throw new PssError('OVERSIZE', `block longer than ${MAX_UPLOAD_BYTES} bytes`);
    }
    this.upload += part.toString('latin1');
    if (body.more === true) return { received: this.upload.length };
    const raw = this.upload;
    this.upload = '';
    const pieces = this.pieces;
    this.pieces = undefined;
    return this.dc.pss.uploadGrouped(raw, 'plain', pieces).then(
      (r) => {
        this.log(`upload: device ${r.device} block ${r.seq} ${r.stored ? 'stored' : 'repeat, confirmed again'} (${r.recordCount} records)`);
        return { device: r.device, seq: r.seq, stored: r.stored, digest: r.digest, confirmation: r.confirmation };
      },
      (e) => {
        if (e instanceof PssError) this.log(`upload rejected: ${e.code}: ${e.message}`);
        throw e;
      }
    );
  }

}
