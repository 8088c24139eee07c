// Power loss on the real interpreter: the linux image killed (SIGKILL) at random moments of
// franking, extraction and confirmation, 50 times, each time booted again on the same flash
// file; after each, registers equal what the host loaded and had acknowledged, records plus
// confirmed blocks equal the registers, and the device franks again. `npm run soak:real`
// runs many more.
import { expect } from 'chai';
import { startTarget, realTargetUnavailable, sayRealSkipped, type Target } from '../testkit/target.ts';
import { runPowerCuts } from '../tools/real/powercuts.ts';

const CUTS = Number(process.env.PSD_REAL_CUTS || 50);

sayRealSkipped();
(realTargetUnavailable() ? describe.skip : describe)('power cuts on the real interpreter (kill -9 during franking, extraction, confirmation)', function () {
  this.timeout(600000);
  let t: Target;
  before(async () => {
    t = await startTarget({ kind: 'real' });
  });
  after(async () => {
    await t?.close();
  });

  it(`${CUTS} cuts at random moments: nothing lost, nothing counted twice, never locked`, async () => {
    const ops = new Set<string>();
    const r = await runPowerCuts({ board: t.rb!, port: t.port, cuts: CUTS, onCut: (_n, i) => ops.add(i.operation) });
    expect(r.violations, `seed ${r.seed}; console:\n${t.rb!.consoleTail()}`).to.deep.equal([]);
    expect(r.cuts).to.equal(CUTS);
    // the schedule did cut work in progress, of every kind
    expect(r.interrupted, 'cuts before the answer').to.be.greaterThan(CUTS / 5);
    expect([...ops].sort()).to.deep.equal(['confirm', 'extract', 'frank']);
    expect(r.pieces).to.be.greaterThan(0);
  });
});
