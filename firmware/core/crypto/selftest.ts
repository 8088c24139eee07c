// Power-on known-answer tests of the crypto this image uses. Each returns null when it
// passes, or the name of the test that failed. They check published vectors, so a broken
// native library or a miscompiled image is caught before it seals anything.
// cryptoSelfTest runs at every boot: it takes milliseconds.
// The Ed25519 and X25519 tests take seconds on a board (7 s and 3.8 s on the x86-64
// interpreter). Run them once, before the first signature or the first X25519 session.
import { Board } from '../../board.ts';
import { fromHex } from '../../../protocol/bytes.ts';
import { aeadSeal, aeadOpen } from '../../../protocol/aead.ts';
import { hmac, sameBytes } from '../hmac.ts';
import { boardAeadPrims } from './prims.ts';
import { ed25519Sign, x25519 } from './nacl.ts';

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

/** Before the first signature (ed25519 boards): RFC 8032 §7.1 TEST 2, signed with its secret key. */
export function ed25519SelfTest(): string | null {
  try {
    var sk = fromHex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
    var sig = fromHex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00');
    return sameBytes(ed25519Sign('\x72', sk), sig) ? null : 'ed25519';
  } catch (e) {
    return 'ed25519';
  }
}

/** Before the first X25519 session (ed25519 boards): RFC 7748 §5.2, first vector. */
export function x25519SelfTest(): string | null {
  try {
    var out = x25519(
      fromHex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
      fromHex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')
    );
    return out !== null && sameBytes(out, fromHex('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552')) ? null : 'x25519';
  } catch (e) {
    return 'x25519';
  }
}
