// Published vectors: NIST FIPS 180-2 (SHA-256) and RFC 4231 (HMAC-SHA256).
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { sha256 } from '../protocol/sha256.ts';
import { hmac } from '../protocol/hmac.ts';
import { toHex, fromHex } from '../protocol/bytes.ts';

export const SHA256_VECTORS: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  [
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1'
  ]
];

// RFC 4231 test cases 1, 2, 3, 4, 6, 7 (case 5 is about truncation)
export const HMAC_VECTORS: { key: string; data: string; mac: string }[] = [
  { key: '0b'.repeat(20), data: toHex('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  { key: toHex('Jefe'), data: toHex('what do ya want for nothing?'), mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
  { key: 'aa'.repeat(20), data: 'dd'.repeat(50), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
  { key: '0102030405060708090a0b0c0d0e0f10111213141516171819', data: 'cd'.repeat(50), mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b' },
  { key: 'aa'.repeat(131), data: toHex('Test Using Larger Than Block-Size Key - Hash Key First'), mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54' },
  {
    key: 'aa'.repeat(131),
    data: toHex('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'
  }
];

describe('crypto: SHA-256 fallback against NIST FIPS 180-2', () => {
  for (const [msg, digest] of SHA256_VECTORS) {
    it(`"${msg.slice(0, 20)}${msg.length > 20 ? '...' : ''}" (${msg.length} bytes)`, () => {
      expect(toHex(sha256(msg))).to.equal(digest);
    });
  }
  it('one million "a" (FIPS 180-2 long message)', () => {
    expect(toHex(sha256('a'.repeat(1000000)))).to.equal('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });
  it('agrees with Node for every length around the padding boundary', () => {
    for (let n = 0; n < 130; n++) {
      const m = nodeCrypto.randomBytes(n).toString('latin1');
      expect(toHex(sha256(m)), `length ${n}`).to.equal(nodeCrypto.createHash('sha256').update(Buffer.from(m, 'latin1')).digest('hex'));
    }
  });
});

describe('crypto: HMAC-SHA256 against RFC 4231', () => {
  HMAC_VECTORS.forEach((v, i) => {
    it(`case ${[1, 2, 3, 4, 6, 7][i]}`, () => {
      expect(toHex(hmac(sha256, fromHex(v.key), fromHex(v.data)))).to.equal(v.mac);
    });
  });
});
