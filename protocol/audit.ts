// The device audit (issue 12 item 5): at every contact the PSD answers AUDIT with a sealed
// statement of its registers, counters and coded events, numbered 1, 2, 3... so the PSS can
// see one go missing. The coded events are kept in flash (firmware/ondemand/events.ts), a
// small ring of the last EVENT_RING, with a counter per code that never resets.
//
// Audit body (big-endian; ES5-safe, used by the firmware and the PSS):
//   off size
//   0   1   version (1)
//   1   1   algorithm of the seal: 1 HMAC-SHA256, 2 Ed25519 (protocol/block.ts SEAL_*)
//   2   4   device
//   6   4   audit sequence number (1, 2, 3...)
//   10  4   clock, seconds since 1970 (0: not set)
//   14  4   the device's running time, seconds since provisioning
//   18  6   ascending register AR      24  6  descending register DR
//   30  6   funds loaded (the control total AR + DR must equal it)
//   36  4   funds counter (the last funds reset taken)
//   40  4   piece counter              44  4  zero-value pieces        48  4  test imprints
//   52  4   last block sealed          56  4  last block confirmed
//   60  4   clock at the last contact  64  4  seconds since the last contact
//   68  2   key version                70  2  rate table version in force (0: none)
//   72  12  image build hash (ASCII)
//   84  4   events ever noted (the number of the newest event)
//   88  1   n codes, then n x u32 event counters (code 1..n)
//   .   1   k events, then k x EVENT_BYTES: every event the ring holds, oldest first (the PSS
//           keeps each once, by its number: an audit that never reached it loses no event
//           the next one still holds)
// followed by the seal: HMAC-SHA256 (32 bytes) under the device key, or Ed25519 (64 bytes)
// under the device's signing key, over AUDIT_DOMAIN + body.
import { u16, u32, u48, readU16, readU32, readU48 } from './bytes.ts';

/** Coded events an auditor wants (detail: a number, as below). The device keeps them in flash. */
export var AuditEvent = {
  /** power-on self-tests; detail 0 passed, 1 failed (the PSD locks) */
  SELF_TEST: 1,
  /** the tamper input fired: keys erased, locked for good */
  TAMPER: 2,
  /** new device and KMS keys from the KMS; detail: the key version */
  REKEY: 3,
  /** the data center confirmed a block (an upload); detail: the block number */
  UPLOAD: 4,
  /** a rate table loaded; detail: its version */
  RATES: 5,
  /** the host moved the clock more than CLOCK_EVENT_S from the device's time; detail: seconds moved (signed) */
  CLOCK: 6,
  /** the data center's trusted time moved the clock more than CLOCK_EVENT_S; detail: seconds moved (signed) */
  TRUSTED_TIME: 7,
  /** a funds reset (remote meter setting); detail: the funds counter */
  FUNDS: 8,
  /** withdrawn from service: keys erased */
  WITHDRAW: 9,
  /** a contact released a contact lock-out; detail: hours since the previous contact */
  UNLOCK: 10
};

export var AuditEventName: { [code: number]: string } = {
  1: 'SELF-TEST',
  2: 'TAMPER',
  3: 'REKEY',
  4: 'UPLOAD',
  5: 'RATES',
  6: 'CLOCK',
  7: 'TRUSTED-TIME',
  8: 'FUNDS',
  9: 'WITHDRAW',
  10: 'UNLOCK'
};

/** Event codes, 1..EVENT_CODES (each has a counter). */
export var EVENT_CODES = 10;
/** One event: code u8 | clock u32 (seconds since 1970, 0: not set) | detail u32. */
export var EVENT_BYTES = 9;
/** Events the PSD keeps in flash (the newest). */
export var EVENT_RING = 24;
/** A clock change smaller than this is drift, not an event, seconds. */
export var CLOCK_EVENT_S = 300;
/** The PSD's event state in its journal (firmware/ondemand/events.ts): the last audit's
 * sequence number u32 | events ever u32 | EVENT_CODES x u32 counters | the ring. */
export var EVENT_STATE_HEAD = 8 + 4 * EVENT_CODES;

export var AUDIT_VERSION = 1;
export var AUDIT_HEAD_BYTES = 88;
/** Bytes of a sealed audit per AUDIT answer (hex on the wire; fits a session message). */
export var AUDIT_PAGE = 128;
/** Largest sealed audit: head, counters, a full ring and an Ed25519 signature. */
export var MAX_AUDIT_BYTES = AUDIT_HEAD_BYTES + 2 + 4 * EVENT_CODES + EVENT_RING * EVENT_BYTES + 64;

export interface AuditEventRecord {
  /** 1 for the first event the device ever noted */
  number: number;
  code: number;
  time: number;
  detail: number;
}

export interface Audit {
  algorithm: number;
  device: number;
  seq: number;
  time: number;
  elapsed: number;
  ascending: number;
  descending: number;
  fundsTotal: number;
  fundsCounter: number;
  pieces: number;
  zeroPieces: number;
  testPieces: number;
  blockSeq: number;
  confirmedSeq: number;
  contactClock: number;
  contactAgeS: number;
  keyVersion: number;
  rateVersion: number;
  buildHash: string;
  eventCount: number;
  /** counters[i] counts code i + 1 */
  counters: number[];
  events: AuditEventRecord[];
}

/** The message a seal covers. */
export function auditMessage(body: string): string {
  return 'PSD-AUDIT' + body;
}

/** The audit body (no seal). `eventBytes` is the ring's bytes of the events it carries. */
export function encodeAuditBody(a: Audit, counterBytes: string, eventBytes: string): string {
  var hash = (a.buildHash + '            ').substr(0, 12);
  return (
    String.fromCharCode(AUDIT_VERSION, a.algorithm) + u32(a.device) + u32(a.seq) + u32(a.time) + u32(a.elapsed) +
    u48(a.ascending) + u48(a.descending) + u48(a.fundsTotal) + u32(a.fundsCounter) +
    u32(a.pieces) + u32(a.zeroPieces) + u32(a.testPieces) + u32(a.blockSeq) + u32(a.confirmedSeq) +
    u32(a.contactClock) + u32(a.contactAgeS) + u16(a.keyVersion) + u16(a.rateVersion) + hash + u32(a.eventCount) +
    String.fromCharCode(counterBytes.length / 4) + counterBytes + String.fromCharCode(eventBytes.length / EVENT_BYTES) + eventBytes
  );
}

/** A sealed audit read back: fields, the body the seal covers and the seal. Throws on a
 * malformed one. */
export function decodeAudit(s: string): { audit: Audit; body: string; seal: string } {
  if (s.length < AUDIT_HEAD_BYTES + 2 || s.charCodeAt(0) !== AUDIT_VERSION) throw new Error('not an audit (version ' + s.charCodeAt(0) + ', ' + s.length + ' bytes)');
  var nCodes = s.charCodeAt(AUDIT_HEAD_BYTES);
  var at = AUDIT_HEAD_BYTES + 1;
  var counters: number[] = [];
  for (var i = 0; i < nCodes; i++) counters.push(readU32(s, at + 4 * i));
  at += 4 * nCodes;
  var nEvents = s.charCodeAt(at);
  at += 1;
  var eventCount = readU32(s, 84);
  var events: AuditEventRecord[] = [];
  for (var k = 0; k < nEvents; k++) {
    var e = at + k * EVENT_BYTES;
    events.push({ number: eventCount - nEvents + 1 + k, code: s.charCodeAt(e), time: readU32(s, e + 1), detail: readU32(s, e + 5) | 0 });
  }
  at += nEvents * EVENT_BYTES;
  var algorithm = s.charCodeAt(1);
  var sealLength = algorithm === 2 ? 64 : 32;
  if (s.length !== at + sealLength) throw new Error('audit of ' + s.length + ' bytes, its fields and seal take ' + (at + sealLength));
  return {
    audit: {
      algorithm: algorithm,
      device: readU32(s, 2),
      seq: readU32(s, 6),
      time: readU32(s, 10),
      elapsed: readU32(s, 14),
      ascending: readU48(s, 18),
      descending: readU48(s, 24),
      fundsTotal: readU48(s, 30),
      fundsCounter: readU32(s, 36),
      pieces: readU32(s, 40),
      zeroPieces: readU32(s, 44),
      testPieces: readU32(s, 48),
      blockSeq: readU32(s, 52),
      confirmedSeq: readU32(s, 56),
      contactClock: readU32(s, 60),
      contactAgeS: readU32(s, 64),
      keyVersion: readU16(s, 68),
      rateVersion: readU16(s, 70),
      buildHash: trimmed(s.substr(72, 12)),
      eventCount: eventCount,
      counters: counters,
      events: events
    },
    body: s.substr(0, at),
    seal: s.substr(at)
  };
}

function trimmed(s: string): string {
  var end = s.length;
  while (end > 0 && s.charAt(end - 1) === ' ') end--;
  return s.substr(0, end);
}
