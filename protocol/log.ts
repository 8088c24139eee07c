// The device log: what a PSD notes about itself (firmware/core/psd.ts keeps the last
// LOG_ENTRIES in RAM; LOG reads them). Codes are numbers on the device (the build puts
// them in place, as for Command and ErrorCode); the host names them with LogEventName.
export var LogEvent = {
  /** the PSD started; detail: the reset cause */
  BOOT: 1,
  /** the PSD is locked; detail: the lock code and why */
  LOCKED: 2,
  /** a request was refused or failed; detail: the request type, the error code and detail */
  REFUSED: 3,
  /** a checkpoint rewrote the live state so older flash pages can be reclaimed */
  CHECKPOINT: 4,
  /** records of one customer and category folded into a summary record */
  FOLD: 5,
  /** the tamper input fired: keys erased */
  TAMPER: 6,
  /** the power-on self-tests ran; detail: passed, or which failed */
  SELF_TEST: 7,
  /** an authenticated contact with the data center; detail: what it was, and the trusted time if it set one */
  CONTACT: 8,
  /** a rate table loaded; detail: its version and effective date */
  RATES: 9
};

export var LogEventName: { [code: number]: string } = {
  1: 'BOOT',
  2: 'LOCKED',
  3: 'REFUSED',
  4: 'CHECKPOINT',
  5: 'FOLD',
  6: 'TAMPER',
  7: 'SELF-TEST',
  8: 'CONTACT',
  9: 'RATES'
};

/** Entries the device keeps (the oldest go first). */
export var LOG_ENTRIES = 16;
/** Characters of detail the device keeps per entry. */
export var LOG_DETAIL_CHARS = 60;
