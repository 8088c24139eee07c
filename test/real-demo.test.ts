// The README's `npm run demo -- --real`: the whole story (KMS provisioning and funds, franking
// for three customers, extraction, secure-session upload with funds, report and discounts) on
// the linux image booted on the real interpreter.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, realTargetUnavailable, sayRealSkipped } from '../testkit/target.ts';

sayRealSkipped();
(realTargetUnavailable() ? describe.skip : describe)('npm run demo -- --real', function () {
  this.timeout(300000);
  it('tells the whole story on the real interpreter and exits 0', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/demo.ts'), '--real'], { cwd: ROOT, encoding: 'utf8', timeout: 280000 });
    expect(r.status, r.stdout.slice(-3000) + r.stderr).to.equal(0);
    expect(r.stdout).to.contain('on the real Espruino 2v29 interpreter');
    expect(r.stdout).to.match(/provisioned\s+PSD-\d+/);
    // 1,200 + 3 + 600 pieces reached the report, and each customer's discount was computed
    expect(r.stdout).to.contain('all customers: 1803 pieces, amount 1991.15');
    for (const customer of ['1001', '1002', '1003']) expect(r.stdout).to.contain(`customer ${customer}:`);
  });
});
