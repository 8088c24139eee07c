// Rate tables on the PSD (protocol/rates.ts): loaded only inside a secure session (the data
// center's), kept in the journal, rewritten at every checkpoint, replayed at boot. The PSD
// holds the last three: the table in force and the next ones, which switch on their
// effective date by themselves (firmware/core/psd.ts tariff).
import { Entry } from '../core/entries.ts';
import { Ledger, Need } from '../core/ledger.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { LogEvent } from '../../protocol/log.ts';
import { rateVersion, rateEffective } from '../../protocol/rates.ts';
import { fail } from '../core/device.ts';
import { event } from './events.ts';
import { AuditEvent } from '../../protocol/audit.ts';

/** Tables a PSD keeps. */
var HELD = 3;

/** Takes a table the data center sent (its shape checked by the caller); a table it holds
 * changes nothing, an older version than its newest is refused. */
export function loadRates(L: Ledger, t: string): void {
  L.need(Need.PROVISIONED);
  var last = L.rates.length ? L.rates[L.rates.length - 1] : '';
  // a table it holds already (a session brings the one in force and the newer ones each time)
  for (var i = 0; i < L.rates.length; i++) if (L.rates[i] === t) return;
  if (last && rateVersion(t) <= rateVersion(last)) fail(ErrorCode.REPLAY, 'rate table version ' + rateVersion(t) + ', the PSD holds ' + rateVersion(last));
  L.needRoom([t.length]);
  L.journal.append(Entry.RATES, t);
  applyRates(L, t);
  event(L, AuditEvent.RATES, rateVersion(t));
  L.note(LogEvent.RATES, 'version ' + rateVersion(t) + ' from ' + rateEffective(t));
}

export function applyRates(L: Ledger, t: string): void {
  L.rates.push(t);
  if (L.rates.length > HELD) L.rates.shift();
}
