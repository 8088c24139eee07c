// The contact watchdog and the trusted-time window on the real interpreter (Espruino 2v29 for
// Linux, the linux image booted from Storage): the binary's clock cannot be moved on, so the
// lock-out is reached the way a host could try it, by the clock (forward within the window,
// past a short lock threshold the data center set), and must survive a power cut and a clock
// set back. test/postal-rules.test.ts covers the running-time path on the virtual board.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { TestKms, expectCode, type Device } from '../testkit/harness.ts';
import { PssEnd } from '../testkit/pss-end.ts';
import { startTarget, realTargetUnavailable, sayRealSkipped, type Target } from '../testkit/target.ts';

const HOUR = 3600;
const DAY = 86400;

sayRealSkipped();
(realTargetUnavailable() ? describe.skip : describe)('postal rules on the real interpreter: contact lock-out and trusted time', function () {
  this.timeout(180000);
  let t: Target;
  let c: PsdClient;
  const d = { call: (type: number, body: object = {}) => c.request(type, body) } as unknown as Device;
  const connect = async () => (c = new PsdClient(await openLink(t.port), { timeoutMs: 20000, retries: 1 }));
  afterEach(async () => {
    await c?.close();
    await t?.close();
  });

  it('locks past the threshold by the clock, holds across a power cut and a clock set back, and a session releases it', async () => {
    t = await startTarget({ kind: 'real' });
    await connect();
    const kms = new TestKms(40000 + Math.floor(Math.random() * 9999));
    const t0 = Date.now();
    await d.call(Command.PROVISION, kms.provisionBody());
    await d.call(Command.CLOCK, { now: t0 });
    await d.call(Command.FUNDS, kms.funds(1, 100_000));
    // the data center: its time, and a lock-out after 3 days (warning after 2)
    const pss = new PssEnd(kms);
    await pss.open(d);
    await pss.call(d, Command.CLOCK, { now: t0 });
    const cfg = await pss.call(d, Command.CONFIG, { contactWarnS: 2 * DAY, contactLockS: 3 * DAY });
    expect(cfg.config).to.include({ contactWarnS: 2 * DAY, contactLockS: 3 * DAY });
    await d.call(Command.FRANK, { id: 1, customer: 7, category: 1, weight: 20, postage: 85 });

    // the typo is refused outright now that the device has a trusted time
    await expectCode(d.call(Command.CLOCK, { now: Date.UTC(2030, 0, 1) }), ErrorCode.CLOCK_REFUSED);
    // forward dating 2.5 days: allowed, and past the warning
    await d.call(Command.CLOCK, { now: t0 + 2.5 * DAY * 1000 });
    const warned = await d.call(Command.FRANK, { id: 2, customer: 7, category: 1, weight: 20, postage: 85 });
    expect(warned.contactLockInS).to.be.within(0.5 * DAY - 60, 0.5 * DAY + 60);
    // 3.5 days: franking locked
    await d.call(Command.CLOCK, { now: t0 + 3.5 * DAY * 1000 });
    await expectCode(d.call(Command.FRANK, { id: 3, customer: 7, category: 1, weight: 20, postage: 85 }), ErrorCode.CONTACT_OVERDUE);

    // power cut; the clock set back as far as it may go (to the last frank) does not unlock it
    await c.close();
    await t.rb!.powerCycle();
    await connect();
    // (setting 3.5 days flushed the statistics, a day after the last flush: the journal is
    // dated 3.5 days now, and the clock cannot go back before it)
    await expectCode(d.call(Command.CLOCK, { now: t0 + 2.5 * DAY * 1000 }), ErrorCode.CLOCK_REFUSED);
    await d.call(Command.CLOCK, { now: t0 + 3.5 * DAY * 1000 });
    const st = await d.call(Command.STATUS);
    expect(st.contact.state).to.equal('locked');
    expect(st.contact.ageS).to.be.at.least(3.5 * DAY);
    await expectCode(d.call(Command.FRANK, { id: 4, customer: 7, category: 1, weight: 20, postage: 85 }), ErrorCode.CONTACT_OVERDUE);

    // a session with the data center (its time: now) releases it and sets the clock right
    const again = new PssEnd(kms);
    await again.open(d);
    await again.call(d, Command.CLOCK, { now: Date.now() });
    const s = await d.call(Command.STATUS);
    expect(s.contact.state).to.equal('ok');
    expect(Math.abs(s.clock - Date.now() / 1000)).to.be.below(HOUR);
    // franking resumes: the clock now says today, before the 3.5-day frank attempt, which never happened
    await d.call(Command.FRANK, { id: 5, customer: 7, category: 1, weight: 20, postage: 85 });
  });
});
