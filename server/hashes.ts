// SHA-256, HMAC-SHA256 and Ed25519 verification over byte strings, for the KMS and the PSS.
// @noble/hashes and tweetnacl are audited, dependency-free and give the same answers in
// every runtime; tools/bench/pss.ts measures them beside node:crypto.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import nacl from 'tweetnacl';
import { timingSafeEqual } from 'node:crypto';
import { toBytes, fromBytes } from './bytestrings.ts';

export function sha256(s: string): string {
  return fromBytes(nobleSha256(toBytes(s)));
}

export function hmacSha256(key: string, message: string): string {
  return fromBytes(hmac(nobleSha256, toBytes(key), toBytes(message)));
}

export function ed25519Verify(publicKey: string, message: string, signature: string): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  return nacl.sign.detached.verify(toBytes(message), toBytes(signature), toBytes(publicKey));
}

export function ed25519Sign(secretKey: Uint8Array, message: string): string {
  return fromBytes(nacl.sign.detached(toBytes(message), secretKey));
}

/** Constant-time comparison of two byte strings (a MAC check must not leak where it differs). */
export function sameBytes(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}
