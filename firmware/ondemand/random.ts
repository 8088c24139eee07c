// Random bytes from the board's source, for the modules that make keys and nonces
// (provisioning, the secure session): a chunk of its own (psd.xrandom), not resident.
import { Board } from '../board.ts';

export function randomBytes(board: Board, n: number): string {
  var out = '';
  while (out.length < n) {
    var r = board.random32();
    out += String.fromCharCode(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, (r >>> 24) & 0xff);
  }
  return out.substr(0, n);
}
