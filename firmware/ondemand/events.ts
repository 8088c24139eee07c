// The coded event ring in flash (protocol/audit.ts AuditEvent): what an auditor wants to see
// (self-test, tamper, rekey, uploads confirmed, rate tables, clock moves, funds resets,
// withdrawal, a contact lock-out released), each written through the journal, so a power cut
// keeps it or loses it whole. The ledger holds the whole event state in one byte string
// (L.events: protocol/audit.ts EVENT_STATE_HEAD, then the ring), rewritten at checkpoints.
// Shared by the on-demand modules that note events; not resident.
import { Entry } from '../core/entries.ts';
import { Ledger } from '../core/ledger.ts';
import { u32, readU32 } from '../../protocol/bytes.ts';
import { EVENT_BYTES, EVENT_RING, EVENT_CODES, EVENT_STATE_HEAD } from '../../protocol/audit.ts';

/** The event state of a device that noted nothing yet. */
function blank(): string {
  var s = '';
  while (s.length < EVENT_STATE_HEAD) s += '\0\0\0\0';
  return s;
}

/** Notes an event (a provisioned device only; skipped when the journal has no room, which the
 * counters then do not show either). `detail` is a signed or unsigned 32-bit number. */
export function event(L: Ledger, code: number, detail: number): void {
  if (!L.device || !L.room([EVENT_BYTES])) return;
  var d = String.fromCharCode(code) + u32(L.seconds()) + u32(detail > 2147483647 ? 2147483647 : detail < -2147483648 ? -2147483648 : detail);
  L.journal.append(Entry.EVENT, d);
  applyEvent(L, d);
}

/** EVENT record: counted under its code and put in the ring (the oldest drops out). */
export function applyEvent(L: Ledger, d: string): void {
  var s = L.events || blank();
  var code = d.charCodeAt(0);
  if (code < 1 || code > EVENT_CODES) return;
  var at = 4 + 4 * code;
  var ring = s.substr(EVENT_STATE_HEAD) + d;
  if (ring.length > EVENT_RING * EVENT_BYTES) ring = ring.substr(ring.length - EVENT_RING * EVENT_BYTES);
  L.events = s.substr(0, 4) + u32(readU32(s, 4) + 1) + s.substr(8, at - 8) + u32(readU32(s, at) + 1) + s.substr(at + 4, EVENT_STATE_HEAD - at - 4) + ring;
}

/** AUDIT record: the number of the audit made. */
export function applyAudit(L: Ledger, d: string): void {
  L.events = d.substr(0, 4) + (L.events || blank()).substr(4);
}
