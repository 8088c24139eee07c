// The device log (issue 13): the PSD notes its boot, self-tests, locks, refusals and flash
// reclaims in a ring of LOG_ENTRIES; LOG reads it a page at a time; `psd log` prints it.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { LogEvent, LOG_ENTRIES } from '../protocol/log.ts';
import { ImageDevice, TestKms, readyDevice, expectCode } from '../testkit/harness.ts';
import { startTarget, runCli } from '../testkit/target.ts';
import { formatLogEntry } from '../host-bridge/cli.ts';

async function readLog(d: ImageDevice, from = 0): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const page = await d.call(Command.LOG, { from });
    const entries = page.entries ?? [];
    out.push(...entries);
    if (!entries.length) return out;
    from = page.next;
  }
}

describe('device log (pico image on the virtual board)', () => {
  it('notes the boot and its cause, the self-tests, and each refused request with its code', async () => {
    const d = new ImageDevice();
    try {
      let log = await readLog(d);
      expect(log.map((e) => e.code)).to.deep.equal([LogEvent.BOOT, LogEvent.SELF_TEST]);
      expect(log[0].detail).to.contain('first boot');
      expect(log[1].detail).to.equal('passed');
      await expectCode(d.call(Command.FRANK, { id: 1, customer: 1, category: 1, weight: 20, postage: 85 }), ErrorCode.NOT_PROVISIONED);
      log = await readLog(d);
      const refused = log[log.length - 1];
      expect(refused.code).to.equal(LogEvent.REFUSED);
      expect(refused.detail).to.match(new RegExp(`^0x12 ${ErrorCode.NOT_PROVISIONED}\\b`));
      expect(formatLogEntry(refused)).to.contain('REFUSED').and.contain('frank');
      // reading from a sequence number gives only what came after
      expect((await readLog(d, refused.seq)).map((e) => e.seq)).to.deep.equal([refused.seq]);
    } finally {
      d.close();
    }
  });

  it(`keeps the last ${LOG_ENTRIES} entries, numbered on, and says why after a power cycle`, async () => {
    const d = new ImageDevice();
    try {
      const kms = new TestKms();
      await readyDevice(d, kms);
      for (let i = 0; i < LOG_ENTRIES + 4; i++) await expectCode(d.call(Command.FUNDS, kms.funds(1, 10)), ErrorCode.REPLAY);
      const log = await readLog(d);
      expect(log).to.have.length(LOG_ENTRIES);
      for (let i = 1; i < log.length; i++) expect(log[i].seq).to.equal(log[i - 1].seq + 1);
      expect(log[log.length - 1].detail).to.match(new RegExp(`^0x15 ${ErrorCode.REPLAY}\\b`));
      d.powerCycle();
      const after = await readLog(d);
      expect(after[0].code).to.equal(LogEvent.BOOT);
      expect(after[0].detail).to.contain('power-on or reset');
    } finally {
      d.close();
    }
  });
});

describe('psd log (CLI, virtual board)', () => {
  it('prints the device log; --json gives its entries', async function () {
    this.timeout(60000);
    const t = await startTarget({ virtual: true });
    try {
      const r = await runCli(['--port', t.port, 'log'], { timeoutMs: 30000 });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('BOOT').and.contain('SELF-TEST').and.contain('passed');
      const j = await runCli(['--port', t.port, '--json', 'log'], { timeoutMs: 30000 });
      expect(j.code, j.stderr).to.equal(0);
      const entries = JSON.parse(j.stdout);
      expect(entries[0]).to.include({ seq: 1, code: LogEvent.BOOT });
    } finally {
      await t.close();
    }
  });
});
