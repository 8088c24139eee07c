// Power-on known-answer tests of the crypto this image uses. Each returns null when it
// passes, or the name of the test that failed. They check published vectors, so a broken
// native library or a miscompiled image is caught before it seals anything.
// cryptoSelfTest runs at every boot: it takes milliseconds.
// The Ed25519 and X25519 tests take seconds on a board (7 s and 3.8 s on the x86-64
// interpreter). Run them once, before the first signature or the first X25519 session.
import { Board } from '../../board.ts';
import { fromHex } from '../../../protocol/bytes.ts';
import { aeadSeal, aeadOpen } from '../../../protocol/aead.ts';
import { hmac } from '../../../protocol/hmac.ts';
import { sameBytes } from '../../../protocol/same-bytes.ts';
import { boardAeadPrims } from './prims.ts';

// RFC 7518 Appendix B.1 (A128CBC-HS256): K = 00 01 .. 1f, and P and A as ASCII text.
// T covers C, so a right T also means the ciphertext was right.
var B1_P = 'A cipher system must not be required to be secret, and it must be able to fall into the hands of the enemy without inconvenience';
var B1_A = 'The second principle of Auguste Kerckhoffs';

function aeadKat(board: Board): boolean {
  var prims = boardAeadPrims(board)!;
  var key = '';
  for (var i = 0; i < 32; i++) key += String.fromCharCode(i);
  var sealed = aeadSeal(prims, key, fromHex('1af38c2dc2b96ffdd86694092341bc04'), B1_A, B1_P);
  return sameBytes(sealed.substr(sealed.length - 16), fromHex('652c3fa36b0a7c5b3219fab3a30bc1c4')) && aeadOpen(prims, key, B1_A, sealed) === B1_P;
}

/** At boot: HMAC-SHA256 (RFC 4231 case 2), and AEAD (RFC 7518 B.1) where the board has AES. */
export function cryptoSelfTest(board: Board): string | null {
  try {
    if (!sameBytes(hmac(board.sha256, 'Jefe', 'what do ya want for nothing?'), fromHex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'))) return 'hmac-sha256';
  } catch (e) {
    return 'hmac-sha256';
  }
  try {
    if (board.aesCbc && !aeadKat(board)) return 'aead';
  } catch (e) {
    return 'aead';
  }
  return null;
}

// the lazy Ed25519 and X25519 tests live beside the code they test (nacl.ts), so the boot
// code reaches them without the rest of this file
export { ed25519SelfTest, x25519SelfTest } from './nacl.ts';
