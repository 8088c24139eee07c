// On-demand module psd.audit (firmware/core/modules.ts): the device audit of every contact
// (protocol/audit.ts). AUDIT {} makes a new one, numbered on from the last, sealed like a
// block (HMAC-SHA256 under the device key, or Ed25519 where the board signs) with its own
// domain, and answers its first AUDIT_PAGE bytes; AUDIT {seq, from} reads on. The number is
// in the journal before the audit leaves: an audit made and never delivered shows at the PSS
// as a gap in the numbers.
import { Command } from '../../protocol/commands.ts';
import { Entry } from '../core/entries.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { toHex, u32, readU32 } from '../../protocol/bytes.ts';
import { MAX_U32 } from '../../protocol/records.ts';
import { SEAL_HMAC, SEAL_ED25519 } from '../../protocol/block.ts';
import { encodeAuditBody, auditMessage, AUDIT_PAGE, EVENT_CODES, EVENT_STATE_HEAD } from '../../protocol/audit.ts';
import { tableInForce, rateVersion } from '../../protocol/rates.ts';
import { fail } from '../core/device.ts';
import { integer } from '../core/args.ts';
import { Ledger, Need } from '../core/ledger.ts';
import type { Psd } from '../core/psd.ts';
import { applyAudit } from './events.ts';
import { sealWithDeviceKey } from './sealing.ts';

/** Answers AUDIT (psd.ts routes it here): {seq, bytes, from, data (hex)}. */
export function handle(psd: Psd, type: number, req: any): any {
  if (type !== Command.AUDIT) fail(ErrorCode.UNKNOWN_COMMAND, '0x' + type.toString(16));
  var a = psd.audit;
  if (req.seq === undefined) a = psd.audit = makeAudit(psd);
  else if (!a || readU32(a, 6) !== integer(req.seq, 'seq', 1, MAX_U32)) fail(ErrorCode.NO_BLOCK, a ? 'audit ' + readU32(a, 6) + ' is the last one made' : 'no audit made since boot');
  var from = integer(req.from === undefined ? 0 : req.from, 'from', 0, a!.length);
  var answer = { seq: readU32(a!, 6), bytes: a!.length, from: from, data: toHex(a!.substr(from, AUDIT_PAGE)) };
  // read to the end: its variables are free again (a lost answer is repeated by the frame layer)
  if (from + AUDIT_PAGE >= a!.length) delete psd.audit;
  return answer;
}

function makeAudit(psd: Psd): string {
  var L = psd.ledger;
  L.need(Need.PROVISIONED);
  var s = L.events || '';
  while (s.length < EVENT_STATE_HEAD) s += '\0';
  var seq = readU32(s, 0) + 1;
  var table = tableInForce(L.rates, L.seconds());
  var body = encodeAuditBody(
    {
      algorithm: L.signKey ? SEAL_ED25519 : SEAL_HMAC,
      device: L.device,
      seq: seq,
      time: L.seconds(),
      elapsed: L.elapsed(),
      ascending: L.ascending,
      descending: L.descending,
      fundsTotal: L.fundsTotal,
      fundsCounter: L.fundsCounter,
      pieces: L.pieces,
      zeroPieces: L.zeroPieces,
      testPieces: L.testPieces,
      blockSeq: L.blockSeq,
      confirmedSeq: L.confirmedSeq,
      contactClock: L.contactClock,
      contactAgeS: L.contactAge(),
      keyVersion: L.keyVersion,
      rateVersion: table ? rateVersion(table) : 0,
      buildHash: psd.build().buildHash,
      eventCount: readU32(s, 4),
      counters: [],
      events: []
    },
    s.substr(8, 4 * EVENT_CODES),
    // the whole ring: an audit that never reached the PSS loses none of the events
    s.substr(EVENT_STATE_HEAD)
  );
  var data = u32(seq);
  L.needRoom([data.length]);
  L.journal.append(Entry.AUDIT, data);
  applyAudit(L, data);
  return body + sealWithDeviceKey(L, auditMessage(body));
}

