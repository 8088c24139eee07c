// The per-piece chain a PSD with per-piece data seals into its blocks (layout and purpose:
// protocol/block.ts). Its own file because the resident franking path computes it: a module
// the firmware core imports is bundled into the core, and protocol/block.ts belongs to the
// on-demand sealing code.
import { u32 } from './bytes.ts';

/** The per-piece chain's start for block `seq` of `device` (protocol/block.ts). */
export function pieceChainStart(sha256: (b: string) => string, device: number, seq: number): string {
  return sha256('PSD-PIECES' + u32(device) + u32(seq));
}

/** One piece into the chain: its weight band and its indicium's bytes. */
export function pieceChainStep(sha256: (b: string) => string, chain: string, band: number, indicium: string): string {
  return sha256(chain + String.fromCharCode(band) + indicium);
}
