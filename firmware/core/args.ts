// Checks of request fields: the firmware validates what comes from the wire itself (hex
// fields: firmware/ondemand/hexarg.ts).
import { ErrorCode } from '../../protocol/errors.ts';
import { fail } from './device.ts';

/** v as an integer min..max, else BAD_ARGUMENT naming the field. */
export function integer(v: any, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || v !== Math.floor(v) || v < min || v > max) fail(ErrorCode.BAD_ARGUMENT, name + ' must be an integer ' + min + '..' + max);
  return v;
}
