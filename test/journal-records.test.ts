// The journal's compact records (flash wear): packed cumulative records (firmware/core/table.ts)
// and the short FRANK record (firmware/core/ledger-entries.ts) decode to exactly what was
// encoded, the tables' packed byte counts are exact, and the bounds the flash reserve relies on hold.
import { expect } from 'chai';
import { RecordTable, PACKED_MAX, PACK_BYTES, WORDS } from '../firmware/core/table.ts';
import { encodeFrank, decodeFrank, FRANK_BYTES, type FrankCommit } from '../firmware/core/ledger-entries.ts';
import { MAX_U32, MIXED_BAND, RECORD_BYTES } from '../protocol/records.ts';

function rows(t: RecordTable): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < t.count; i++) out.push(Array.from(t.words.subarray(i * WORDS, (i + 1) * WORDS)));
  return out;
}

function packAll(t: RecordTable): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < t.count; i = t.next) chunks.push(t.pack(i, t.count));
  return chunks;
}

describe('journal records: packed cumulative records', () => {
  it('round-trips records of every size, a summary record included, in chunks of at most PACK_BYTES', () => {
    const t = new RecordTable(400);
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let i = 0; i < 300; i++) {
      const big = i % 10 === 0;
      const postage = big ? MAX_U32 - i : 60 + rnd(700);
      const pieces = big ? 1 : 1 + rnd(300);
      t.add(big ? MAX_U32 - i : 1 + rnd(3), i % 120, i % 11, postage, pieces, big ? postage : pieces * postage, big ? MAX_U32 : pieces * (10 + rnd(2000)));
    }
    t.add(9, 3, MIXED_BAND, 0, 5, 12345, 678);
    t.add(9, 4, 2, 0, 2, 0, 40); // zero-value pieces: postage 0, a real band
    const chunks = packAll(t);
    for (const c of chunks) expect(c.length).to.be.at.most(PACK_BYTES);
    expect(chunks.reduce((a, c) => a + c.length, 0), 'the table counts its packed bytes exactly').to.equal(t.bytes);
    const back = new RecordTable(400);
    let pieces = 0;
    let amount = 0;
    for (const c of chunks) {
      const dry = back.addPacked(c, true);
      pieces += dry[0];
      amount += dry[1];
      back.addPacked(c);
    }
    expect(rows(back)).to.deep.equal(rows(t));
    expect([pieces, amount]).to.deep.equal([t.totals().pieces, t.totals().amount]);
    expect(back.bytes).to.equal(t.bytes);
  });

  it('never packs a record in more than PACKED_MAX bytes, fewer than the 24 of a block', () => {
    const t = new RecordTable(4);
    t.add(MAX_U32, 119, 10, MAX_U32, MAX_U32, MAX_U32, MAX_U32);
    t.add(MAX_U32, 119, MIXED_BAND, 0, MAX_U32, MAX_U32, MAX_U32);
    expect(t.pack(0, 1).length).to.equal(PACKED_MAX);
    expect(t.pack(1, 2).length).to.be.at.most(PACKED_MAX);
    expect(PACKED_MAX).to.be.below(RECORD_BYTES);
  });

  it('keeps its packed byte count through growth, folding and clearing', () => {
    const t = new RecordTable(100);
    for (let i = 0; i < 70; i++) t.add(1, i % 4, i % 11, 100 + i, 1 + i, (1 + i) * (100 + i), 20 * (1 + i));
    const fresh = () => packAll(t).reduce((a, c) => a + c.length, 0);
    expect(t.bytes).to.equal(fresh());
    expect(t.fold(1, 2)).to.be.greaterThan(0);
    expect(t.bytes).to.equal(fresh());
    t.clear();
    expect(t.bytes).to.equal(0);
  });
});

describe('journal records: the short FRANK record', () => {
  const prev: FrankCommit = { id: 41, customer: 3, category: 7, band: 2, mode: 2, weight: 120, postage: 95, count: 1, firstPiece: 1000, ascending: 95000, descending: 5000, time: 1_767_600_000, test: false, rate: 0, chain: '' };
  const next = (o: Partial<FrankCommit>): FrankCommit => ({ ...prev, id: 42, firstPiece: 1001, ascending: 95095, time: prev.time + 4, ...o });

  it('is 12 bytes (14 with a rate version) and decodes to the commit, from the one before and the registers', () => {
    for (const c of [next({}), next({ category: 119, band: 10, weight: 31500, postage: 16777215, count: 65535, test: true, mode: 3 }), next({ rate: 7 })]) {
      const d = encodeFrank(c, prev);
      expect(d.length).to.equal(c.rate ? 14 : 12);
      expect(decodeFrank(d, prev, c.firstPiece, c.ascending)).to.deep.equal({ ...c, descending: 0 });
    }
  });

  it('takes the full form when the commit does not follow the one before closely', () => {
    for (const c of [next({ customer: 4 }), next({ id: 41 + 256 }), next({ id: 40 }), next({ time: prev.time + 256 }), next({ time: prev.time - 1 }), next({ postage: 16777216 }), next({ chain: 'x'.repeat(32), rate: 1 })]) {
      const d = encodeFrank(c, prev);
      expect(d.length).to.be.at.least(FRANK_BYTES);
      expect(decodeFrank(d, prev, 0, 0)).to.deep.equal({ ...c, descending: 0 });
    }
    expect(encodeFrank(next({}), null).length).to.equal(FRANK_BYTES);
  });

  it('refuses a short record without the commit before it', () => {
    expect(() => decodeFrank(encodeFrank(next({}), prev), null)).to.throw(/without the commit before/);
  });
});
