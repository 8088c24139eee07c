// Message types. A response has the request's type | RESPONSE_FLAG; an error has ERROR_TYPE.
export var Command = {
  STATUS: 0x01,
  ECHO: 0x02,
  REBOOT: 0x03,
  CLOCK: 0x04,
  /** the device log (protocol/log.ts): entries from a sequence number on */
  LOG: 0x05,
  BATCH_START: 0x10,
  BATCH_END: 0x11,
  FRANK: 0x12,
  STATS_FLUSH: 0x13,
  STATS_LIST: 0x14,
  FUNDS: 0x15,
  CONFIG: 0x16,
  INDICIA: 0x17,
  /** seal the flash records into a block (or return the one awaiting confirmation) */
  STATS_EXTRACT: 0x18,
  /** records of the sealed block, RECORDS_PER_FRAME at a time */
  BLOCK_READ: 0x19,
  /** the PSS's confirmation of a block: only then are its records freed */
  CONFIRM: 0x1a,
  /** records kept on the host (claim 10): begin a seal, feed the records, seal */
  HOST_SEAL_BEGIN: 0x1b,
  HOST_SEAL_RECORDS: 0x1c,
  HOST_SEAL_END: 0x1d,
  PROVISION: 0x20,
  /** new device and KMS keys from the KMS: only inside a secure session */
  REKEY: 0x21,
  /** withdrawal from service, asked by the data center: only inside a secure session */
  WITHDRAW: 0x22,
  /** a rate table from the data center: only inside a secure session */
  RATES: 0x23,
  /** the device audit (protocol/audit.ts): {} makes a new one, {seq, from} reads it on */
  AUDIT: 0x24,
  /** secure session with the PSS: key agreement, then encrypted inner commands */
  SESSION_OPEN: 0x30,
  SESSION: 0x31
} as const;

export var CommandName: { [type: number]: string } = {
  0x01: 'status',
  0x02: 'echo',
  0x03: 'reboot',
  0x04: 'clock',
  0x05: 'log',
  0x10: 'batch start',
  0x11: 'batch end',
  0x12: 'frank',
  0x13: 'stats flush',
  0x14: 'stats list',
  0x15: 'funds',
  0x16: 'config',
  0x17: 'indicia',
  0x18: 'stats extract',
  0x19: 'block read',
  0x1a: 'confirm',
  0x1b: 'host seal begin',
  0x1c: 'host seal records',
  0x1d: 'host seal end',
  0x20: 'provision',
  0x21: 'rekey',
  0x22: 'withdraw',
  0x23: 'rates',
  0x24: 'audit',
  0x30: 'session open',
  0x31: 'session'
};

/** Most indicia one answer carries (each is 84 hex chars; a frame holds 1,012 payload bytes). */
export var INDICIA_PER_FRAME = 8;
/** Most records one `stats list` answer carries (48 hex chars each). */
export var RECORDS_PER_FRAME = 16;
/** Most pieces one batch-mode `frank` request may commit. */
export var MAX_PIECES_PER_FRANK = 1000;
