// `psd status` as people read it (host-bridge/cli.ts formatStatus), from STATUS answers the
// firmware gives: each line must say what holds for that device.
import { expect } from 'chai';
import { formatStatus } from '../host-bridge/cli.ts';

/** A fresh PSD's STATUS answer, as `npm run demo` printed it (--json) before provisioning. */
const fresh = {
  deviceId: 'unprovisioned-9765CD26-688E7EF5',
  board: 'pico',
  hardware: 'PICO_R1_3',
  interpreter: '2v29',
  firmwareVersion: '0.1.0',
  buildHash: '31f85c014dd0',
  uptime: 1,
  resetCause: 'first boot',
  clock: 0,
  registers: { ascending: 0, descending: 0, pieces: 0, controlTotal: 0 },
  storage: { used: 16, free: 32728, total: 32744, low: false, records: 0, ramRecords: 0, recordCapacity: 364 },
  batch: null,
  block: { lastSealed: 0, awaitingConfirmation: 0, lastConfirmed: 0 },
  lock: null,
  contact: { state: 'unprovisioned', ageS: 1 },
  memory: { used: 1941, total: 5100, peak: 1941 }
};

const line = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(key + ' '))!.slice(key.length).trim();

describe('psd status as people read it', () => {
  it('an unprovisioned PSD has had no data center contact: no "last contact 0.0 days ago"', () => {
    const contact = line(formatStatus(fresh), 'data center contact');
    expect(contact).not.to.match(/last contact/);
    expect(contact).to.equal('none yet: not provisioned (psd provision --kms makes the first contact)');
  });

  it('a provisioned PSD shows the age of its last contact and its trusted time', () => {
    const s = { ...fresh, deviceId: 'PSD-1001', contact: { state: 'ok', ageS: 3 * 86400, trustedTime: 1796084243 } };
    expect(line(formatStatus(s), 'data center contact')).to.equal('ok, last contact 3.0 days ago, trusted time 2026-12-01T00:17:23Z');
    const late = { ...s, contact: { state: 'warning', ageS: 95 * 86400 } };
    expect(line(formatStatus(late), 'data center contact')).to.match(/^WARNING: last contact 95\.0 days ago; .*, no trusted time yet$/);
  });
});
