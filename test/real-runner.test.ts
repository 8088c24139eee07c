// The real-interpreter runner behaves like a board on a bench: one interpreter per flash file,
// nothing left behind when it stops, a power cut keeps the flash.
import { expect } from 'chai';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealBoard } from '../kit/real/runner.ts';
import { imagePath, realTargetUnavailable, sayRealSkipped } from '../testkit/target.ts';

const linked = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

sayRealSkipped();
(realTargetUnavailable() ? describe.skip : describe)('real-interpreter runner (kit/real/runner.ts)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'psd-runner-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second interpreter on a working folder in use, and takes it once the first has stopped', async () => {
    const a = new RealBoard({ imagePath: imagePath('linux'), dir });
    const b = new RealBoard({ imagePath: imagePath('linux'), dir });
    await a.start();
    try {
      let refused: Error | null = null;
      // the lock names this process only when another one holds it: make it look foreign
      const lock = join(dir, 'runner.pid');
      const mine = readFileSync(lock, 'latin1');
      expect(mine).to.equal(String(process.pid));
      const { writeFileSync } = await import('node:fs');
      writeFileSync(lock, String(process.ppid));
      await b.start().catch((e) => (refused = e));
      expect(refused, 'second runner refused').to.not.equal(null);
      expect(String(refused!.message)).to.contain('in use by process ' + process.ppid);
      expect(b.running).to.equal(false);
      writeFileSync(lock, mine);
    } finally {
      await a.close();
    }
    expect(existsSync(join(dir, 'runner.pid')), 'lock released').to.equal(false);
    expect(linked(join(dir, 'psd.pty')), 'no stale pty link').to.equal(false);
    await b.start();
    expect(b.running).to.equal(true);
    await b.close();
  });

  it('a power cut keeps the flash file and leaves no interpreter running', async () => {
    const rb = new RealBoard({ imagePath: imagePath('linux'), dir });
    await rb.start();
    const flash = readFileSync(rb.flashFile);
    await rb.powerCut();
    expect(rb.running).to.equal(false);
    expect(readFileSync(rb.flashFile).equals(flash)).to.equal(true);
    await rb.start();
    expect(rb.running).to.equal(true);
    await rb.close();
    expect(readFileSync(rb.consoleLog, 'latin1')).to.contain('-> LoopbackA');
  });
});
