// A customer account that pays for a device's funds resets, for tests that load funds
// through the data center: opened, paid into and assigned to the device.
import type { DataCenter } from '../server/datacenter.ts';

export function payingAccount(dc: DataCenter, device: number, deposit = 100_000_000, name = 'test mail house'): number {
  const a = dc.kms.createAccount(name);
  dc.kms.deposit(a.account, deposit, 'test deposit');
  dc.kms.assignAccount(device, a.account);
  return a.account;
}
