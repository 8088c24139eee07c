// A check of hex request fields (keys, MACs, host records), for the on-demand modules that take
// them (a chunk of its own, psd.xhexarg): nothing on the franking path does.
import { ErrorCode } from '../../protocol/errors.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { isHex } from '../../protocol/is-hex.ts';
import { fail } from '../core/device.ts';

/** v as `bytes` bytes given in hex (returned as a byte string), else BAD_ARGUMENT. */
export function hexBytes(v: any, name: string, bytes: number): string {
  if (!isHex(v, bytes)) fail(ErrorCode.BAD_ARGUMENT, name + ' must be ' + bytes + ' bytes of hex');
  return fromHex(v);
}
