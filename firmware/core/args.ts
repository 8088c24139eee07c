// Checks of request fields: the firmware validates what comes from the wire itself.
import { ErrorCode } from '../../protocol/errors.ts';
import { isHex, fromHex } from '../../protocol/bytes.ts';
import { fail } from './device.ts';

/** v as an integer min..max, else BAD_ARGUMENT naming the field. */
export function integer(v: any, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || v !== Math.floor(v) || v < min || v > max) fail(ErrorCode.BAD_ARGUMENT, name + ' must be an integer ' + min + '..' + max);
  return v;
}

/** v as `bytes` bytes given in hex (returned as a byte string), else BAD_ARGUMENT. */
export function hexBytes(v: any, name: string, bytes: number): string {
  if (!isHex(v, bytes)) fail(ErrorCode.BAD_ARGUMENT, name + ' must be ' + bytes + ' bytes of hex');
  return fromHex(v);
}
