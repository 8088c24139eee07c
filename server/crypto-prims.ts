// The AEAD's primitives on the host and the data center: SHA-256 from @noble/hashes and
// AES-128-CBC (no padding: protocol/aead.ts pads) from @noble/ciphers. These are not the
// implementations the virtual board and the test board use (node:crypto), so a session
// test between the two sides also checks one implementation against another.
import { sha256 } from '@noble/hashes/sha2.js';
import { cbc } from '@noble/ciphers/aes.js';
import type { AeadPrims } from '../protocol/aead.ts';

function bytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

function str(u: Uint8Array): string {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('latin1');
}

function checkBlocks(data: string): void {
  if (data.length % 16) throw new Error('AES-CBC: data length must be a multiple of 16');
}

export const nodeAeadPrims: AeadPrims = {
  sha256: (b) => str(sha256(bytes(b))),
  aesCbcEncrypt(key, iv, data) {
    checkBlocks(data);
    return str(cbc(bytes(key), bytes(iv), { disablePadding: true }).encrypt(bytes(data)));
  },
  aesCbcDecrypt(key, iv, data) {
    checkBlocks(data);
    return str(cbc(bytes(key), bytes(iv), { disablePadding: true }).decrypt(bytes(data)));
  }
};
