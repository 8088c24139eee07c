// The PSS's side of the device audit (server/audits.ts): seal, continuity with the previous
// audit, the control total against the funds resets the KMS issued, the statistics blocks,
// events kept once, and refusals that change nothing but the rejections table. Audits are
// made here as a PSD makes them (protocol/audit.ts) under the KMS's device key; the built
// image's own audits are in test/audit-events.test.ts. Runs on PostgreSQL too
// (test/pss-postgres.test.ts).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { PssClient, PssClientError } from '../kit/pss-client.ts';
import { encodeAuditBody, auditMessage, EVENT_CODES, EVENT_RING, AuditEvent, type Audit } from '../protocol/audit.ts';
import { u32 } from '../protocol/bytes.ts';
import { hmacSha256 } from '../server/hashes.ts';
import { listAudits, listEvents } from '../server/audits.ts';
import { payingAccount } from '../testkit/pss-account.ts';

describe('PSS: device audits, continuity and flagged gaps', function () {
  this.timeout(30000);
  let dir: string;
  let dc: DataCenter;
  let device: number;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-audits-'));
    dc = await openDataCenter(path.join(dir, 'pss'));
    device = dc.kms.registerDevice('audit-serial', 'pico').device;
    payingAccount(dc, device);
    dc.kms.fundsReset(device, 10_000);
  });
  afterEach(() => {
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An audit as the PSD would make it: fields over a consistent default, events numbered on. */
  function audit(over: Partial<Omit<Audit, 'events'>> & { events?: [number, number][] } = {}): string {
    const counters = new Array(EVENT_CODES).fill(0);
    const events = over.events ?? [];
    for (const [code] of events) counters[code - 1]++;
    const a: Audit = {
      algorithm: 1, device, seq: 1, time: 1_800_000_000, elapsed: 100, ascending: 0, descending: 10_000, fundsTotal: 10_000, fundsCounter: 1,
      pieces: 0, zeroPieces: 0, testPieces: 0, blockSeq: 0, confirmedSeq: 0, contactClock: 1_800_000_000, contactAgeS: 10, keyVersion: 0, rateVersion: 0,
      buildHash: 'abcdef012345', eventCount: events.length, counters: [], ...over, events: []
    } as Audit;
    const ring = events.slice(-EVENT_RING).map(([code, detail]) => String.fromCharCode(code) + u32(a.time) + u32(detail)).join('');
    const body = encodeAuditBody(a, (over.counters ?? counters).map(u32).join(''), ring);
    return body + hmacSha256(dc.kms.deviceKey(device), auditMessage(body));
  }

  it('continuity holds: stored, no flags; events kept once by their number', () => {
    const first = dc.pss.audit(audit({ events: [[AuditEvent.FUNDS, 1]] }));
    expect(first).to.deep.include({ seq: 1, stored: true, flags: [], newEvents: 1 });
    const second = dc.pss.audit(audit({ seq: 2, elapsed: 200, events: [[AuditEvent.FUNDS, 1], [AuditEvent.UPLOAD, 1]] }));
    expect(second).to.deep.include({ seq: 2, stored: true, flags: [], newEvents: 1 });
    expect(listEvents(dc.store, device).map((e) => [e.number, e.name, e.detail, e.auditSeq])).to.deep.equal([
      [1, 'FUNDS', 1, 1],
      [2, 'UPLOAD', 1, 2]
    ]);
    // the same audit again: answered as stored before, nothing added
    expect(dc.pss.audit(audit({ seq: 2, elapsed: 200, events: [[AuditEvent.FUNDS, 1], [AuditEvent.UPLOAD, 1]] }))).to.deep.include({ stored: false, flags: [] });
    expect(listAudits(dc.store).length).to.equal(2);
  });

  it('flags a gap, registers or running time going back, a control total the KMS did not issue, events lost and a block the PSS lacks', () => {
    dc.pss.audit(audit({ ascending: 500, descending: 9_500, pieces: 5, elapsed: 1000 }));
    const r = dc.pss.audit(
      audit({ seq: 4, ascending: 400, descending: 9_700, fundsTotal: 10_100, pieces: 4, elapsed: 900, confirmedSeq: 2, events: Array.from({ length: 30 }, () => [AuditEvent.CLOCK, 600] as [number, number]) })
    );
    expect(r.stored).to.equal(true);
    const kinds = r.flags.map((f) => f.kind).sort();
    expect(kinds).to.deep.equal(['audit-gap', 'blocks', 'control-total', 'events-lost', 'registers-back', 'time-back']);
    const detail = (k: string) => r.flags.find((f) => f.kind === k)!.detail;
    expect(detail('audit-gap')).to.equal('audit 4 follows audit 1: audits 2..3 never reached the PSS');
    expect(detail('registers-back')).to.match(/AR 500 -> 400/).and.match(/pieces 5 -> 4/);
    expect(detail('control-total')).to.match(/the KMS issued 10000 in 1 resets/);
    expect(detail('events-lost')).to.equal('events 1..6 dropped out of the device\'s ring before this audit');
    expect(detail('blocks')).to.match(/block 2 was confirmed; the PSS holds blocks up to 0/);
    // stored with the audit, shown by pss audits
    const listed = listAudits(dc.store, device);
    expect(listed.map((a) => [a.seq, a.flags.length])).to.deep.equal([[1, 0], [4, 6]]);
    expect(listed[1].counters).to.deep.equal({ CLOCK: 30 });
    expect(listed[1].controlTotal).to.equal(10_100);
  });

  it('refuses a forged, replayed, unknown-device or malformed audit, recording only the refusal', () => {
    dc.pss.audit(audit());
    const forged = audit({ seq: 2 });
    const bad = forged.substr(0, 20) + String.fromCharCode(forged.charCodeAt(20) ^ 1) + forged.substr(21);
    expect(() => dc.pss.audit(bad)).to.throw(/HMAC seal does not match/);
    expect(() => dc.pss.audit(audit({ pieces: 7 }))).to.throw(/audit 1 of device \d+ is already stored with other contents/);
    expect(() => dc.pss.audit(audit({ device: device + 1 }))).to.throw(/is not registered/);
    expect(() => dc.pss.audit('\x01\x01short')).to.throw(/not an audit/);
    expect(() => dc.pss.audit(audit({ seq: 2, keyVersion: 3 }))).to.throw(/key version 3/);
    expect(listAudits(dc.store).length).to.equal(1);
    const rejections = dc.store.all<{ code: string; reason: string }>("SELECT code, reason FROM rejections WHERE reason LIKE 'audit:%'");
    expect(rejections.map((x) => x.code).sort()).to.deep.equal(['BAD_BLOCK', 'BAD_SEAL', 'BAD_SEAL', 'REPLAY', 'UNKNOWN_DEVICE']);
  });

  describe('over TCP (a device, no credential)', () => {
    let service: Service;
    beforeEach(async () => {
      service = await startService(dc, { port: 0, idleMs: 10000 });
    });
    afterEach(async () => {
      await service.close();
    });
    it('audit 0x4a: stored with its flags; a forged one refused with the PSS code', async () => {
      const pss = await PssClient.connect(`127.0.0.1:${service.port}`, { credential: null });
      try {
        expect(await pss.audit(audit({ seq: 2 }))).to.deep.include({ device, seq: 2, stored: true, events: 0 });
        const again = await pss.audit(audit({ seq: 2 }));
        expect(again.stored).to.equal(false);
        expect(again.flags.map((f) => f.kind)).to.deep.equal(['audit-gap']);
        const forged = audit({ seq: 3 });
        const err = await pss.audit(forged.slice(0, -1) + 'x').catch((e) => e);
        expect(err).to.be.instanceOf(PssClientError);
        expect(err.code).to.equal('BAD_SEAL');
      } finally {
        await pss.close();
      }
    });
  });
});
