// The device audit and the coded event ring (issue 12 item 5) on the built image: in the
// virtual board and on the real interpreter (Espruino 2v29 for Linux, the linux image booted
// from Storage). The data center runs in process (KMS + PSS on SQLite, its session driver
// over the PSD's serial line): each session carries a sealed audit, the PSS checks it against
// the previous one and its own books, and an audit the host made and kept back shows as a
// flagged gap. The events survive a power cut, their counters never go back, and `pss events`
// and `pss audits` list them.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { decodeAudit, AuditEvent, AuditEventName, EVENT_RING } from '../protocol/audit.ts';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { PsdError } from '../host-bridge/errors.ts';
import { readAudit } from '../host-bridge/upload.ts';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { PssSession, type RelayAnswer } from '../server/session-driver.ts';
import { listEvents } from '../server/audits.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { startTarget, targetKinds, targetTitle, sayRealSkipped, runCli, ROOT, type Target } from '../testkit/target.ts';
import { startService } from '../server/service.ts';
import type { SessionReport } from '../protocol/pss-wire.ts';

const run = promisify(execFile);

sayRealSkipped();
for (const kind of targetKinds()) {
  describe(`device audit and event ring: ${targetTitle(kind)}`, function () {
    this.timeout(kind === 'real' ? 240000 : 60000);
    let t: Target;
    let c: PsdClient;
    let dc: DataCenter;
    let dir: string;
    const connect = async () => (c = new PsdClient(await openLink(t.port), { timeoutMs: 20000, retries: 1 }));

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-audit-'));
      dc = await openDataCenter(path.join(dir, 'pss'));
      t = await startTarget({ kind, virtual: true });
      await connect();
    });
    afterEach(async () => {
      await c?.close();
      await t?.close();
      dc?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** The PSS's session with the PSD, relayed over the serial line as psd upload --session does. */
    async function session(opts: { funds?: number } = {}): Promise<SessionReport> {
      const s = new PssSession(dc.pss, device, opts);
      let step = s.begin();
      while (!step.done) {
        let input: RelayAnswer;
        try {
          input = { answer: await c.request(step.relay.type, step.relay.payload) };
        } catch (e) {
          if (!(e instanceof PsdError)) throw e;
          input = { error: { code: e.code, message: e.message } };
        }
        step = s.next(input);
      }
      expect(step.report.error, 'session error').to.equal(undefined);
      return step.report;
    }

    let device = 0;
    let frankId = 0;
    async function frank(n: number) {
      for (let i = 0; i < n; i++) await c.request(Command.FRANK, { id: ++frankId, customer: 1001, category: 1, weight: 20, postage: 85 });
    }

    async function provision() {
      const reg = dc.kms.registerDevice('audit-' + kind + '-' + process.pid, t.board);
      device = reg.device;
      payingAccount(dc, device);
      await c.request(Command.PROVISION, { device, deviceKey: Buffer.from(reg.deviceKey, 'latin1').toString('hex'), kmsKey: Buffer.from(reg.kmsKey, 'latin1').toString('hex') });
      await c.request(Command.CLOCK, { now: Date.now() });
    }

    it('every session carries a sealed audit; audits continue, and one the host kept back is flagged as a gap', async () => {
      await provision();
      // a funds reset through the KMS, then pieces: the first contact
      const first = await session({ funds: 50_000 });
      expect(first.audit).to.include({ seq: 1, stored: true });
      expect(first.audit!.flags, JSON.stringify(first.audit!.flags)).to.deep.equal([]);
      await frank(3);

      // the second contact: its block and audit; continuity holds
      const second = await session();
      // (the first session sealed block 1, empty: nothing was franked yet)
      expect(second.block!.seq).to.equal(2);
      expect(second.audit!.seq).to.equal(2);
      expect(second.audit!.flags, JSON.stringify(second.audit!.flags)).to.deep.equal([]);
      const stored = dc.pss.store.get<any>('SELECT * FROM audits WHERE device = ? AND seq = 2', [device]);
      expect(Number(stored.ascending)).to.equal(255);
      expect(Number(stored.ascending) + Number(stored.descending)).to.equal(50_000);
      expect(Number(stored.pieces)).to.equal(3);
      expect(Number(stored.block_seq)).to.equal(2);
      expect(Number(stored.confirmed_seq)).to.equal(2);

      // the audit is sealed under the device key: one altered byte and the PSS refuses it
      const raw = await readAudit(c);
      const forged = raw.substr(0, 40) + String.fromCharCode(raw.charCodeAt(40) ^ 1) + raw.substr(41);
      expect(() => dc.pss.audit(forged)).to.throw(/HMAC seal does not match the audit/);
      // that audit (3) never reached the PSS: the next contact's audit 4 shows the gap
      expect(decodeAudit(raw).audit.seq).to.equal(3);
      await frank(2);
      const third = await session();
      expect(third.audit!.seq).to.equal(4);
      expect(third.audit!.flags.map((f) => f.kind)).to.deep.equal(['audit-gap']);
      expect(third.audit!.flags[0].detail).to.match(/audit 3 never reached the PSS/);
      // the flag is stored with the audit, and a repeat of that audit brings it back, not a new one
      const flagged = dc.pss.store.all<any>('SELECT seq, kind FROM audit_flags WHERE device = ?', [device]);
      expect(flagged.map((f) => [Number(f.seq), f.kind])).to.deep.equal([[4, 'audit-gap']]);
      expect(() => dc.pss.audit(raw.substr(0, 6) + '\0\0\0\x02' + raw.substr(10))).to.throw(/seal/);

      // the events the audits brought, numbered by the device, each once
      const events = listEvents(dc.pss.store, device);
      // (block 1 confirmed, then the funds reset, in the first session; blocks 2 and 3 after)
      expect(events.map((e) => e.name)).to.deep.equal(['UPLOAD', 'FUNDS', 'UPLOAD', 'UPLOAD']);
      expect(events.map((e) => e.number)).to.deep.equal(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.code === AuditEvent.UPLOAD).map((e) => e.detail)).to.deep.equal([1, 2, 3]);
      expect(events.find((e) => e.code === AuditEvent.FUNDS)!.detail).to.equal(1);
    });

    it('the event ring and its counters survive a power cut; a host clock move is an event; pss events and pss audits list them', async () => {
      await provision();
      await session({ funds: 10_000 });
      const before = decodeAudit(await readAudit(c)).audit;
      expect(before.counters[AuditEvent.SELF_TEST - 1]).to.equal(0);
      // the host moves the clock on by a day (within the window a trusted time allows)
      await c.request(Command.CLOCK, { now: Date.now() + 86400_000 });
      await c.close();
      if (kind === 'real') await t.rb!.powerCycle();
      else t.vb!.powerCycle();
      await connect();
      // (the device's own time after a boot counts the boot as a whole hour of running time:
      // a clock set to that is no move)
      await c.request(Command.CLOCK, { now: Date.now() + 3600_000 });
      const after = decodeAudit(await readAudit(c)).audit;
      expect(after.seq).to.equal(before.seq + 1);
      // counters never go back: one more self-test (the boot), one clock move
      const count = (a: typeof after, code: number) => a.counters[code - 1];
      expect(count(after, AuditEvent.SELF_TEST)).to.equal(count(before, AuditEvent.SELF_TEST) + 1);
      expect(count(after, AuditEvent.CLOCK)).to.equal(count(before, AuditEvent.CLOCK) + 1);
      expect(count(after, AuditEvent.FUNDS)).to.equal(1);
      expect(after.events[after.events.length - 1].detail, 'self-test passed').to.equal(0);
      // the ring, the newest last: the clock move, then the boot's self-test
      expect(after.events.slice(-2).map((e) => AuditEventName[e.code])).to.deep.equal(['CLOCK', 'SELF-TEST']);
      expect(after.events.map((e) => e.number)).to.deep.equal(after.events.map((_, i) => after.eventCount - after.events.length + 1 + i));
      const move = after.events[after.events.length - 2].detail;
      expect(move).to.be.within(86400 - 120, 86400 + 120);
      expect(after.events.length).to.be.at.most(EVENT_RING);

      // the next contact brings audit 4 (3 went nowhere: flagged), and the events with it
      const report = await session();
      expect(report.audit!.seq).to.equal(before.seq + 2);
      expect(report.audit!.flags.map((f) => f.kind)).to.deep.equal(['audit-gap']);
      dc.close();
      const pss = (args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/pss.js'), ...args, '--data', path.join(dir, 'pss')], { env: { ...process.env, PSS_DB: '' } });
      const ev = JSON.parse((await pss(['events', '--device', `PSD-${device}`, '--json'])).stdout);
      expect(ev.map((e: any) => e.name)).to.include.members(['SELF-TEST', 'FUNDS', 'CLOCK', 'TRUSTED-TIME', 'UPLOAD']);
      expect(ev.find((e: any) => e.name === 'CLOCK').text).to.match(/^moved \+8[0-9]{4} s$/);
      const audits = JSON.parse((await pss(['audits', '--flagged', '--json'])).stdout);
      expect(audits.map((a: any) => [a.device, a.seq])).to.deep.equal([[device, before.seq + 2]]);
      expect(audits[0].flags[0].detail).to.match(/never reached the PSS/);
      const text = (await pss(['audits', '--device', String(device)])).stdout;
      expect(text).to.match(/FLAGGED/);
      expect(text).to.match(/audit-gap/);
      dc = await openDataCenter(path.join(dir, 'pss'));
    });

    it('psd upload with the PSD attached carries its audit to the PSS over TCP', async () => {
      await provision();
      await session({ funds: 10_000 });
      await frank(2);
      const service = await startService(dc, { port: 0, idleMs: 10000 });
      await c.close();
      try {
        const r = await runCli(['--port', t.port, 'upload', '--pss', `127.0.0.1:${service.port}`, '--store', path.join(dir, 'store')], { timeoutMs: 60000 });
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/nothing to upload/);
        expect(r.stdout).to.match(/audit #2 stored, \d+ new events; continuity holds/);
      } finally {
        await service.close();
      }
      const stored = dc.pss.store.all<any>('SELECT seq, via FROM audits WHERE device = ? ORDER BY seq', [device]);
      expect(stored.map((a) => [Number(a.seq), a.via])).to.deep.equal([[1, 'session'], [2, 'plain']]);
      await connect();
    });

    it('AUDIT needs a provisioned device and reads on only the audit it made', async () => {
      try {
        await c.request(Command.AUDIT, {});
        expect.fail('an unprovisioned device made an audit');
      } catch (e) {
        expect((e as PsdError).code).to.equal(ErrorCode.NOT_PROVISIONED);
      }
      await provision();
      const a = await c.request(Command.AUDIT, {});
      expect(a.seq).to.equal(1);
      expect(a.bytes).to.be.above(a.data.length / 2);
      try {
        await c.request(Command.AUDIT, { seq: 2, from: 0 });
        expect.fail('read an audit never made');
      } catch (e) {
        expect((e as PsdError).code).to.equal(ErrorCode.NO_BLOCK);
      }
      const page = await c.request(Command.AUDIT, { seq: 1, from: 128 });
      expect(page.from).to.equal(128);
    });
  });
}
