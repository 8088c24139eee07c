// AEAD_AES_128_CBC_HMAC_SHA_256 (RFC 7518 §5.2.2, "A128CBC-HS256"): AES-128-CBC with
// PKCS#7 padding, then HMAC-SHA-256 over AAD || IV || C || AL truncated to 16 bytes
// (encrypt-then-MAC). Chosen because the Pico and Puck.js have native AES-CBC and SHA-256,
// so an image needs no cipher written in JavaScript; the composition is the few lines
// below. Shared by firmware, host and server: ES5-safe, byte strings in and out.
import { hmac } from './hmac.ts';
import { sameBytes } from './same-bytes.ts';
import { u32 } from './bytes.ts';

/** The block primitives an AEAD needs. `data` is a multiple of 16 bytes: no padding inside. */
export interface AeadPrims {
  sha256(bytes: string): string;
  aesCbcEncrypt(key: string, iv: string, data: string): string;
  aesCbcDecrypt(key: string, iv: string, data: string): string;
}

export var AEAD_KEY_BYTES = 32;
export var AEAD_IV_BYTES = 16;
export var AEAD_TAG_BYTES = 16;

/** T = HMAC-SHA-256(MAC_KEY, A || IV || C || AL)[0:16], AL = AAD length in bits, 64-bit big-endian. */
function tag(prims: AeadPrims, macKey: string, aad: string, iv: string, c: string): string {
  var bits = aad.length * 8;
  var hi = Math.floor(bits / 4294967296);
  return hmac(prims.sha256, macKey, aad + iv + c + u32(hi) + u32(bits - hi * 4294967296)).substr(0, AEAD_TAG_BYTES);
}

/** IV || C || T. Throws only on a key or IV of the wrong length (a programming error). */
export function aeadSeal(prims: AeadPrims, key: string, iv: string, aad: string, plaintext: string): string {
  if (key.length !== AEAD_KEY_BYTES || iv.length !== AEAD_IV_BYTES) throw new Error('aead: key must be 32 bytes and iv 16');
  var pad = 16 - (plaintext.length % 16);
  var p = plaintext;
  for (var i = 0; i < pad; i++) p += String.fromCharCode(pad);
  var c = prims.aesCbcEncrypt(key.substr(16, 16), iv, p);
  return iv + c + tag(prims, key.substr(0, 16), aad, iv, c);
}

/**
 * The plaintext, or null when anything is wrong (short or misaligned input, tag, padding,
 * key length): one answer for every failure, and the tag is checked before decrypting.
 */
export function aeadOpen(prims: AeadPrims, key: string, aad: string, sealed: string): string | null {
  var n = sealed.length - AEAD_IV_BYTES - AEAD_TAG_BYTES;
  if (key.length !== AEAD_KEY_BYTES || n < 16 || n % 16) return null;
  var iv = sealed.substr(0, AEAD_IV_BYTES);
  var c = sealed.substr(AEAD_IV_BYTES, n);
  if (!sameBytes(tag(prims, key.substr(0, 16), aad, iv, c), sealed.substr(AEAD_IV_BYTES + n))) return null;
  var p: string;
  try {
    p = prims.aesCbcDecrypt(key.substr(16, 16), iv, c);
  } catch (e) {
    return null;
  }
  // An authentic C always pads well; the check still reads all 16 tail bytes, whatever pad says.
  var pad = p.charCodeAt(p.length - 1);
  var bad = pad < 1 || pad > 16 ? 1 : 0;
  for (var i = 1; i <= 16; i++) if (i <= pad) bad |= p.charCodeAt(p.length - i) ^ pad;
  return bad ? null : p.substr(0, p.length - pad);
}
