// The data center's errors: a stable string code and a message for people. On the TCP wire
// an error answer is {code, message}; the CLI prints `pss: CODE: message` and exits 1.
export const PssErrorCode = {
  /** bytes that are not a frame: no sync, bad CRC */
  BAD_FRAME: 'BAD_FRAME',
  /** a frame or an upload larger than the service takes */
  OVERSIZE: 'OVERSIZE',
  /** a frame of another protocol version */
  VERSION: 'VERSION',
  /** the payload is not a JSON object */
  BAD_PAYLOAD: 'BAD_PAYLOAD',
  /** a request type the service does not know */
  UNKNOWN_REQUEST: 'UNKNOWN_REQUEST',
  /** a field missing, of the wrong type or out of range */
  BAD_ARGUMENT: 'BAD_ARGUMENT',
  /** the bytes are not a statistics block (magic, lengths, algorithm) */
  BAD_BLOCK: 'BAD_BLOCK',
  UNKNOWN_DEVICE: 'UNKNOWN_DEVICE',
  REVOKED: 'REVOKED',
  /** an Ed25519 device without a certified public key, or a certificate for an HMAC board */
  NO_CERTIFICATE: 'NO_CERTIFICATE',
  /** the block's seal algorithm is not the one the device was registered with */
  WRONG_ALGORITHM: 'WRONG_ALGORITHM',
  BAD_SEAL: 'BAD_SEAL',
  /** registers, sums, customers or times do not add up */
  IMPLAUSIBLE: 'IMPLAUSIBLE',
  /** a block number already stored, with other contents */
  REPLAY: 'REPLAY',
  /** a block number beyond the next expected one */
  GAP: 'GAP',
  /** per-piece data: the host's list of a block's pieces is missing, or does not give the
   * block's chain or its records (a piece dropped, added or altered) */
  PIECES: 'PIECES',
  /** a device already certified with another public key */
  CERTIFIED: 'CERTIFIED',
  /** the secure session: out of order, failed, or the PSD refused */
  SESSION: 'SESSION',
  /** an operator or auditor request without a valid credential of a role that may make it */
  NOT_AUTHORISED: 'NOT_AUTHORISED',
  /** a funds reset beyond the balance of the device's customer account */
  BALANCE: 'BALANCE',
  /** a funds reset for a device that belongs to no customer account */
  NO_ACCOUNT: 'NO_ACCOUNT',
  /** an account number that does not exist */
  UNKNOWN_ACCOUNT: 'UNKNOWN_ACCOUNT',
  /** the database could not be written; nothing was changed */
  STORAGE: 'STORAGE',
  /** another process holds the data directory's write lock too long */
  BUSY: 'BUSY',
  INTERNAL: 'INTERNAL'
} as const;

export type PssErrorCodeName = (typeof PssErrorCode)[keyof typeof PssErrorCode];

export class PssError extends Error {
  constructor(
    public code: PssErrorCodeName,
    message: string
  ) {
    super(message);
    this.name = 'PssError';
  }
  toJSON() {
    return { code: this.code, message: this.message };
  }
}

export function isPssError(e: unknown): e is PssError {
  return e instanceof PssError;
}
