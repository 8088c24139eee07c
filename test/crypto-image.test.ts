// The crypto vectors run on the built code, not only in Node. The crypto probe image
// (tools/crypto-probe) goes through the firmware's Rollup, Babel, terser and profile check.
// It binds the board through firmware/espruino/binding.ts and runs in the virtual board's
// Espruino-only sandbox. There it uses the board's emulated native SHA256 and AES.
// Boards covered: Pico (AES), ESP32 (AES and Ed25519), Bangle.js 2 (Ed25519, no AES-CBC),
// and MDBT42Q (no AES: the AEAD must report itself unavailable).
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { getBoard } from '../board-defs/index.ts';
import { buildCryptoProbe, startProbe, type RunningProbe, type ProbeImage } from '../tools/crypto-probe/build.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { sessionKeys, sealSessionMessage, openSessionMessage, TO_DEVICE, TO_SERVER } from '../protocol/session.ts';
import { nodeAeadPrims } from '../server/crypto-prims.ts';
import { RFC7518_B1 as B1, RFC8032_TESTS, RFC7748_SCALARMULT, RFC7748_DH, RFC4231_CASE2 } from '../testkit/crypto-rfc-vectors.ts';

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const sha256 = (b: string) => nodeCrypto.createHash('sha256').update(Buffer.from(b, 'latin1')).digest().toString('latin1');

const BOARDS = [
  { id: 'pico', aes: true, ed25519: false },
  { id: 'esp32', aes: true, ed25519: true },
  { id: 'banglejs2', aes: false, ed25519: true },
  { id: 'mdbt42q', aes: false, ed25519: false },
  { id: 'mdbt42q-lab', aes: true, ed25519: false }
];

for (const expected of BOARDS) {
  describe(`crypto on the built image: ${expected.id} probe on the virtual board`, function () {
    this.timeout(120000);
    const board = getBoard(expected.id);
    let image: ProbeImage;
    let probe: RunningProbe;

    before(async () => {
      image = await buildCryptoProbe(board);
      probe = startProbe(board, image);
    });
    after(() => probe?.stop());

    it('the image passes the Espruino 2v29 profile check and boots without an error', () => {
      expect(image.errors).to.deep.equal([]);
      expect(probe.log.join('\n')).to.not.match(/Uncaught/);
    });

    it(`reports AES ${expected.aes ? 'present' : 'absent'}, Ed25519 ${expected.ed25519 ? 'present' : 'absent'}, and the power-on self-test passes`, () => {
      expect(JSON.parse(probe.call('info'))).to.deep.equal({ aes: expected.aes, ed25519: expected.ed25519, selftest: null });
    });

    it('HMAC-SHA256 over the native SHA256: RFC 4231 case 2', () => {
      expect(probe.call('hmac', [RFC4231_CASE2.key, RFC4231_CASE2.data])).to.equal(RFC4231_CASE2.mac);
    });

    if (expected.aes) {
      it('AEAD over the native AES: RFC 7518 B.1 seals to IV || E || T and opens back', () => {
        expect(probe.call('aeadSeal', [B1.K, B1.IV, B1.A, B1.P])).to.equal(B1.IV + B1.E + B1.T);
        expect(probe.call('aeadOpen', [B1.K, B1.A, B1.IV + B1.E + B1.T])).to.equal(B1.P);
      });

      it('AEAD in the image: flipped IV, C or T bits, another AAD, or truncation give null', () => {
        const sealed = B1.IV + B1.E + B1.T;
        const flipAt = (h: string, byte: number) => h.slice(0, byte * 2) + ((parseInt(h.substr(byte * 2, 2), 16) ^ 1) | 256).toString(16).slice(1) + h.slice(byte * 2 + 2);
        for (const at of [0, 16, 100, 159, 160, 175]) expect(probe.call('aeadOpen', [B1.K, B1.A, flipAt(sealed, at)]), `byte ${at}`).to.equal('null');
        expect(probe.call('aeadOpen', [B1.K, flipAt(B1.A, 3), sealed])).to.equal('null');
        expect(probe.call('aeadOpen', [B1.K, B1.A, sealed.slice(0, -2)])).to.equal('null');
        expect(probe.call('aeadOpen', [B1.K, B1.A, sealed.slice(0, 60)])).to.equal('null');
      });

      it('the virtual board\'s native AES-CBC pads nothing and refuses a partial block, as mbedtls does', () => {
        const run = (data: string) =>
          probe.vb.evaluate(`E.toString(new Uint8Array(require("crypto").AES.encrypt(${JSON.stringify(data)}, "0123456789abcdef", { iv: "fedcba9876543210", mode: "CBC" })))`);
        expect(run('a'.repeat(32))).to.have.length(32);
        expect(() => run('a'.repeat(17))).to.throw();
      });

      it('session: the image derives the same keys as Node, and messages cross both ways', () => {
        const deviceKey = nodeCrypto.randomBytes(32).toString('latin1');
        const ns = nodeCrypto.randomBytes(16).toString('latin1');
        const nd = nodeCrypto.randomBytes(16).toString('latin1');
        const keys = sessionKeys(sha256, deviceKey, 4711, ns, nd, '')!;
        const keysHex = probe.call('sessionKeys', [hex(deviceKey), '4711', hex(ns), hex(nd), '']);
        expect(keysHex).to.equal(hex(keys.toDevice + keys.toServer));
        // PSS -> image
        const toDevice = sealSessionMessage(nodeAeadPrims, keys, TO_DEVICE, 1, nodeCrypto.randomBytes(16).toString('latin1'), '{"type":1,"payload":{}}');
        expect(probe.call('sessionOpen', [keysHex, '4711', String(TO_DEVICE), '1', hex(toDevice)])).to.equal('00000001' + hex('{"type":1,"payload":{}}'));
        // replay (minimum counter now 2), reflection (opened as a to-server message)
        expect(probe.call('sessionOpen', [keysHex, '4711', String(TO_DEVICE), '2', hex(toDevice)])).to.equal('null');
        expect(probe.call('sessionOpen', [keysHex, '4711', String(TO_SERVER), '1', hex(toDevice)])).to.equal('null');
        // image -> PSS
        const answer = fromHex(probe.call('sessionSeal', [keysHex, '4711', String(TO_SERVER), '1', hex(nodeCrypto.randomBytes(16).toString('latin1')), hex('{"ok":1}')]));
        expect(openSessionMessage(nodeAeadPrims, keys, TO_SERVER, 1, answer)).to.deep.equal({ counter: 1, plaintext: '{"ok":1}' });
        expect(openSessionMessage(nodeAeadPrims, keys, TO_DEVICE, 1, answer)).to.equal(null);
      });
    } else {
      it('AEAD and the session report themselves unavailable (no native AES-CBC)', () => {
        expect(probe.call('aeadSeal', [B1.K, B1.IV, B1.A, B1.P])).to.equal('unavailable');
        expect(probe.call('aeadOpen', [B1.K, B1.A, B1.IV + B1.E + B1.T])).to.equal('unavailable');
        expect(probe.call('sessionSeal', ['00'.repeat(64), '1', '2', '1', '00'.repeat(16), ''])).to.equal('unavailable');
      });
    }

    if (expected.ed25519) {
      for (const t of RFC8032_TESTS) {
        it(`Ed25519 in the image: RFC 8032 §7.1 ${t.name} public key and signature`, () => {
          expect(probe.call('edPublic', [t.secret])).to.equal(t.public);
          expect(probe.call('edSign', [t.secret + t.public, t.message])).to.equal(t.signature);
        });
      }

      it('X25519 in the image: RFC 7748 §5.2 vectors and the §6.1 exchange', () => {
        for (const v of RFC7748_SCALARMULT) expect(probe.call('x25519', [v.scalar, v.u])).to.equal(v.output);
        expect(probe.call('x25519Public', [RFC7748_DH.alicePrivate])).to.equal(RFC7748_DH.alicePublic);
        expect(probe.call('x25519Public', [RFC7748_DH.bobPrivate])).to.equal(RFC7748_DH.bobPublic);
        expect(probe.call('x25519', [RFC7748_DH.alicePrivate, RFC7748_DH.bobPublic])).to.equal(RFC7748_DH.shared);
        expect(probe.call('x25519', [RFC7748_DH.bobPrivate, RFC7748_DH.alicePublic])).to.equal(RFC7748_DH.shared);
        expect(probe.call('x25519', [RFC7748_DH.bobPrivate, '00'.repeat(32)])).to.equal('null');
      });

      it('the lazy Ed25519 and X25519 self-tests pass in the image', () => {
        expect(probe.call('selftest', ['ed25519'])).to.equal('pass');
        expect(probe.call('selftest', ['x25519'])).to.equal('pass');
      });
    } else {
      it('Ed25519 and X25519 are not in this image', () => {
        expect(probe.call('edSign', [RFC8032_TESTS[0].secret + RFC8032_TESTS[0].public, ''])).to.equal('unavailable');
        expect(probe.call('x25519', [RFC7748_DH.bobPrivate, RFC7748_DH.alicePublic])).to.equal('unavailable');
        expect(probe.call('selftest', ['ed25519'])).to.equal('unavailable');
        expect(image.code).to.not.contain('no PRNG'); // tweetnacl's own text
      });
    }
  });
}

describe('crypto on the built image: tweetnacl stays out of images that do not seal with Ed25519', function () {
  this.timeout(120000);
  it('the esp32 probe built as an hmac board is over 20 KB smaller and has no tweetnacl text', async () => {
    const esp32 = getBoard('esp32');
    const withNacl = await buildCryptoProbe(esp32);
    const without = await buildCryptoProbe(esp32, { seal: 'hmac' });
    expect(withNacl.code).to.contain('no PRNG');
    expect(without.code).to.not.contain('no PRNG');
    expect(withNacl.bytes - without.bytes).to.be.greaterThan(20000);
  });
});
