// The answer bodies of the commands (protocol/commands.ts), as the firmware builds them
// (firmware/core/psd.ts, firmware/ondemand/*): the host's client returns them
// (host-bridge/client.ts). protocol/bodies.ts has the requests and pairs the two by command.

/** The postal registers, minor units. */
export interface Registers {
  ascending: number;
  descending: number;
  pieces: number;
  /** ascending + descending: all funds ever loaded */
  controlTotal: number;
}
/** The batch open, as STATUS and BATCH_START say it. */
export interface BatchInfo {
  txn: number;
  customer: number;
  mode: 'single' | 'dynamic' | 'batch';
  category: number;
  weight: number;
  postage: number;
  pieces: number;
  /** seconds since the epoch, the device's clock */
  startedAt: number;
}
/** The device's settings as CONFIG answers them (the data center's rules included); the
 * firmware keeps them in this shape (firmware/core/ledger-entries.ts Config). */
export interface DeviceConfig {
  /** flush RAM records to flash at least this often, seconds */
  flushPeriodS: number;
  /** ... and every this many pieces */
  flushEveryPieces: number;
  /** storage-low flag below this percentage of free journal space */
  lowStoragePct: number;
  /** refuse franking while a sealed block awaits the data center's confirmation (the
   * seed's lock-out after extraction) */
  lockUntilConfirmed: boolean;
  /** when the record table or the flash would fill, fold a customer's records of one
   * category into a summary record (losing only their weight-band and postage breakdown)
   * instead of refusing to frank */
  foldWhenFull: boolean;
  /** the seed's alternative (claim 10): the host keeps the cumulative records and they pass
   * through the PSD only to be sealed; the PSD seals them only if they sum to its register
   * movement. Switched only while the PSD holds no records and no block awaits confirmation. */
  recordsOnHost: boolean;
  /** contact watchdog (set by the data center inside a session only): status warns after this
   * long without an authenticated contact, seconds ... */
  contactWarnS: number;
  /** ... and franking is refused after this long, until the next contact */
  contactLockS: number;
  /** the host may set the clock at most this far back from the device's own time (the last
   * trusted time plus the time the device has run since), seconds ... */
  clockBackS: number;
  /** ... and at most this far forward of it (forward dating) */
  clockForwardS: number;
  /** per-piece data (US IMI, Royal Mail Mailmark): every piece's indicium goes into a chain
   * the next sealed block carries, so the PSS can check the host's list of pieces. Switched
   * only while no piece was franked since the last seal. */
  perPiece: boolean;
}
/** The host's settings as STATUS shows them (perPiece only in CONFIG's answer). */
export type HostConfig = Pick<DeviceConfig, 'flushPeriodS' | 'flushEveryPieces' | 'lowStoragePct' | 'lockUntilConfirmed' | 'foldWhenFull' | 'recordsOnHost'>;

export interface StatusAnswer {
  /** 'PSD-<device>', or 'unprovisioned-<serial>' */
  deviceId: string;
  /** 0 until provisioned */
  device: number;
  board: string;
  hardware?: string;
  interpreter?: string;
  firmwareVersion: string;
  buildHash: string;
  /** seconds since boot */
  uptime: number;
  resetCause?: string;
  /** seconds since the epoch, 0 while the clock is not set */
  clock: number;
  registers: Registers;
  /** zero-value pieces and test imprints, when there are any */
  imprints?: { zeroValue: number; test: number };
  fundsCounter: number;
  storage: { used: number; free: number; total: number; low: boolean; records: number; summaryRecords: number; ramRecords: number; recordCapacity: number };
  batch: BatchInfo | null;
  block: { lastSealed: number; awaitingConfirmation: number; lastConfirmed: number; confirmedPieces: number; confirmedAscending: number };
  /** left out when the answer would not fit a frame: CONFIG {} reads it */
  config?: HostConfig;
  lock: { code: number; detail: string } | null;
  contact: { state: 'unprovisioned' | 'ok' | 'warning' | 'locked'; ageS: number; trustedTime?: number };
  /** the rate tables held: [version, effective from] each, and the version in force (0: none) */
  rates?: { inForce: number; held: number[][] };
  /** interpreter variables: in use now, in all, the peak since boot; null where the board cannot tell */
  memory?: { used: number; total: number; peak: number } | null;
  /** the front's frame counters */
  link?: Record<string, number>;
  /** the sections left out to fit a frame, in the order they went */
  omitted?: string[];
}
export interface EchoAnswer {
  data: string;
}
export interface RebootAnswer {
  rebooting: true;
}
export interface ClockAnswer {
  /** seconds since the epoch, as the device now counts */
  clock: number;
}
export interface LogEntry {
  seq: number;
  /** seconds since boot */
  uptime: number;
  /** seconds since the epoch, 0 before the clock was set */
  clock: number;
  /** protocol/log.ts LogEvent */
  code: number;
  detail: string;
}
export interface LogAnswer {
  entries: LogEntry[];
  /** the `from` of the next page */
  next: number;
  /** the newest entry's sequence number (0: none) */
  last: number;
}
export interface ProvisionAnswer {
  device: number;
  seal: 'ed25519' | 'hmac';
  /** the public half of the device's signing key, hex, for the KMS to certify (null: hmac) */
  publicKey: string | null;
}
export interface FundsAnswer {
  registers: Registers;
  fundsCounter: number;
}
export interface BatchStartAnswer {
  batch: BatchInfo;
  registers: Registers;
  txn: number;
}
export interface BatchEndAnswer {
  txn: number;
  pieces: number;
  /** records flushed to flash */
  flushed: number;
  registers: Registers;
}
export interface FrankAnswer {
  id: number;
  /** the first piece's number (1-based) */
  first: number;
  count: number;
  /** minor units charged (0 for a test imprint) */
  amount: number;
  /** the answer to a repeated id: nothing charged again */
  repeated: boolean;
  registers: Registers;
  /** the first INDICIA_PER_FRAME indicia, hex (INDICIA reads the rest) */
  indicia: string[];
  /** a test imprint */
  test?: true;
  /** past the contact warning: seconds until franking locks */
  contactLockInS?: number;
}
export interface StatsFlushAnswer {
  flushed: number;
  /** records in flash now */
  records: number;
}
export interface StatsListAnswer {
  tier: 'ram' | 'flash';
  total: number;
  from: number;
  /** RECORD_BYTES bytes each, hex */
  records: string[];
}
export interface ConfigAnswer {
  config: DeviceConfig;
}
export interface IndiciaAnswer {
  id: number;
  from: number;
  indicia: string[];
}
/** A sealed block, as STATS_EXTRACT and HOST_SEAL_END answer it. */
export interface SealedAnswer {
  seq: number;
  headBytes: number;
  recordCount: number;
  /** hex */
  digest: string;
  /** hex: the MAC or signature */
  seal: string;
  state: 'sent';
  /** STATS_EXTRACT: sealed now (false: the block that already awaited confirmation) */
  fresh?: boolean;
}
/** BLOCK_READ: a page of the head (headFrom asked) or of the records. */
export interface BlockReadAnswer {
  seq: number;
  headFrom?: number;
  headBytes?: number;
  /** hex */
  head?: string;
  from?: number;
  total?: number;
  /** hex, RECORD_BYTES bytes each */
  records?: string[];
}
export interface ConfirmAnswer {
  seq: number;
  /** the block was confirmed before: nothing changed */
  repeated: boolean;
  registers: Registers;
  records: number;
}
export interface HostSealBeginAnswer {
  /** the sequence number the block will have */
  seq: number;
}
export interface HostSealRecordsAnswer {
  received: number;
}
/** AUDIT: a page of the sealed audit (protocol/audit.ts) */
export interface AuditAnswer {
  seq: number;
  /** the whole sealed audit's length in bytes */
  bytes: number;
  from: number;
  /** hex: bytes from `from`, up to AUDIT_PAGE */
  data: string;
}
export interface SessionOpenAnswer {
  device: number;
  /** 16 bytes, hex: the device's nonce */
  nonce: string;
  keyVersion: number;
}
export interface SessionAnswer {
  /** the inner answer sealed under the session keys, hex */
  m: string;
}
