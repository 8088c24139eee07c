// The request and answer bodies of every command (protocol/commands.ts), in one place for
// the firmware, the host and the fuzzer: a field table per request (what the firmware reads,
// with the ranges it checks), TypeScript interfaces for the requests, and the answers
// (protocol/answers.ts) paired with them by command (Bodies).
//
// Types and a table only: the firmware imports the types (`import type`: nothing reaches the
// image) and still validates every field that comes from the wire itself (firmware/core/args.ts);
// the fuzzer builds its hostile payloads from the table (testkit/fuzz/device-commands.ts); the
// host's client (host-bridge/client.ts) takes and returns the interfaces.
import { Command, INDICIA_PER_FRAME, RECORDS_PER_FRAME, MAX_PIECES_PER_FRANK } from './commands.ts';
import { MAX_U48 } from './bytes.ts';
import { MAX_U32, MAX_CATEGORIES, MAX_WEIGHT_G, RECORD_BYTES } from './records.ts';
import type { Registers, BatchInfo, DeviceConfig, HostConfig, StatusAnswer, EchoAnswer, RebootAnswer, ClockAnswer, LogEntry, LogAnswer, ProvisionAnswer, FundsAnswer, BatchStartAnswer, BatchEndAnswer, FrankAnswer, StatsFlushAnswer, StatsListAnswer, ConfigAnswer, IndiciaAnswer, SealedAnswer, BlockReadAnswer, ConfirmAnswer, HostSealBeginAnswer, HostSealRecordsAnswer, SessionOpenAnswer, SessionAnswer, AuditAnswer } from './answers.ts';
export type { AuditAnswer, Registers, BatchInfo, DeviceConfig, HostConfig, StatusAnswer, EchoAnswer, RebootAnswer, ClockAnswer, LogEntry, LogAnswer, ProvisionAnswer, FundsAnswer, BatchStartAnswer, BatchEndAnswer, FrankAnswer, StatsFlushAnswer, StatsListAnswer, ConfigAnswer, IndiciaAnswer, SealedAnswer, BlockReadAnswer, ConfirmAnswer, HostSealBeginAnswer, HostSealRecordsAnswer, SessionOpenAnswer, SessionAnswer } from './answers.ts';

// ---- the field table ---------------------------------------------------------------------

/** What a field of a request holds, as the firmware checks it. */
export type FieldSpec = (
  | { kind: 'int'; min: number; max: number }
  /** `bytes` bytes as hex text */
  | { kind: 'hex'; bytes: number }
  /** any number of bytes as hex text */
  | { kind: 'hexAny' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'bool' }
  | { kind: 'string' }
  | { kind: 'intList'; min: number; max: number; maxLength: number }
  | { kind: 'hexList'; bytes: number; maxLength: number }
) & {
  /** the firmware takes the request without it (a default, or it does not apply) */
  optional?: boolean;
  /** the firmware takes it only inside a secure session (the data center's settings) */
  session?: boolean;
};

const int = (min: number, max: number, more?: { optional?: boolean; session?: boolean }): FieldSpec => ({ kind: 'int', min, max, ...more });
const hex = (bytes: number): FieldSpec => ({ kind: 'hex', bytes });
const optional = (s: FieldSpec): FieldSpec => ({ ...s, optional: true });

/** A field table for a request interface: every field named, none more. */
type FieldsOf<T> = { [K in keyof Required<T>]: FieldSpec };

/** Most customers a host-kept block lists (HOST_SEAL_BEGIN). */
export const MAX_BLOCK_CUSTOMERS = 200;

/**
 * The fields each request reads, by command type (none for STATUS, REBOOT, BATCH_END,
 * STATS_FLUSH, STATS_EXTRACT, HOST_SEAL_END, WITHDRAW). Ranges are the firmware's own checks;
 * where a field depends on others (FRANK's in batch mode, a postage a rate table lists) its
 * doc in the request interface says so.
 */
export const REQUEST_FIELDS: { readonly [type: number]: { readonly [name: string]: FieldSpec } } = {
  [Command.STATUS]: {} satisfies FieldsOf<StatusRequest>,
  [Command.ECHO]: { data: { kind: 'string' } } satisfies FieldsOf<EchoRequest>,
  [Command.REBOOT]: {},
  [Command.CLOCK]: { now: int(1, 8640000000000000) } satisfies FieldsOf<ClockRequest>,
  [Command.LOG]: { from: int(0, MAX_U32, { optional: true }) } satisfies FieldsOf<LogRequest>,
  [Command.PROVISION]: { device: int(1, MAX_U32), deviceKey: hex(32), kmsKey: hex(32), now: int(1, 8640000000000000, { optional: true }) } satisfies FieldsOf<ProvisionRequest>,
  [Command.FUNDS]: { counter: int(1, MAX_U32), amount: int(1, MAX_U48), mac: hex(32) } satisfies FieldsOf<FundsRequest>,
  [Command.BATCH_START]: {
    mode: { kind: 'enum', values: ['batch', 'dynamic'] },
    customer: int(1, MAX_U32),
    category: int(0, MAX_CATEGORIES - 1),
    weight: int(1, MAX_WEIGHT_G),
    postage: int(1, MAX_U32)
  } satisfies FieldsOf<BatchStartRequest>,
  [Command.BATCH_END]: {},
  [Command.FRANK]: {
    id: int(1, MAX_U32),
    count: int(1, MAX_PIECES_PER_FRANK, { optional: true }),
    customer: int(1, MAX_U32),
    category: int(0, MAX_CATEGORIES - 1),
    weight: int(1, MAX_WEIGHT_G),
    postage: int(1, MAX_U32),
    kind: optional({ kind: 'enum', values: ['zero', 'test'] })
  } satisfies FieldsOf<FrankRequest>,
  [Command.STATS_FLUSH]: {},
  [Command.STATS_LIST]: { tier: optional({ kind: 'enum', values: ['ram', 'flash'] }), from: int(0, MAX_U32, { optional: true }) } satisfies FieldsOf<StatsListRequest>,
  [Command.CONFIG]: {
    flushPeriodS: int(60, 2592000, { optional: true }),
    flushEveryPieces: int(1, 65535, { optional: true }),
    lowStoragePct: int(1, 90, { optional: true }),
    lockUntilConfirmed: optional({ kind: 'bool' }),
    foldWhenFull: optional({ kind: 'bool' }),
    recordsOnHost: optional({ kind: 'bool' }),
    perPiece: optional({ kind: 'bool' }),
    contactWarnS: int(3600, 31536000, { optional: true, session: true }),
    contactLockS: int(3600, 31536000, { optional: true, session: true }),
    clockBackS: int(0, 2592000, { optional: true, session: true }),
    clockForwardS: int(0, 2592000, { optional: true, session: true })
  } satisfies FieldsOf<ConfigRequest>,
  [Command.INDICIA]: { from: int(1, MAX_U32), count: int(1, INDICIA_PER_FRAME, { optional: true }) } satisfies FieldsOf<IndiciaRequest>,
  [Command.STATS_EXTRACT]: {},
  [Command.BLOCK_READ]: {
    seq: int(1, MAX_U32),
    headFrom: int(0, 65535, { optional: true }),
    from: int(0, 65535, { optional: true }),
    count: int(1, RECORDS_PER_FRAME, { optional: true })
  } satisfies FieldsOf<BlockReadRequest>,
  [Command.CONFIRM]: { seq: int(1, MAX_U32), mac: hex(32) } satisfies FieldsOf<ConfirmRequest>,
  [Command.HOST_SEAL_BEGIN]: {
    records: int(0, 65535),
    customers: { kind: 'intList', min: 1, max: MAX_U32, maxLength: MAX_BLOCK_CUSTOMERS }
  } satisfies FieldsOf<HostSealBeginRequest>,
  [Command.HOST_SEAL_RECORDS]: { from: int(0, 65535), records: { kind: 'hexList', bytes: RECORD_BYTES, maxLength: RECORDS_PER_FRAME } } satisfies FieldsOf<HostSealRecordsRequest>,
  [Command.HOST_SEAL_END]: {},
  [Command.REKEY]: { version: int(1, MAX_U32), deviceKey: hex(32), kmsKey: hex(32) } satisfies FieldsOf<RekeyRequest>,
  [Command.WITHDRAW]: {},
  [Command.RATES]: { table: { kind: 'hexAny' } } satisfies FieldsOf<RatesRequest>,
  [Command.AUDIT]: { seq: int(1, MAX_U32, { optional: true }), from: int(0, 65535, { optional: true }) } satisfies FieldsOf<AuditRequest>,
  [Command.SESSION_OPEN]: { nonce: hex(16) } satisfies FieldsOf<SessionOpenRequest>,
  [Command.SESSION]: { m: { kind: 'hexAny' } } satisfies FieldsOf<SessionRequest>
};

// ---- requests --------------------------------------------------------------------------

/** A request with no fields (STATUS, REBOOT, BATCH_END, STATS_FLUSH, STATS_EXTRACT,
 * HOST_SEAL_END, WITHDRAW). */
export type StatusRequest = Record<string, never>;
export interface EchoRequest {
  data: string;
}
export interface ClockRequest {
  /** the host's time, ms since the epoch */
  now: number;
}
export interface LogRequest {
  /** the first log sequence number wanted (default 0: the oldest held) */
  from?: number;
}
export interface ProvisionRequest {
  device: number;
  /** 32 bytes, hex: the key the device seals its blocks under */
  deviceKey: string;
  /** 32 bytes, hex: the key the KMS authenticates funds resets under */
  kmsKey: string;
  /** the KMS's time, ms since the epoch: the device's first trusted time (optional) */
  now?: number;
}
export interface AuditRequest {
  /** without it: make a new audit; with it: read on in that audit (the last one made) */
  seq?: number;
  /** byte offset to read from (default 0) */
  from?: number;
}
export interface FundsRequest {
  /** the funds counter: the device's own plus one */
  counter: number;
  /** minor units, at most 2^48 - 1 */
  amount: number;
  /** 32 bytes, hex: HMAC-SHA256 under the KMS key over protocol/auth.ts fundsMessage */
  mac: string;
}
export interface BatchStartRequest {
  mode: 'batch' | 'dynamic';
  customer: number;
  /** batch mode: the category of every piece (dynamic mode: each FRANK says) */
  category?: number;
  /** batch mode: grams */
  weight?: number;
  /** batch mode, minor units: needed where no rate table in force lists the category; one
   * that does must agree (RATE_MISMATCH) */
  postage?: number;
}
export interface FrankRequest {
  /** the host's id for this commit: a repeated id is answered again, never charged again */
  id: number;
  /** batch mode: pieces of this commit (default 1, at most MAX_PIECES_PER_FRANK); elsewhere 1 */
  count?: number;
  /** single mode (no batch open) */
  customer?: number;
  /** single and dynamic mode */
  category?: number;
  /** single and dynamic mode, grams */
  weight?: number;
  /** single and dynamic mode, minor units: as BatchStartRequest.postage; 0 or absent for a
   * zero-value piece or a test imprint */
  postage?: number;
  /** a zero-value piece (postage 0, counted apart) or a test imprint (no postage, no record);
   * not in batch mode */
  kind?: 'zero' | 'test';
}
export interface StatsListRequest {
  /** default 'flash' */
  tier?: 'ram' | 'flash';
  /** the first record wanted (default 0) */
  from?: number;
}
/** The settings: absent ones stay as they are ({} reads them). */
export interface ConfigRequest {
  /** seconds */
  flushPeriodS?: number;
  flushEveryPieces?: number;
  /** percent of free journal space below which STATUS says storage is low */
  lowStoragePct?: number;
  lockUntilConfirmed?: boolean;
  foldWhenFull?: boolean;
  recordsOnHost?: boolean;
  /** per-piece data: chain every indicium into the next sealed block (only before the first piece after a seal) */
  perPiece?: boolean;
  /** the data center's contact and clock rules, seconds: only inside a secure session */
  contactWarnS?: number;
  contactLockS?: number;
  clockBackS?: number;
  clockForwardS?: number;
}
export interface IndiciaRequest {
  /** a piece number of the last commit (1-based, as FrankAnswer.first) */
  from: number;
  /** default and most: INDICIA_PER_FRAME */
  count?: number;
}
export interface BlockReadRequest {
  /** the block awaiting confirmation */
  seq: number;
  /** a page of the head from this byte on (then from and count do not apply) */
  headFrom?: number;
  /** the first record wanted (default 0) */
  from?: number;
  /** default and most: RECORDS_PER_FRAME */
  count?: number;
}
export interface ConfirmRequest {
  seq: number;
  /** 32 bytes, hex: the PSS's confirmation, HMAC-SHA256 under the device key over
   * protocol/block.ts confirmMessage */
  mac: string;
}
export interface HostSealBeginRequest {
  /** records the host will send */
  records: number;
  /** the block's customers, ascending, at most MAX_BLOCK_CUSTOMERS */
  customers: number[];
}
export interface HostSealRecordsRequest {
  /** the index of the first record sent */
  from: number;
  /** RECORD_BYTES bytes each, hex */
  records: string[];
}
export interface RekeyRequest {
  /** the key version: the device's own plus one */
  version: number;
  deviceKey: string;
  kmsKey: string;
}
export interface RatesRequest {
  /** a rate table (protocol/rates.ts), hex */
  table: string;
}
export interface SessionOpenRequest {
  /** 16 bytes, hex: the PSS's nonce */
  nonce: string;
}
export interface SessionRequest {
  /** an inner command sealed under the session keys (protocol/session.ts), hex */
  m: string;
}

/** Each command's request and answer bodies, by command type. */
export interface Bodies {
  [Command.STATUS]: { request: StatusRequest; answer: StatusAnswer };
  [Command.ECHO]: { request: EchoRequest; answer: EchoAnswer };
  [Command.REBOOT]: { request: StatusRequest; answer: RebootAnswer };
  [Command.CLOCK]: { request: ClockRequest; answer: ClockAnswer };
  [Command.LOG]: { request: LogRequest; answer: LogAnswer };
  [Command.PROVISION]: { request: ProvisionRequest; answer: ProvisionAnswer };
  [Command.FUNDS]: { request: FundsRequest; answer: FundsAnswer };
  [Command.BATCH_START]: { request: BatchStartRequest; answer: BatchStartAnswer };
  [Command.BATCH_END]: { request: StatusRequest; answer: BatchEndAnswer };
  [Command.FRANK]: { request: FrankRequest; answer: FrankAnswer };
  [Command.STATS_FLUSH]: { request: StatusRequest; answer: StatsFlushAnswer };
  [Command.STATS_LIST]: { request: StatsListRequest; answer: StatsListAnswer };
  [Command.CONFIG]: { request: ConfigRequest; answer: ConfigAnswer };
  [Command.INDICIA]: { request: IndiciaRequest; answer: IndiciaAnswer };
  [Command.STATS_EXTRACT]: { request: StatusRequest; answer: SealedAnswer };
  [Command.BLOCK_READ]: { request: BlockReadRequest; answer: BlockReadAnswer };
  [Command.CONFIRM]: { request: ConfirmRequest; answer: ConfirmAnswer };
  [Command.HOST_SEAL_BEGIN]: { request: HostSealBeginRequest; answer: HostSealBeginAnswer };
  [Command.HOST_SEAL_RECORDS]: { request: HostSealRecordsRequest; answer: HostSealRecordsAnswer };
  [Command.HOST_SEAL_END]: { request: StatusRequest; answer: SealedAnswer };
  [Command.AUDIT]: { request: AuditRequest; answer: AuditAnswer };
  [Command.SESSION_OPEN]: { request: SessionOpenRequest; answer: SessionOpenAnswer };
  [Command.SESSION]: { request: SessionRequest; answer: SessionAnswer };
}

/** The request body of a command type (any object for a type not listed). */
export type RequestOf<T extends number> = T extends keyof Bodies ? Bodies[T]['request'] : object;
/** The answer body of a command type (any for a type not listed). */
export type AnswerOf<T extends number> = T extends keyof Bodies ? Bodies[T]['answer'] : any;

/** The requests firmware/core/psd.ts answers itself (resident). */
export type ResidentRequest = FrankRequest & IndiciaRequest & BatchStartRequest & EchoRequest;
/** The requests of the on-demand module psd.admin (firmware/ondemand/admin.ts). */
export type AdminRequest = ClockRequest & LogRequest & ProvisionRequest & FundsRequest & StatsListRequest & ConfigRequest;
/** The requests of the on-demand module psd.seal (firmware/ondemand/seal.ts). */
export type SealRequest = BlockReadRequest & ConfirmRequest & HostSealBeginRequest & HostSealRecordsRequest;
/** SESSION_OPEN and SESSION (firmware/ondemand/session.ts). */
export type SessionRequests = SessionOpenRequest & SessionRequest;
/** The inner commands only a session carries (firmware/ondemand/session.ts). */
export type SessionOnlyRequest = RekeyRequest & RatesRequest;
/** Every request's fields: what the firmware's dispatch passes on to its handlers. */
export type AnyRequest = ResidentRequest & AdminRequest & SealRequest & SessionRequests;

/**
 * A request as the firmware receives it: the fields are named, but what they hold comes from
 * the wire and is whatever the sender put there, until the firmware's checks
 * (firmware/core/args.ts) have read it.
 */
export type Received<T> = { [K in keyof T]?: any };
