// Ed25519 and X25519 (firmware/core/crypto/nacl.ts over tweetnacl) against RFC 8032 §7.1 and
// RFC 7748 §5.2 / §6.1, in Node. test/crypto-image.test.ts runs the same vectors inside the built image.
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { ed25519KeyPair, ed25519Sign, x25519, x25519Public, x25519KeyPair, naclUseRandom } from '../firmware/core/crypto/nacl.ts';
import { ed25519SelfTest, x25519SelfTest } from '../firmware/core/crypto/selftest.ts';
import { RFC8032_TESTS, RFC7748_SCALARMULT, RFC7748_DH } from '../testkit/crypto-rfc-vectors.ts';
import nacl from 'tweetnacl';

describe('crypto: Ed25519 against RFC 8032 §7.1', () => {
  for (const t of RFC8032_TESTS) {
    it(`${t.name}: public key from the secret key, and the signature`, () => {
      const kp = ed25519KeyPair(fromHex(t.secret));
      expect(toHex(kp.publicKey)).to.equal(t.public);
      expect(toHex(kp.secretKey)).to.equal(t.secret + t.public);
      expect(toHex(ed25519Sign(fromHex(t.message), kp.secretKey))).to.equal(t.signature);
    });
  }

  it('signatures verify under Node\'s own Ed25519 (OpenSSL), and fail for another message', () => {
    const kp = ed25519KeyPair(nodeCrypto.randomBytes(32).toString('latin1'));
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(kp.publicKey, 'latin1')]);
    const pub = nodeCrypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
    const msg = 'block 42';
    const sig = Buffer.from(ed25519Sign(msg, kp.secretKey), 'latin1');
    expect(nodeCrypto.verify(null, Buffer.from(msg, 'latin1'), pub, sig)).to.equal(true);
    expect(nodeCrypto.verify(null, Buffer.from('block 43', 'latin1'), pub, sig)).to.equal(false);
  });

  it('refuses keys of the wrong length', () => {
    expect(() => ed25519KeyPair('x'.repeat(31))).to.throw(/32 bytes/);
    expect(() => ed25519Sign('m', 'x'.repeat(32))).to.throw(/64 bytes/);
  });
});

describe('crypto: X25519 against RFC 7748', () => {
  RFC7748_SCALARMULT.forEach((v, i) => {
    it(`§5.2 vector ${i + 1}`, () => {
      expect(toHex(x25519(fromHex(v.scalar), fromHex(v.u))!)).to.equal(v.output);
    });
  });

  it('§6.1 Alice and Bob: public keys and the shared secret', () => {
    const d = RFC7748_DH;
    expect(toHex(x25519Public(fromHex(d.alicePrivate)))).to.equal(d.alicePublic);
    expect(toHex(x25519Public(fromHex(d.bobPrivate)))).to.equal(d.bobPublic);
    expect(toHex(x25519(fromHex(d.alicePrivate), fromHex(d.bobPublic))!)).to.equal(d.shared);
    expect(toHex(x25519(fromHex(d.bobPrivate), fromHex(d.alicePublic))!)).to.equal(d.shared);
  });

  it('a low-order peer point (all-zero result) is refused', () => {
    const secret = nodeCrypto.randomBytes(32).toString('latin1');
    expect(x25519(secret, '\0'.repeat(32))).to.equal(null);
    expect(x25519(secret, '\x01' + '\0'.repeat(31))).to.equal(null);
  });

  it('an ephemeral key pair from the board random source agrees with the peer', () => {
    const rnd = () => nodeCrypto.randomBytes(4).readUInt32BE(0);
    const a = x25519KeyPair(rnd);
    const b = x25519KeyPair(rnd);
    expect(a.secretKey).to.have.length(32);
    expect(a.secretKey).to.not.equal(b.secretKey);
    expect(x25519(a.secretKey, b.publicKey)).to.equal(x25519(b.secretKey, a.publicKey));
  });

  it('naclUseRandom feeds tweetnacl\'s PRNG from random32', () => {
    let calls = 0;
    naclUseRandom(() => {
      calls++;
      return 0x04030201;
    });
    expect(Array.from(nacl.randomBytes(6))).to.deep.equal([1, 2, 3, 4, 1, 2]);
    expect(calls).to.equal(2);
    naclUseRandom(() => nodeCrypto.randomBytes(4).readUInt32BE(0));
  });
});

describe('crypto: lazy Ed25519 / X25519 self-tests', () => {
  it('pass in Node', () => {
    expect(ed25519SelfTest()).to.equal(null);
    expect(x25519SelfTest()).to.equal(null);
  });
});
