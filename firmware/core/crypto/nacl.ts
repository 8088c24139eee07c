// Ed25519 (RFC 8032) and X25519 (RFC 7748) on byte strings, over tweetnacl's nacl-fast.
// Espruino has no asymmetric crypto of its own. Only ed25519 boards (Bangle.js 2, ESP32)
// call into this module: the build's HAS_ED25519 flag keeps it, and tweetnacl, out of every
// other image (rollup.config.js serves 'tweetnacl' as a side-effect-free ES module).
// Costs on the interpreter (Espruino Linux build, x86-64): key pair from seed 7.0 s,
// sign 7.0 s, X25519 3.8 s. These are scheduled operations, never per-piece ones.
import nacl from 'tweetnacl';
import { fromHex } from '../../../protocol/bytes.ts';
import { sameBytes } from '../../../protocol/same-bytes.ts';

function toU8(s: string): Uint8Array {
  var u = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 255;
  return u;
}

function fromU8(u: Uint8Array): string {
  var s = '';
  for (var i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
  return s;
}

/**
 * Gives tweetnacl the board's random source (E.hwRand on Espruino). The library's own probe
 * for window.crypto or Node's crypto is switched off in the image, and none of the functions
 * below draw randomness from the library.
 */
export function naclUseRandom(random32: () => number): void {
  nacl.setPRNG(function (x: Uint8Array, n: number) {
    for (var i = 0; i < n; i += 4) {
      var r = random32();
      for (var j = 0; j < 4 && i + j < n; j++) x[i + j] = (r >>> (8 * j)) & 255;
    }
  });
}

/** Ed25519 key pair from a 32-byte seed: secretKey is 64 bytes (seed || public key). */
export function ed25519KeyPair(seed: string): { publicKey: string; secretKey: string } {
  if (seed.length !== 32) throw new Error('ed25519: seed must be 32 bytes');
  var kp = nacl.sign.keyPair.fromSeed(toU8(seed));
  return { publicKey: fromU8(kp.publicKey), secretKey: fromU8(kp.secretKey) };
}

/** 64-byte Ed25519 signature of `message` under a 64-byte secret key (seed || public key). */
export function ed25519Sign(message: string, secretKey: string): string {
  if (secretKey.length !== 64) throw new Error('ed25519: secret key must be 64 bytes');
  return fromU8(nacl.sign.detached(toU8(message), toU8(secretKey)));
}

/** X25519 public key of a 32-byte secret (the secret is clamped as RFC 7748 says). */
export function x25519Public(secret: string): string {
  if (secret.length !== 32) throw new Error('x25519: secret must be 32 bytes');
  return fromU8(nacl.scalarMult.base(toU8(secret)));
}

/**
 * X25519(secret, peer public). Returns null when the result is all zeros, which happens when the
 * peer's point has low order. RFC 7748 §6.1 says to reject it, so a session never runs on such a key.
 */
export function x25519(secret: string, peerPublic: string): string | null {
  if (secret.length !== 32 || peerPublic.length !== 32) throw new Error('x25519: keys must be 32 bytes');
  var out = nacl.scalarMult(toU8(secret), toU8(peerPublic));
  var any = 0;
  for (var i = 0; i < out.length; i++) any |= out[i];
  return any ? fromU8(out) : null;
}

/** A fresh ephemeral X25519 key pair from the board's random source. */
export function x25519KeyPair(random32: () => number): { secretKey: string; publicKey: string } {
  var secret = '';
  while (secret.length < 32) {
    var r = random32();
    secret += String.fromCharCode(r & 255, (r >>> 8) & 255, (r >>> 16) & 255, (r >>> 24) & 255);
  }
  return { secretKey: secret, publicKey: x25519Public(secret) };
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
