// The AEAD's primitives on a board: its SHA-256 and its native AES-CBC.
import { Board } from '../../board.ts';
import { AeadPrims } from '../../../protocol/aead.ts';

/** null where the board has no native AES: it cannot run the AEAD or the secure session. */
export function boardAeadPrims(board: Board): AeadPrims | null {
  var aes = board.aesCbc;
  if (!aes) return null;
  return { sha256: board.sha256, aesCbcEncrypt: aes.encrypt, aesCbcDecrypt: aes.decrypt };
}
