import { expect } from 'chai';
import { openJournal } from '../firmware/ondemand/boot.ts';
import { Journal, CKPT_BEGIN, CKPT_END } from '../firmware/core/journal.ts';
import { crc32 } from '../protocol/crc32.ts';
import { NorFlash, PowerCutError, type CutMode, type TearShape } from '../kit/vboard/flash.ts';

const DATA = 16;
// the owner's state is bounded, as the PSD's is: the last WINDOW values
const WINDOW = 8;

/** A tiny owner: state = list of values; a checkpoint writes the list as one record. */
function replay(entries: { type: number; data: string }[]): string[] {
  let state: string[] = [];
  for (const e of entries) {
    if (e.type === CKPT_BEGIN) state = [];
    else if (e.type === 17) state = e.data ? e.data.split(',') : [];
    else if (e.type === DATA) state.push(e.data);
  }
  return state.slice(-WINDOW);
}

/** The owner's rule: checkpoint while there is still room for the next value and two
 * checkpoints (a cut one wastes its space, and the next must still fit). */
function lowOnSpace(j: Journal, state: string[]) {
  const ckpt = WINDOW * 42; // the largest state record: WINDOW values of up to 41 chars and commas
  return !j.fits([60, 0, ckpt, 0, 0, ckpt, 0, 16]);
}

function checkpoint(j: Journal, state: string[]) {
  j.append(CKPT_BEGIN, '');
  j.append(17, state.join(','));
  j.append(CKPT_END, '');
}

/** Appends values, checkpointing whenever free space runs low; returns acknowledged values. */
function workload(flash: NorFlash, n: number, acked: string[]) {
  const j = new Journal(flash, crc32);
  const opened = openJournal(j);
  expect(opened.problems).to.deep.equal([]);
  let state = replay(opened.entries);
  if (opened.formatted) checkpoint(j, state);
  for (let i = 0; i < n; i++) {
    const v = 'v' + i + '-' + 'x'.repeat(i % 37);
    if (lowOnSpace(j, state)) {
      checkpoint(j, state);
    }
    j.append(DATA, v);
    state.push(v);
    state = state.slice(-WINDOW);
    acked.push(v);
  }
  return j;
}

describe('journal: append-only flash store', () => {
  it('replays what was appended, across reopen, through many checkpoints and page wraps', () => {
    const flash = new NorFlash({ pageBytes: 1024, pageCount: 4 });
    const acked: string[] = [];
    workload(flash, 300, acked);
    const j = new Journal(flash.reboot(), crc32);
    const opened = openJournal(j);
    expect(opened.problems).to.deep.equal([]);
    const state = replay(opened.entries);
    expect(state).to.deep.equal(acked.slice(-WINDOW));
    // wear is spread: every page erased, none more than twice the least
    const erases = flash.erasesPerPage;
    expect(Math.min(...erases)).to.be.greaterThan(0);
    expect(Math.max(...erases)).to.be.at.most(2 * Math.min(...erases) + 1);
  });

  it('reports corruption in the middle of the journal instead of guessing', () => {
    const flash = new NorFlash({ pageBytes: 1024, pageCount: 4 });
    workload(flash, 20, []);
    flash.bytes[12 + 4 + 40] ^= 0x01; // inside an early record of the first page
    const opened = openJournal(new Journal(flash.reboot(), crc32));
    expect(opened.problems.join()).to.match(/corrupt|checkpoint/);
  });

  // partial: NOR physics, a cut write leaves any subset of its bits cleared and a cut erase
  // any subset of the page's bits set (kit/vboard/flash.ts); in order: a chip that programs
  // and erases strictly in address order (a prefix of the bits)
  const cases: { name: string; mode: CutMode; shapes?: TearShape[] }[] = [
    { name: 'before', mode: 'before' },
    { name: 'partial', mode: 'partial' },
    { name: 'partial, in address order', mode: 'partial', shapes: ['prefix'] },
    { name: 'after', mode: 'after' }
  ];
  for (const { name, mode, shapes } of cases) {
    it(`loses nothing acknowledged when power is cut at every flash operation (${name})`, () => {
      // count the operations of the uncut workload
      const probe = new NorFlash({ pageBytes: 512, pageCount: 3 });
      workload(probe, 120, []);
      const total = probe.ops;
      expect(total).to.be.greaterThan(100);
      for (let k = 1; k <= total; k++) {
        const flash = new NorFlash({ pageBytes: 512, pageCount: 3 });
        flash.armPowerCut({ atOp: k, mode, shapes });
        const acked: string[] = [];
        try {
          workload(flash, 120, acked);
          expect.fail('the cut did not happen');
        } catch (e) {
          if (!(e instanceof PowerCutError)) throw e;
        }
        // power back: the journal must open clean and hold every acknowledged value, and at
        // most the one value whose write was cut (when the cut came after it landed)
        const again = flash.reboot();
        const j = new Journal(again, crc32);
        const opened = openJournal(j);
        expect(opened.problems, `cut at op ${k}: ${JSON.stringify(flash.lastCut)}`).to.deep.equal([]);
        let state = replay(opened.entries);
        // every acknowledged value is there, plus at most the one whose write was cut
        const ackedWindow = acked.slice(-WINDOW);
        const exact = JSON.stringify(state) === JSON.stringify(ackedWindow);
        const plusOne = JSON.stringify(state.slice(0, -1)) === JSON.stringify(ackedWindow.slice(-(WINDOW - 1))) && state.length > 0 && !acked.includes(state[state.length - 1]);
        expect(exact || plusOne, `cut at op ${k}: ${state} vs ${ackedWindow}`).to.equal(true);
        // and it goes on working after the repair
        if (opened.formatted) checkpoint(j, state);
        for (let i = 0; i < 30; i++) {
          if (lowOnSpace(j, state)) {
            checkpoint(j, state);
          }
          j.append(DATA, 'after' + i);
          state.push('after' + i);
          state = state.slice(-WINDOW);
        }
        const final = openJournal(new Journal(again.reboot(), crc32));
        expect(final.problems).to.deep.equal([]);
        expect(replay(final.entries)).to.deep.equal(state);
      }
    });
  }
});
