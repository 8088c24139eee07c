// Messages the KMS authenticates for a device (HMAC-SHA256 under the KMS key the device got
// at provisioning). Built here once for the device, the KMS and the tests.
import { u32, u48 } from './bytes.ts';

/** A funds reset: `counter` is the device's funds counter + 1, so a replay is refused. */
export function fundsMessage(device: number, counter: number, amount: number): string {
  return 'FUNDS' + u32(device) + u32(counter) + u48(amount);
}
