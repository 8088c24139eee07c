// AEAD_AES_128_CBC_HMAC_SHA_256 (protocol/aead.ts) against RFC 7518 Appendix B.1. The test
// uses two sets of primitives: the host's (@noble) and the test board's (node:crypto, as the
// virtual board emulates Espruino). It also covers tampering, padding and the power-on self-test.
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { aeadSeal, aeadOpen, type AeadPrims } from '../protocol/aead.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { hmac } from '../protocol/hmac.ts';
import { nodeAeadPrims } from '../server/crypto-prims.ts';
import { boardAeadPrims } from '../firmware/core/crypto/prims.ts';
import { cryptoSelfTest } from '../firmware/core/crypto/selftest.ts';
import { memoryBoard } from '../testkit/memory-board.ts';
import { RFC7518_B1 as B1 } from '../testkit/crypto-rfc-vectors.ts';

const K = fromHex(B1.K);
const IV = fromHex(B1.IV);
const A = fromHex(B1.A);
const P = fromHex(B1.P);

const primSets: [string, AeadPrims][] = [
  ['host primitives (@noble)', nodeAeadPrims],
  ['board primitives (node:crypto, as the virtual board)', boardAeadPrims(memoryBoard())!]
];

function flip(s: string, at: number, bit = 1): string {
  return s.slice(0, at) + String.fromCharCode(s.charCodeAt(at) ^ bit) + s.slice(at + 1);
}

describe('crypto: AEAD A128CBC-HS256 against RFC 7518 B.1', () => {
  it('the typed vector is the one the RFC prints (lengths, plaintext and AAD text)', () => {
    expect(K.length).to.equal(32);
    expect(IV.length).to.equal(16);
    expect(P).to.equal('A cipher system must not be required to be secret, and it must be able to fall into the hands of the enemy without inconvenience');
    expect(A).to.equal('The second principle of Auguste Kerckhoffs');
    expect(B1.AL).to.equal((A.length * 8).toString(16).padStart(16, '0'));
    expect(fromHex(B1.E).length).to.equal(144);
    expect(fromHex(B1.T).length).to.equal(16);
  });

  for (const [name, prims] of primSets) {
    describe(name, () => {
      it('seal gives IV || E || T exactly', () => {
        const sealed = aeadSeal(prims, K, IV, A, P);
        expect(toHex(sealed)).to.equal(B1.IV + B1.E + B1.T);
      });

      it('open of the RFC bytes gives P', () => {
        expect(aeadOpen(prims, K, A, fromHex(B1.IV + B1.E + B1.T))).to.equal(P);
      });

      it('any flipped bit of IV, C or T, a changed AAD or a wrong key: null', () => {
        const sealed = fromHex(B1.IV + B1.E + B1.T);
        for (const at of [0, 15, 16, 17, 100, 159, 160, 175]) {
          for (const bit of [1, 0x80]) expect(aeadOpen(prims, K, A, flip(sealed, at, bit)), `byte ${at} bit ${bit}`).to.equal(null);
        }
        expect(aeadOpen(prims, K, flip(A, 0), sealed)).to.equal(null);
        expect(aeadOpen(prims, K, A.slice(0, -1), sealed)).to.equal(null);
        expect(aeadOpen(prims, K, A + '\0', sealed)).to.equal(null);
        expect(aeadOpen(prims, K, '', sealed)).to.equal(null);
        expect(aeadOpen(prims, flip(K, 0), A, sealed), 'MAC key').to.equal(null);
        expect(aeadOpen(prims, flip(K, 31), A, sealed), 'ENC key').to.equal(null);
      });

      it('short, truncated, extended or misaligned input: null, never an exception', () => {
        const sealed = fromHex(B1.IV + B1.E + B1.T);
        for (const n of [0, 1, 16, 31, 32, 47, sealed.length - 1]) expect(aeadOpen(prims, K, A, sealed.slice(0, n)), `length ${n}`).to.equal(null);
        expect(aeadOpen(prims, K, A, sealed + '\0')).to.equal(null);
        expect(aeadOpen(prims, K, A, sealed.slice(0, 32) + sealed.slice(48))).to.equal(null);
        expect(aeadOpen(prims, K.slice(0, 16), A, sealed)).to.equal(null);
      });

      it('bad padding under a valid tag is refused (the tag alone does not make a plaintext)', () => {
        // Builds C and T the way RFC 7518 §5.2.2.1 does, over blocks that do not end in a
        // valid PKCS#7 pad.
        const macKey = K.slice(0, 16);
        const encKey = K.slice(16);
        const al = (n: number) => '\0\0\0\0' + String.fromCharCode((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
        for (const last of ['\x00', '\x11', '\xff', 'ABCDEFGHIJKLMN\x03\x02']) {
          const blocks = ('x'.repeat(32) + last).slice(-32);
          const c = prims.aesCbcEncrypt(encKey, IV, blocks);
          const t = hmac(prims.sha256, macKey, A + IV + c + al(A.length * 8)).slice(0, 16);
          expect(aeadOpen(prims, K, A, IV + c + t), toHex(last)).to.equal(null);
        }
      });

      it('round trips every length 0..48 and 512 bytes, with a fresh IV each time', () => {
        for (const n of [...Array(49).keys(), 512]) {
          const p = nodeCrypto.randomBytes(n).toString('latin1');
          const iv = nodeCrypto.randomBytes(16).toString('latin1');
          const sealed = aeadSeal(prims, K, iv, 'aad', p);
          expect(sealed.length).to.equal(16 + (Math.floor(n / 16) + 1) * 16 + 16);
          expect(aeadOpen(prims, K, 'aad', sealed), `length ${n}`).to.equal(p);
        }
      });
    });
  }

  it('both primitive sets agree on random inputs (host seals, board opens and back)', () => {
    const [, host] = primSets[0];
    const [, board] = primSets[1];
    for (let i = 0; i < 20; i++) {
      const key = nodeCrypto.randomBytes(32).toString('latin1');
      const iv = nodeCrypto.randomBytes(16).toString('latin1');
      const p = nodeCrypto.randomBytes(i * 7).toString('latin1');
      expect(aeadOpen(board, key, 'x', aeadSeal(host, key, iv, 'x', p))).to.equal(p);
      expect(aeadOpen(host, key, 'x', aeadSeal(board, key, iv, 'x', p))).to.equal(p);
    }
  });

  it('the board primitive refuses data that is not whole blocks, as mbedtls does', () => {
    const prims = boardAeadPrims(memoryBoard())!;
    expect(() => prims.aesCbcEncrypt(K.slice(16), IV, 'abc')).to.throw(/multiple of 16/);
    expect(() => nodeAeadPrims.aesCbcEncrypt(K.slice(16), IV, 'abc')).to.throw(/multiple of 16/);
  });

  it('seal refuses a key or IV of the wrong length', () => {
    expect(() => aeadSeal(nodeAeadPrims, K.slice(1), IV, A, P)).to.throw(/32 bytes/);
    expect(() => aeadSeal(nodeAeadPrims, K, IV.slice(1), A, P)).to.throw(/16/);
  });

  it('a board without native AES has no AEAD primitives', () => {
    expect(boardAeadPrims(memoryBoard({ aes: false }))).to.equal(null);
  });
});

describe('crypto: power-on self-test (firmware/core/crypto/selftest.ts)', () => {
  it('passes on a board with SHA-256 and AES, and on one without AES', () => {
    expect(cryptoSelfTest(memoryBoard())).to.equal(null);
    expect(cryptoSelfTest(memoryBoard({ aes: false }))).to.equal(null);
  });

  it('names HMAC-SHA256 when the hash is broken', () => {
    const b = memoryBoard();
    const good = b.sha256;
    b.sha256 = (s) => flip(good(s), 5);
    expect(cryptoSelfTest(b)).to.equal('hmac-sha256');
  });

  it('names the AEAD when AES is broken, or throws', () => {
    const b = memoryBoard();
    const enc = b.aesCbc!.encrypt;
    b.aesCbc!.encrypt = (k, iv, d) => flip(enc(k, iv, d), 40);
    expect(cryptoSelfTest(b)).to.equal('aead');
    const c = memoryBoard();
    c.aesCbc!.decrypt = () => {
      throw new Error('INVALID_INPUT_LENGTH');
    };
    expect(cryptoSelfTest(c)).to.equal('aead');
  });
});
