// The differential fidelity suite (tools/fidelity): every probe runs on the real Espruino 2v29
// Linux build and in the virtual board, and the outputs must agree byte for byte, but for the
// differences tools/fidelity/allowed.json accepts, each with its reason.
import { expect } from 'chai';
import { findEspruino, noEspruinoReason } from '../kit/real/binary.ts';
import { diff, listProbes, loadAllowList, runFidelity, type Summary } from '../tools/fidelity/run.ts';

describe('fidelity: probes on Espruino 2v29 and on the virtual board agree', function () {
  this.timeout(300000);
  const binary = findEspruino();

  it('has at least 150 probes, and every allowed difference names its reason', function () {
    expect(listProbes().length).to.be.at.least(150);
    const allow = loadAllowList();
    for (const [probe, entries] of Object.entries(allow.probes)) {
      expect(listProbes(), `allowed.json names a probe that does not exist: ${probe}`).to.include(probe);
      for (const e of entries) expect(e.reason, `${probe}: an entry without a reason`).to.be.a('string').and.not.empty;
    }
  });

  let summary: Summary | null = null;
  before(async function () {
    if (!binary) return;
    summary = await runFidelity({ binary, jobs: 2 });
  });

  it('no probe fails (real and virtual output equal, up to the allow list)', function () {
    if (!binary) {
      console.log(`      skipped: ${noEspruinoReason()}`);
      this.skip();
    }
    const s = summary!;
    const failing = s.results.filter((r) => r.verdict === 'failing');
    const detail = failing.map((r) => `${r.name}\n${diff(r.realNorm, r.vboardNorm)}`).join('\n\n');
    expect(failing.length, `failing probes:\n${detail}`).to.equal(0);
    expect(s.probes).to.be.at.least(150);
    expect(s.same + s.allowed).to.equal(s.probes);
  });

  it('no allow-list entry is stale (each one still changes what it was written for)', function () {
    if (!binary) {
      console.log(`      skipped: ${noEspruinoReason()}`);
      this.skip();
    }
    const allow = loadAllowList();
    const stale = summary!.results.flatMap((r) =>
      r.verdict === 'same' && allow.probes[r.name]?.length ? [`${r.name}: same without its entries`]
        : r.verdict === 'allowed' && r.unused.length ? [`${r.name}: entries #${r.unused.join(', #')} change nothing`] : []);
    expect(stale).to.deep.equal([]);
  });
});
