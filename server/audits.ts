// Device audits at the PSS (protocol/audit.ts): each contact brings one, sealed by the PSD.
// The PSS verifies the seal, stores the audit and the coded events it carries, and checks it
// against the previous audit of the device, the funds resets the KMS issued and the
// statistics blocks it holds. A break is stored as a flag (table audit_flags) and shown by
// `pss audits` and `pss events`: never dropped, never a reason to refuse the audit itself (the
// audit is evidence, most of all when it does not add up). A forged, malformed or replayed
// audit is refused (rejections table) and changes nothing else.
import { decodeAudit, auditMessage, AuditEventName, type Audit } from '../protocol/audit.ts';
import { SEAL_HMAC, SEAL_ED25519 } from '../protocol/block.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { hexToString, toBytes, fromBytes } from './bytestrings.ts';
import { sameBytes } from './hashes.ts';
import type { SealPrimitives } from './verify.ts';
import type { PssStore, Row } from './store.ts';
import type { Kms, DeviceRow } from './kms.ts';

/** One break in the continuity of a device's audits. */
export interface AuditFlag {
  /** 'audit-gap' | 'registers-back' | 'control-total' | 'events-lost' | 'blocks' | 'time-back' */
  kind: string;
  detail: string;
}

export interface AuditOutcome {
  device: number;
  seq: number;
  /** false: the PSS had this very audit already (a repeated upload) */
  stored: boolean;
  /** the breaks this audit shows (stored with it) */
  flags: AuditFlag[];
  /** events it carried that the PSS did not have */
  newEvents: number;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A refusal: recorded in the rejections table (the caller's transaction commits it) and
 * returned for the caller to throw after the commit. */
function reject(store: PssStore, code: 'BAD_BLOCK' | 'UNKNOWN_DEVICE' | 'REVOKED' | 'WRONG_ALGORITHM' | 'NO_CERTIFICATE' | 'BAD_SEAL' | 'REPLAY', reason: string, device?: number, seq?: number): { refused: PssError } {
  store.run('INSERT INTO rejections(at, device, seq, code, reason) VALUES (?, ?, ?, ?, ?)', [now(), device ?? null, seq ?? null, code, 'audit: ' + reason]);
  return { refused: new PssError(code, reason) };
}

/** The continuity checks: what this audit shows against the previous one and the PSS's books. */
export function continuity(store: PssStore, a: Audit, previous: Row | undefined): AuditFlag[] {
  const flags: AuditFlag[] = [];
  const prevSeq = previous ? Number(previous.seq) : 0;
  if (a.seq > prevSeq + 1) flags.push({ kind: 'audit-gap', detail: `audit ${a.seq} follows ${prevSeq ? 'audit ' + prevSeq : 'none'}: audit${a.seq - prevSeq > 2 ? 's ' + (prevSeq + 1) + '..' + (a.seq - 1) : ' ' + (prevSeq + 1)} never reached the PSS` });
  if (previous) {
    const back: string[] = [];
    const compare = (name: string, now: number, before: unknown) => {
      if (now < Number(before)) back.push(`${name} ${before} -> ${now}`);
    };
    compare('AR', a.ascending, previous.ascending);
    compare('funds loaded', a.fundsTotal, previous.funds_total);
    compare('pieces', a.pieces, previous.pieces);
    compare('zero-value pieces', a.zeroPieces, previous.zero_pieces);
    compare('test imprints', a.testPieces, previous.test_pieces);
    compare('events', a.eventCount, previous.event_count);
    compare('block', a.blockSeq, previous.block_seq);
    const before = JSON.parse(String(previous.counters)) as number[];
    a.counters.forEach((n, i) => compare(`${AuditEventName[i + 1] ?? 'code ' + (i + 1)} events`, n, before[i] ?? 0));
    if (back.length) flags.push({ kind: 'registers-back', detail: `went back since audit ${prevSeq}: ${back.join(', ')}` });
    if (a.elapsed < Number(previous.elapsed)) flags.push({ kind: 'time-back', detail: `running time ${a.elapsed} s is before audit ${prevSeq}'s ${previous.elapsed} s` });
    const firstCarried = a.eventCount - a.events.length + 1;
    if (a.eventCount > Number(previous.event_count) && firstCarried > Number(previous.event_count) + 1)
      flags.push({ kind: 'events-lost', detail: `events ${Number(previous.event_count) + 1}..${firstCarried - 1} dropped out of the device's ring before this audit` });
  } else if (a.events.length && a.eventCount - a.events.length > 0) {
    flags.push({ kind: 'events-lost', detail: `events 1..${a.eventCount - a.events.length} are not in the first audit the PSS has` });
  }
  // the control total: AR + DR is every funds reset the device took, as the KMS issued them
  const issued = store.get<{ n: number | null; total: number | null }>('SELECT COUNT(*) AS n, SUM(amount) AS total FROM funds_resets WHERE device = ? AND counter <= ?', [a.device, a.fundsCounter])!;
  const issuedTotal = Number(issued.total ?? 0);
  if (a.ascending + a.descending !== a.fundsTotal) flags.push({ kind: 'control-total', detail: `AR ${a.ascending} + DR ${a.descending} = ${a.ascending + a.descending}, the device's funds loaded ${a.fundsTotal}` });
  else if (a.fundsTotal !== issuedTotal || Number(issued.n) !== a.fundsCounter)
    flags.push({ kind: 'control-total', detail: `AR + DR = ${a.fundsTotal} over ${a.fundsCounter} funds resets; the KMS issued ${issuedTotal} in ${issued.n} resets up to that counter` });
  // the statistics: the device's registers are at least those of the last block it sealed
  const last = store.get<{ seq: number; ascending: number; pieces: number }>('SELECT seq, ascending, pieces FROM blocks WHERE device = ? ORDER BY seq DESC LIMIT 1', [a.device]);
  const lastSeq = last ? Number(last.seq) : 0;
  if (a.confirmedSeq > lastSeq) flags.push({ kind: 'blocks', detail: `the device says block ${a.confirmedSeq} was confirmed; the PSS holds blocks up to ${lastSeq}` });
  const sealed = store.get<{ ascending: number; pieces: number }>('SELECT ascending, pieces FROM blocks WHERE device = ? AND seq = ?', [a.device, a.blockSeq]);
  if (sealed && (a.pieces < Number(sealed.pieces) || a.ascending < Number(sealed.ascending)))
    flags.push({ kind: 'blocks', detail: `pieces ${a.pieces} and AR ${a.ascending} are below block ${a.blockSeq}'s (${sealed.pieces}, ${sealed.ascending})` });
  if (lastSeq > a.blockSeq) flags.push({ kind: 'blocks', detail: `the PSS holds block ${lastSeq}; the device says it sealed up to ${a.blockSeq}` });
  return flags;
}

/**
 * Verifies, checks and stores one sealed audit (byte string), inside the caller's transaction.
 * A repeat of a stored audit answers its stored flags; a refusal is recorded and returned
 * (server/pss.ts throws it once the transaction has committed the record of it).
 */
export function recordAudit(store: PssStore, kms: Kms, prims: SealPrimitives, raw: string, via: string): AuditOutcome | { refused: PssError } {
  let decoded;
  try {
    decoded = decodeAudit(raw);
  } catch (e) {
    return reject(store, 'BAD_BLOCK', 'not an audit: ' + (e as Error).message);
  }
  const a = decoded.audit;
  const row = store.get<DeviceRow>('SELECT status, seal, public_key, key_version, pending_key_version FROM devices WHERE device = ?', [a.device]);
  if (!row) return reject(store, 'UNKNOWN_DEVICE', `device ${a.device} is not registered`, a.device, a.seq);
  // a device being withdrawn still reports: its final audit comes with the session that withdraws it
  if (row.status !== 'active' && row.status !== 'withdrawing') return reject(store, 'REVOKED', `device ${a.device} was revoked`, a.device, a.seq);
  if (a.algorithm !== Number(row.seal)) return reject(store, 'WRONG_ALGORITHM', `audit sealed with algorithm ${a.algorithm}, device ${a.device} is registered with ${row.seal}`, a.device, a.seq);
  const message = auditMessage(decoded.body);
  if (a.algorithm === SEAL_HMAC) {
    const versions = [Number(row.key_version), row.pending_key_version == null ? -1 : Number(row.pending_key_version)];
    if (!versions.includes(a.keyVersion)) return reject(store, 'BAD_SEAL', `audit under key version ${a.keyVersion}; the KMS knows ${versions.filter((v) => v >= 0).join(' and ')}`, a.device, a.seq);
    if (!sameBytes(prims.hmacSha256(kms.deviceKey(a.device, a.keyVersion), message), decoded.seal)) return reject(store, 'BAD_SEAL', 'HMAC seal does not match the audit under the device key', a.device, a.seq);
  } else if (a.algorithm === SEAL_ED25519) {
    if (!row.public_key) return reject(store, 'NO_CERTIFICATE', `device ${a.device} has no certified public key`, a.device, a.seq);
    if (!prims.ed25519Verify(hexToString(row.public_key), message, decoded.seal)) return reject(store, 'BAD_SEAL', "Ed25519 seal does not verify under the device's certified key", a.device, a.seq);
  } else return reject(store, 'WRONG_ALGORITHM', `audit sealed with unknown algorithm ${a.algorithm}`, a.device, a.seq);

  if (a.seq === 0) return reject(store, 'BAD_BLOCK', 'audit number 0 (audits count from 1)', a.device, a.seq);
  const previous = store.get<Row>('SELECT * FROM audits WHERE device = ? ORDER BY seq DESC LIMIT 1', [a.device]);
  if (previous && a.seq <= Number(previous.seq)) {
    const same = store.get<{ raw: unknown }>('SELECT raw FROM audits WHERE device = ? AND seq = ?', [a.device, a.seq]);
    if (!same || !sameBytes(fromBytes(same.raw as Uint8Array), raw)) return reject(store, 'REPLAY', `audit ${a.seq} of device ${a.device} is ${same ? 'already stored with other contents' : 'older than audit ' + previous.seq}`, a.device, a.seq);
    const flags = store.all<AuditFlag>('SELECT kind, detail FROM audit_flags WHERE device = ? AND seq = ? ORDER BY kind', [a.device, a.seq]);
    return { device: a.device, seq: a.seq, stored: false, flags, newEvents: 0 };
  }
  const flags = continuity(store, a, previous);
  const at = now();
  store.run(
    'INSERT INTO audits(device, seq, clock, elapsed, ascending, descending, funds_total, funds_counter, pieces, zero_pieces, test_pieces, block_seq, confirmed_seq, contact_clock, contact_age, key_version, rate_version, build_hash, event_count, counters, raw, via, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [a.device, a.seq, a.time, a.elapsed, a.ascending, a.descending, a.fundsTotal, a.fundsCounter, a.pieces, a.zeroPieces, a.testPieces, a.blockSeq, a.confirmedSeq, a.contactClock, a.contactAgeS, a.keyVersion, a.rateVersion, a.buildHash, a.eventCount, JSON.stringify(a.counters), toBytes(raw), via, at]
  );
  const known = Number(store.get<{ n: number | null }>('SELECT MAX(number) AS n FROM audit_events WHERE device = ?', [a.device])!.n ?? 0);
  const fresh = a.events.filter((e) => e.number > known);
  store.runMany('INSERT INTO audit_events(device, number, code, clock, detail, audit_seq) VALUES (?, ?, ?, ?, ?, ?)', fresh.map((e) => [a.device, e.number, e.code, e.time, e.detail, a.seq]));
  store.runMany('INSERT INTO audit_flags(device, seq, kind, detail, at) VALUES (?, ?, ?, ?, ?)', flags.map((f) => [a.device, a.seq, f.kind, f.detail, at]));
  return { device: a.device, seq: a.seq, stored: true, flags, newEvents: fresh.length };
}

/** Rows for `pss events`: a device's coded events, oldest first (all devices without one). */
export function listEvents(store: PssStore, device?: number): { device: number; number: number; code: number; name: string; time: number; detail: number; auditSeq: number }[] {
  const rows = store.all<Row>(`SELECT device, number, code, clock, detail, audit_seq FROM audit_events${device === undefined ? '' : ' WHERE device = ?'} ORDER BY device, number`, device === undefined ? [] : [device]);
  return rows.map((r) => ({ device: Number(r.device), number: Number(r.number), code: Number(r.code), name: AuditEventName[Number(r.code)] ?? 'code ' + r.code, time: Number(r.clock), detail: Number(r.detail), auditSeq: Number(r.audit_seq) }));
}

export interface AuditListing {
  device: number;
  seq: number;
  time: number;
  via: string;
  ascending: number;
  descending: number;
  controlTotal: number;
  fundsTotal: number;
  pieces: number;
  zeroPieces: number;
  testPieces: number;
  blockSeq: number;
  keyVersion: number;
  rateVersion: number;
  buildHash: string;
  eventCount: number;
  counters: Record<string, number>;
  flags: AuditFlag[];
}

/** Rows for `pss audits`: every audit with its flags, oldest first. */
export function listAudits(store: PssStore, device?: number): AuditListing[] {
  const where = device === undefined ? '' : ' WHERE device = ?';
  const params = device === undefined ? [] : [device];
  const flags = store.all<Row>(`SELECT device, seq, kind, detail FROM audit_flags${where} ORDER BY device, seq, kind`, params);
  return store.all<Row>(`SELECT * FROM audits${where} ORDER BY device, seq`, params).map((r) => {
    const counters: Record<string, number> = {};
    (JSON.parse(String(r.counters)) as number[]).forEach((n, i) => {
      if (n) counters[AuditEventName[i + 1] ?? 'code ' + (i + 1)] = n;
    });
    return {
      device: Number(r.device),
      seq: Number(r.seq),
      time: Number(r.clock),
      via: String(r.via),
      ascending: Number(r.ascending),
      descending: Number(r.descending),
      controlTotal: Number(r.ascending) + Number(r.descending),
      fundsTotal: Number(r.funds_total),
      pieces: Number(r.pieces),
      zeroPieces: Number(r.zero_pieces),
      testPieces: Number(r.test_pieces),
      blockSeq: Number(r.block_seq),
      keyVersion: Number(r.key_version),
      rateVersion: Number(r.rate_version),
      buildHash: String(r.build_hash),
      eventCount: Number(r.event_count),
      counters,
      flags: flags.filter((f) => Number(f.device) === Number(r.device) && Number(f.seq) === Number(r.seq)).map((f) => ({ kind: String(f.kind), detail: String(f.detail) }))
    };
  });
}
