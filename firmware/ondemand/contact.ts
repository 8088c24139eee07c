// What the data center does to a PSD that boot replays too: an authenticated contact (a
// confirmation, a funds reset, a session), from which the contact watchdog
// (firmware/core/ledger.ts contactAge) counts, and the withdrawal from service. Not
// resident: no piece needs it.
import { Entry } from '../core/entries.ts';
import { Ledger } from '../core/ledger.ts';
import { u32, readU32 } from '../../protocol/bytes.ts';
import { LogEvent } from '../../protocol/log.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { event } from './events.ts';
import { AuditEvent } from '../../protocol/audit.ts';

/** Notes a contact, with the data center's time when it brought one (seconds since 1970; 0:
 * none). Skipped when the journal has no room: the next contact after an upload notes it. */
export function contact(L: Ledger, trusted: number): void {
  if (!L.device || !L.room([9])) return;
  // a contact after the lock-out threshold releases it: an event
  var age = L.contactAge();
  if (age > L.config.contactLockS) event(L, AuditEvent.UNLOCK, Math.floor(age / 3600));
  var data = u32(L.elapsed()) + u32(trusted || L.seconds()) + String.fromCharCode(trusted ? 1 : 0);
  L.journal.append(Entry.CONTACT, data);
  applyContact(L, data);
  L.note(LogEvent.CONTACT, trusted ? 'trusted time ' + trusted : 'authenticated');
}

/** CONTACT record: u32 running time s | u32 clock s | u8 1 when the clock is the data center's. */
export function applyContact(L: Ledger, d: string): void {
  var at = readU32(d, 0);
  var clock = readU32(d, 4);
  L.setElapsed(at);
  L.contactElapsed = at;
  L.contactClock = clock;
  if (d.charCodeAt(8)) {
    // the data center's time wins over a clock the host set wrong, franked or not; what was
    // dated ahead of it (forward dating) ends here: the next block starts at this time, not
    // at a forward-dated block's end (the PSS takes that start: it gave this time), and the
    // flush period counts from it
    L.trustedTime = clock;
    L.trustedElapsed = at;
    if (L.lastTime > clock) L.lastTime = clock;
    if (L.blockFrom > clock) L.blockFrom = clock;
    if (L.lastFlushAt > clock) L.lastFlushAt = clock;
  }
}

/** Withdrawn (firmware/ondemand/store.ts withdraw): keys gone, franking over, for good. */
export function applyWithdraw(L: Ledger): void {
  L.deviceKey = L.kmsKey = L.signKey = '';
  L.withdrawn = true;
  L.lock = { code: ErrorCode.WITHDRAWN, detail: 'keys erased' };
}
