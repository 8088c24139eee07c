// Errors the host bridge reports: the protocol's code and message, plus a hint for people.
import { ErrorCode, ErrorMessage, HostErrorMessage } from '../protocol/errors.ts';

const HINTS: { [code: number]: string } = {
  [ErrorCode.NO_DEVICE]: 'check the cable and the port name (`psd ports` lists them), or start a virtual board with `psd sim`',
  [ErrorCode.NO_ANSWER]: 'the port opened but nothing answered: is the PSD firmware flashed and running on it? (a device that answered before and stopped may have run out of memory or crashed; under psd sim --real, the interpreter\'s console.log says what it printed)',
  [ErrorCode.WRONG_DEVICE]: 'something answered, but not in the PSD protocol (an Espruino REPL or another device?)',
  [ErrorCode.PORT_BUSY]: 'another program holds the port (a terminal, the Espruino IDE, another psd)',
  [ErrorCode.LINE_LOST]: 'the device went away mid-command; reconnect and run `psd status` to see what it committed',
  [ErrorCode.CRC]: 'the line corrupts frames: check the cable and baud rate',
  [ErrorCode.CONTACT_OVERDUE]: 'the PSD has not reached the data center for too long: `psd upload --session --pss <host:port>` (a contact) releases it; `psd status` shows how long',
  [ErrorCode.CLOCK_REFUSED]: 'the host may set the clock only near the PSD\'s own time and never back before its last entry; `psd upload --session` sets it from the data center (a wrong clock is corrected there, never by wiping the device)',
  [ErrorCode.WITHDRAWN]: 'this PSD was withdrawn from service at the data center: its keys are erased and it franks no more',
  [ErrorCode.CLOCK_NOT_SET]: 'psd sets it from the host clock before franking; set it by hand with `psd clock`'
};

export class PsdError extends Error {
  /** the data center's own code, when the PSS refused (protocol/pss-errors.ts) */
  pssCode?: string;
  /** what the command did before it failed (a session's report): with --json it goes in the
   * same document as the error, `{"error": ..., "result": ...}`, so a run prints one */
  result?: unknown;
  constructor(public code: number, detail?: string, public hint: string | undefined = HINTS[code]) {
    super((ErrorMessage[code] ?? HostErrorMessage[code] ?? PSS_REFUSAL_MESSAGE[code] ?? 'error ' + code) + (detail ? ': ' + detail : ''));
  }
  toJSON() {
    return { code: this.code, message: this.message, ...(this.pssCode ? { pssCode: this.pssCode } : {}), ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** The device's error answer: its code's message (protocol/errors.ts) and its detail. */
export function deviceError(body: { code?: unknown; detail?: unknown }): PsdError {
  const code = typeof body.code === 'number' ? body.code : ErrorCode.INTERNAL;
  return new PsdError(code, typeof body.detail === 'string' ? body.detail : undefined);
}

/**
 * The data center's refusals (protocol/pss-errors.ts codes) as the host reports them: each its own
 * number (110 and up, host-side only), message and hint, so `psd` says what the PSS refused
 * instead of an internal error. Codes of the way to the PSS (no PSS, no answer, line lost)
 * map to the host's own.
 */
export const PssRefusal: { [pssCode: string]: { code: number; message: string; hint?: string } } = {
  UNKNOWN_DEVICE: { code: 110, message: 'device not registered at the data center', hint: 'provision it with psd provision --kms, or check --pss' },
  REVOKED: { code: 111, message: 'device revoked at the data center', hint: 'its uploads, sessions and funds resets are refused; ask the operator' },
  REPLAY: { code: 112, message: 'the data center holds another block under this number (replay)', hint: 'the host store holds a block the PSS never confirmed: do not retry it; tell the operator' },
  GAP: { code: 113, message: 'blocks are missing before this one at the data center (sequence gap)', hint: 'upload the earlier blocks first (psd store list)' },
  BAD_SEAL: { code: 114, message: 'the block seal does not authenticate', hint: 'the block was altered, or the device holds other keys than the KMS' },
  NOT_AUTHORISED: { code: 115, message: 'not authorised by the data center', hint: 'operator requests (provision, funds) need an operator credential: PSS_CREDENTIALS=<file from pss credential>' },
  BALANCE: { code: 116, message: 'funds beyond the account balance', hint: 'deposit first (pss deposit), or load less' },
  NO_ACCOUNT: { code: 117, message: 'the device has no customer account at the data center', hint: 'pss account assign <device> --account <n>' },
  IMPLAUSIBLE: { code: 118, message: 'the block does not add up (registers, sums, customers or times)' },
  BAD_BLOCK: { code: 119, message: 'not a statistics block the data center reads' },
  WRONG_ALGORITHM: { code: 120, message: 'the block is sealed with another algorithm than the device was registered with' },
  NO_CERTIFICATE: { code: 121, message: 'no certified public key for this device at the data center' },
  CERTIFIED: { code: 122, message: 'the device is already certified with another public key' },
  SESSION: { code: 123, message: 'the secure session with the data center failed' },
  BAD_ARGUMENT: { code: 124, message: 'the data center refused an argument' },
  STORAGE: { code: 125, message: 'the data center could not store it (nothing changed)', hint: 'try again later' },
  BUSY: { code: 126, message: 'the data center is busy', hint: 'try again' },
  OTHER: { code: 127, message: 'refused by the data center' },
  PIECES: {
    code: 128,
    message: "the host's list of the block's pieces does not match the block (a piece dropped, added or altered)",
    hint: 'the PSD chains every indicium into its block (per-piece data): upload from the host store that received the pieces (psd store pieces <device> <seq> shows its list); do not edit it'
  }
};

const PSS_REFUSAL_MESSAGE: { [code: number]: string } = {};
for (const k in PssRefusal) PSS_REFUSAL_MESSAGE[PssRefusal[k].code] = PssRefusal[k].message;

/** `psd upload` exits with this when some blocks were stored and others refused (or not sent). */
export const EXIT_PARTLY_DONE = 3;

/** A transport code on the way to the PSS keeps the host's number, but not the device's words
 * ("serial line lost" over a TCP connection to the PSS): the PSS is named instead, once. */
function onTheWayToPss(err: PsdError, head: string, detail: string): PsdError {
  err.message = /\bPSS\b/.test(detail) ? detail : `${head}: ${detail}`;
  return err;
}

/** What the PSS client threw (PssClientError: {code, message}), as a PsdError with its own number;
 * `option` is the one that gave the address (--pss, or --kms for provision and funds). */
export function pssError(e: unknown, option = '--pss'): PsdError | unknown {
  if (e instanceof PsdError || !e || typeof e !== 'object' || typeof (e as { code?: unknown }).code !== 'string') return e;
  const { code, message } = e as { code: string; message: string };
  if (code === 'NO_PSS') return new PsdError(ErrorCode.NO_PSS, message, `start it with \`pss serve\` or check ${option}`);
  if (code === 'NO_ANSWER') return onTheWayToPss(new PsdError(ErrorCode.NO_ANSWER, message, 'the PSS did not answer: is it running and reachable?'), 'no answer from the PSS', message);
  if (code === 'LINE_LOST') return onTheWayToPss(new PsdError(ErrorCode.LINE_LOST, message, 'the connection to the PSS was lost; run the command again'), 'connection to the PSS lost', message);
  if (code === 'NOT_PSS') return onTheWayToPss(new PsdError(ErrorCode.WRONG_DEVICE, message, 'something answered at --pss, but not a PSS'), 'not a PSS at this address', message);
  if (code === 'NOT_PROVISIONED') return new PsdError(ErrorCode.NOT_PROVISIONED, message);
  // in a session the PSS relays the PSD's own refusal as PSD_<code>: that is the device's error
  const psd = /^PSD_(\d{1,3})$/.exec(code);
  if (psd) return new PsdError(Number(psd[1]), message);
  const r = PssRefusal[code] ?? PssRefusal.OTHER;
  const err = new PsdError(r.code, r === PssRefusal.OTHER ? `${code}: ${message}` : message, r.hint);
  err.pssCode = code;
  return err;
}
