// Budgets that are facts: each board's image must fit the code area its board definition
// gives it, beside the flash region kept for statistics.
import { expect } from 'chai';
import fs from 'node:fs';
import { loadBoards } from '../board-defs/index.ts';
import { maxRecords } from '../tools/build.ts';
import { RECORD_BYTES } from '../protocol/records.ts';

// Boards whose code area cannot hold today's full PSD image (sealing, confirmation, secure
// session, records on the host, folding) next to two statistics pages. Measured with
// `npm run build` (2026-11-24, after property mangling and the message table moved to the
// host): pico 40.9 KB / 12 KB, wifi 40.9 KB / 32 KB, original 39.7 KB / 12 KB, puckjs
// 40.9 KB / 16 KB, mdbt42q 38.6 KB / 16 KB.
// The test below fails as soon as this list and the measurement disagree in either
// direction, so a shrunk image forces its board off the list.
const KNOWN_OVER_BUDGET = ['pico', 'wifi', 'original', 'puckjs', 'mdbt42q'];

describe('budgets: image and statistics flash per board', () => {
  for (const board of loadBoards()) {
    const file = `dist/firmware/${board.id}.js`;
    it(`${board.id}: the image ${KNOWN_OVER_BUDGET.includes(board.id) ? 'is known to exceed' : 'fits'} its code budget`, () => {
      const bytes = fs.statSync(file).size;
      if (KNOWN_OVER_BUDGET.includes(board.id)) expect(bytes, `${board.id} now fits: remove it from KNOWN_OVER_BUDGET`).to.be.greaterThan(board.image.budgetBytes);
      else expect(bytes).to.be.at.most(board.image.budgetBytes);
    });
    it(`${board.id}: the statistics flash holds two checkpoints of a full record table and a flush`, () => {
      const region = board.flash.pageBytes * board.flash.dataPages;
      expect(board.flash.dataPages, 'a ring needs two pages at least').to.be.at.least(2);
      // the checkpoint state (ledger STATE_BYTES + the signing key's hex) and every record
      const checkpoint = 990 + maxRecords(board) * RECORD_BYTES;
      expect(3 * checkpoint).to.be.at.most(region);
    });
  }
});
