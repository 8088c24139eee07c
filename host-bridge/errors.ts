// Errors the host bridge reports: the protocol's code and message, plus a hint for people.
import { ErrorCode, ErrorMessage, HostErrorMessage } from '../protocol/errors.ts';

const HINTS: { [code: number]: string } = {
  [ErrorCode.NO_DEVICE]: 'check the cable and the port name (`psd ports` lists them), or start a virtual board with `psd sim`',
  [ErrorCode.NO_ANSWER]: 'the port opened but nothing answered: is the PSD firmware flashed and running on it? (a device that answered before and stopped may have run out of memory or crashed; under psd sim --real, the interpreter\'s console.log says what it printed)',
  [ErrorCode.WRONG_DEVICE]: 'something answered, but not in the PSD protocol (an Espruino REPL or another device?)',
  [ErrorCode.PORT_BUSY]: 'another program holds the port (a terminal, the Espruino IDE, another psd)',
  [ErrorCode.LINE_LOST]: 'the device went away mid-command; reconnect and run `psd status` to see what it committed',
  [ErrorCode.CRC]: 'the line corrupts frames: check the cable and baud rate'
};

export class PsdError extends Error {
  constructor(public code: number, detail?: string, public hint: string | undefined = HINTS[code]) {
    super((ErrorMessage[code] ?? HostErrorMessage[code] ?? 'error ' + code) + (detail ? ': ' + detail : ''));
  }
  toJSON() {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** The device's error answer: its code's message (protocol/errors.ts) and its detail. */
export function deviceError(body: { code?: unknown; detail?: unknown }): PsdError {
  const code = typeof body.code === 'number' ? body.code : ErrorCode.INTERNAL;
  return new PsdError(code, typeof body.detail === 'string' ? body.detail : undefined);
}
