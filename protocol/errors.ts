// Every error the device or the host bridge reports: a stable number and a short message.
// The firmware sends {code, message}; the host prints both and, where it helps, a hint.
export var ErrorCode = {
  CRC: 1,
  OVERSIZE: 2,
  VERSION: 3,
  UNKNOWN_COMMAND: 4,
  BAD_PAYLOAD: 5,
  BAD_ARGUMENT: 6,
  BUSY: 7,
  INTERNAL: 8,
  LOCKED: 16,
  NO_FUNDS: 17,
  STORAGE_FULL: 18,
  NO_BATCH: 19,
  BATCH_OPEN: 20,
  OVERFLOW: 21,
  AUTH: 22,
  REPLAY: 23,
  CATEGORY_LIMIT: 24,
  NOT_PROVISIONED: 25,
  PENDING_CONFIRMATION: 26,
  CLOCK_NOT_SET: 27,
  INCONSISTENT: 28,
  STORAGE_CORRUPT: 29,
  NO_BLOCK: 30,
  SELF_TEST: 31,
  TAMPER: 32,
  NO_SESSION: 33,
  BOOT_FAILED: 34,
  CONTACT_OVERDUE: 35,
  CLOCK_REFUSED: 36,
  WITHDRAWN: 37,
  RATE_MISMATCH: 38,
  // host-side only (never sent by a device)
  NO_DEVICE: 100,
  NO_ANSWER: 101,
  WRONG_DEVICE: 102,
  PORT_BUSY: 103,
  LINE_LOST: 104,
  STORE_DAMAGED: 105,
  NO_PSS: 106
};

export var ErrorMessage: { [code: number]: string } = {
  1: 'frame CRC mismatch',
  2: 'frame longer than 1024 bytes',
  3: 'unsupported protocol version',
  4: 'unknown command',
  5: 'payload is not valid JSON',
  6: 'bad argument',
  7: 'device busy',
  8: 'internal error',
  16: 'franking locked',
  17: 'insufficient funds',
  18: 'statistics storage full',
  19: 'no batch open',
  20: 'a batch is already open',
  21: 'register overflow',
  22: 'authentication failed',
  23: 'replayed message',
  24: 'too many cumulative records',
  25: 'device not provisioned',
  26: 'statistics await confirmation',
  27: 'device clock not set',
  28: 'registers and statistics disagree',
  29: 'statistics flash is corrupt',
  30: 'no such block awaiting confirmation',
  31: 'crypto self-test failed',
  32: 'tamper detected: keys erased',
  33: 'no secure session',
  34: 'the firmware could not start on this board',
  35: 'contact with the data center overdue',
  36: 'clock outside the window the data center allows',
  37: 'device withdrawn from service',
  38: 'postage differs from the rate table'
};

/** A device error as people read it: the code's message, then the device's detail. */
export function errorText(code: number, detail?: string): string {
  return (ErrorMessage[code] || HostErrorMessage[code] || 'error ' + code) + (detail ? ': ' + detail : '');
}

// Host-side messages live apart so the firmware image does not carry them.
export var HostErrorMessage: { [code: number]: string } = {
  100: 'no device at this port',
  101: 'no answer from the device',
  102: 'the device does not speak this protocol',
  103: 'port busy',
  104: 'serial line lost',
  105: 'host store file damaged or edited',
  106: 'no PSS at this address'
};
