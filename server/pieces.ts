// Per-piece data (the PSD option `perPiece`, the direction of US IMI and Royal Mail Mailmark):
// the host keeps every indicium it printed and uploads the block's list of pieces with the
// block; the PSS recomputes the chain the PSD sealed into the block (protocol/block.ts) and
// checks the list against the block's cumulative records. A piece dropped, added, reordered or
// altered changes the chain; the records check says where the list and the statistics part.
//
// The list (what `psd` uploads, PssRequest.PIECES): one entry per piece, in franking order,
//   weight band u8 | indicium length u8 | indicium bytes (protocol/indicium.ts)
import { type Block } from '../protocol/block.ts';
import { pieceChainStart, pieceChainStep } from '../protocol/piece-chain.ts';
import { parseIndicium } from '../protocol/indicium.ts';
import { MIXED_BAND, WEIGHT_BANDS_G } from '../protocol/records.ts';
import { hmacSha256, sameBytes } from './hashes.ts';

export interface Piece {
  band: number;
  /** the indicium's bytes (byte string) */
  indicium: string;
}

/** Most pieces one block's list may hold (30 days of 5,000 pieces a day, and then some). */
export const MAX_LIST_PIECES = 250_000;

/** Encodes a list (byte string), as `psd` uploads it. */
export function encodePieceList(pieces: Piece[]): string {
  let out = '';
  for (const p of pieces) out += String.fromCharCode(p.band, p.indicium.length) + p.indicium;
  return out;
}

/** Decodes a list; throws with the offset of the first malformed entry. */
export function decodePieceList(s: string): Piece[] {
  const out: Piece[] = [];
  for (let at = 0; at < s.length; ) {
    if (at + 2 > s.length) throw new Error(`piece list: entry ${out.length} cut short at byte ${at}`);
    const n = s.charCodeAt(at + 1);
    if (!n || at + 2 + n > s.length) throw new Error(`piece list: entry ${out.length} has a bad length ${n}`);
    out.push({ band: s.charCodeAt(at), indicium: s.substr(at + 2, n) });
    at += 2 + n;
    if (out.length > MAX_LIST_PIECES) throw new Error(`piece list: more than ${MAX_LIST_PIECES} pieces`);
  }
  return out;
}

/**
 * Why the list is not the block's pieces, or '' when it is: the chain first (the seal covers
 * it), then each piece (device, number, MAC under the device key, registers) and the records
 * (pieces and postage per customer, category, weight band and postage; a summary record takes
 * what its category's other records leave).
 */
export function pieceListProblem(block: Block, all: Piece[], sha256: (s: string) => string, deviceKey: string): string {
  const h = block.header;
  const expected = h.pieces - h.previousPieces;
  if (h.chainPieces !== expected) return `the block's chain holds ${h.chainPieces} pieces, its registers moved ${expected}`;
  // the block's pieces are those numbered after the previous block's up to its own (the host may
  // send the pieces of the next block too: they are not this block's)
  const list: Piece[] = [];
  const numbers = new Set<number>();
  for (let i = 0; i < all.length; i++) {
    const p = all[i];
    if (p.indicium.length < 32) return `piece ${i} of the list: not an indicium (${p.indicium.length} bytes)`;
    const n = parseIndicium(p.indicium).piece;
    if (n <= h.previousPieces || n > h.pieces) continue;
    list.push(p);
    numbers.add(n);
  }
  for (let n = h.previousPieces + 1; n <= h.pieces; n++)
    if (!numbers.has(n)) return `piece ${n} is missing from the list (${list.length} pieces listed, the block holds ${expected}): dropped`;
  if (list.length !== expected) return `the list holds ${list.length} pieces, the block ${expected}: ${list.length - expected} added or repeated`;
  let chain = pieceChainStart(sha256, h.device, h.seq);
  for (const p of list) chain = pieceChainStep(sha256, chain, p.band, p.indicium);
  if (!sameBytes(chain, h.chain ?? '')) return `the list does not give the block's per-piece chain: a piece was altered or reordered`;

  // the chain authenticates every byte; the checks below say what the pieces are worth
  const counts = new Map<string, { pieces: number; amount: number }>();
  let ascending = h.previousAscending;
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    const f = parseIndicium(p.indicium);
    const body = p.indicium.substr(0, p.indicium.length - f.mac.length);
    if (f.device !== h.device) return `piece ${f.piece}: indicium of device ${f.device}`;
    if (f.test) return `piece ${f.piece}: a test imprint is no piece of the statistics`;
    if (f.piece !== h.previousPieces + i + 1) return `piece ${h.previousPieces + i + 1} of the list is numbered ${f.piece}: out of order`;
    if (!sameBytes(hmacSha256(deviceKey, body).substr(0, f.mac.length), f.mac)) return `piece ${f.piece}: its indicium's MAC does not authenticate`;
    if (p.band >= WEIGHT_BANDS_G.length) return `piece ${f.piece}: weight band ${p.band} out of range`;
    ascending += f.postage;
    if (f.ascending !== ascending) return `piece ${f.piece}: ascending register ${f.ascending}, the pieces before it sum to ${ascending}`;
    const k = `${f.customer}/${f.category}/${p.band}/${f.postage}`;
    const c = counts.get(k) ?? { pieces: 0, amount: 0 };
    c.pieces += 1;
    c.amount += f.postage;
    counts.set(k, c);
  }
  if (ascending !== h.ascending) return `the pieces sum to ${ascending - h.previousAscending}, the ascending register moved ${h.ascending - h.previousAscending}`;

  // exact records take their pieces; what is left of a (customer, category) is its summary record's
  const left = new Map<string, { pieces: number; amount: number }>();
  for (const [k, c] of counts) {
    const [customer, category] = k.split('/');
    const key = `${customer}/${category}`;
    const l = left.get(key) ?? { pieces: 0, amount: 0 };
    l.pieces += c.pieces;
    l.amount += c.amount;
    left.set(key, l);
  }
  for (const r of block.records) {
    if (r.weightBand === MIXED_BAND) continue;
    const c = counts.get(`${r.customer}/${r.category}/${r.weightBand}/${r.postage}`);
    const listed = c ? c.pieces : 0;
    const key = `${r.customer}/${r.category}`;
    const l = left.get(key);
    const folded = block.records.some((x) => x.weightBand === MIXED_BAND && x.customer === r.customer && x.category === r.category);
    if (listed < r.pieces || (!folded && listed !== r.pieces))
      return `customer ${r.customer} category ${r.category} band ${r.weightBand} postage ${r.postage}: the record counts ${r.pieces} pieces, the list ${listed}`;
    l!.pieces -= r.pieces;
    l!.amount -= r.amount;
  }
  for (const r of block.records) {
    if (r.weightBand !== MIXED_BAND) continue;
    const l = left.get(`${r.customer}/${r.category}`) ?? { pieces: 0, amount: 0 };
    if (l.pieces !== r.pieces || l.amount !== r.amount)
      return `customer ${r.customer} category ${r.category} (summary record): the record counts ${r.pieces} pieces and ${r.amount}, the list ${l.pieces} and ${l.amount}`;
    l.pieces = l.amount = 0;
  }
  for (const [k, l] of left) if (l.pieces) return `customer ${k.replace('/', ' category ')}: ${l.pieces} listed pieces are in no record`;
  return '';
}
