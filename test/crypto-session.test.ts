// The PSD <-> PSS secure session (protocol/session.ts), both sides in Node. The PSD side uses
// the test board's primitives (node:crypto AES, like the virtual board) and tweetnacl X25519
// (firmware/core/crypto/nacl.ts). The PSS side uses the host's @noble primitives and
// OpenSSL's X25519. In between, a relaying host that sees only bytes tries replay, reorder,
// reflection, tampering and a wrong key; each attempt must be refused.
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { asciiJson, fromHex, toHex } from '../protocol/bytes.ts';
import {
  sessionKeys, sealSessionMessage, openSessionMessage, sessionEnd, sessionSend, sessionReceive,
  TO_DEVICE, TO_SERVER, type SessionEnd, type SessionKeys
} from '../protocol/session.ts';
import type { AeadPrims } from '../protocol/aead.ts';
import { nodeAeadPrims } from '../server/crypto-prims.ts';
import { boardAeadPrims } from '../firmware/core/crypto/prims.ts';
import { x25519, x25519KeyPair } from '../firmware/core/crypto/nacl.ts';
import { memoryBoard } from '../testkit/memory-board.ts';

const rnd = (n: number) => nodeCrypto.randomBytes(n).toString('latin1');
const sha256 = (b: string) => nodeCrypto.createHash('sha256').update(Buffer.from(b, 'latin1')).digest().toString('latin1');
const DEVICE = 4711;
const DEVICE_KEY = rnd(32);

/** OpenSSL X25519 for the PSS side (raw keys wrapped in their DER headers). */
function opensslX25519() {
  const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync('x25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('latin1');
  return {
    publicKey: pub,
    shared(peer: string): string {
      const der = Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), Buffer.from(peer, 'latin1')]);
      const peerKey = nodeCrypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
      return nodeCrypto.diffieHellman({ privateKey, publicKey: peerKey }).toString('latin1');
    }
  };
}

/** The PSD's side, as the firmware's command handler would run it. */
class Psd {
  board = memoryBoard();
  prims: AeadPrims = boardAeadPrims(this.board)!;
  end: SessionEnd | null = null;
  handled: any[] = [];
  constructor(private deviceKey: string, private canX25519: boolean) {}

  /** SESSION_OPEN {nonce[, x25519]} -> {device, nonce[, x25519]} */
  open(req: { nonce: string; x25519?: string }): { device: number; nonce: string; x25519?: string } {
    const nonce = rnd(16);
    let shared = '';
    let pub: string | undefined;
    if (req.x25519 && this.canX25519) {
      const kp = x25519KeyPair(this.board.random32);
      const s = x25519(kp.secretKey, fromHex(req.x25519));
      if (!s) throw new Error('low-order key');
      shared = s;
      pub = toHex(kp.publicKey);
    }
    const keys = sessionKeys(this.board.sha256, this.deviceKey, DEVICE, fromHex(req.nonce), nonce, shared)!;
    this.end = sessionEnd(keys, true);
    return { device: DEVICE, nonce: toHex(nonce), ...(pub ? { x25519: pub } : {}) };
  }

  /** An inner request -> the sealed answer, or null when the message does not open. */
  message(sealed: string): string | null {
    const plain = sessionReceive(this.prims, this.end!, sealed);
    if (plain === null) return null;
    const req = JSON.parse(plain);
    this.handled.push(req);
    return sessionSend(this.prims, this.end!, rnd(16), asciiJson({ type: req.type | 0x80, payload: { echo: req.payload } }));
  }
}

/** The PSS's side. */
class Pss {
  end: SessionEnd | null = null;
  private nonce = rnd(16);
  private eph = opensslX25519();
  constructor(private deviceKey: string, private offerX25519: boolean) {}

  openRequest() {
    return { nonce: toHex(this.nonce), ...(this.offerX25519 ? { x25519: toHex(this.eph.publicKey) } : {}) };
  }

  accept(answer: { device: number; nonce: string; x25519?: string }): void {
    const shared = this.offerX25519 && answer.x25519 ? this.eph.shared(fromHex(answer.x25519)) : '';
    this.end = sessionEnd(sessionKeys(sha256, this.deviceKey, answer.device, this.nonce, fromHex(answer.nonce), shared)!, false);
  }

  request(type: number, payload: object): string {
    return sessionSend(nodeAeadPrims, this.end!, rnd(16), asciiJson({ type, payload }));
  }

  answer(sealed: string): any {
    const p = sessionReceive(nodeAeadPrims, this.end!, sealed);
    return p === null ? null : JSON.parse(p);
  }
}

function handshake(opts: { x25519: boolean; deviceCan?: boolean; pssKey?: string }) {
  const psd = new Psd(DEVICE_KEY, opts.deviceCan ?? opts.x25519);
  const pss = new Pss(opts.pssKey ?? DEVICE_KEY, opts.x25519);
  // the host relays JSON it cannot use
  pss.accept(JSON.parse(JSON.stringify(psd.open(JSON.parse(JSON.stringify(pss.openRequest()))))));
  return { psd, pss };
}

for (const mode of [{ name: 'pre-shared key and nonces', x25519: false }, { name: 'with an X25519 share', x25519: true }]) {
  describe(`session: full handshake, ${mode.name}`, () => {
    it('a few requests and answers go through, in order, with counters 1, 2, 3', () => {
      const { psd, pss } = handshake(mode);
      for (let i = 1; i <= 3; i++) {
        const req = pss.request(0x10 + i, { n: i });
        expect(req.charCodeAt(3)).to.equal(i);
        const ans = psd.message(req);
        expect(ans, `request ${i}`).to.be.a('string');
        expect(pss.answer(ans!)).to.deep.equal({ type: (0x10 + i) | 0x80, payload: { echo: { n: i } } });
      }
      expect(psd.handled.map((r) => r.type)).to.deep.equal([0x11, 0x12, 0x13]);
    });

    it('the host sees no plaintext: the payload text is not in the relayed bytes', () => {
      const { psd, pss } = handshake(mode);
      const req = pss.request(0x11, { secret: 'funds-4711' });
      expect(req).to.not.contain('funds');
      expect(psd.message(req)).to.not.contain('funds');
    });

    it('a replayed request is refused and changes nothing', () => {
      const { psd, pss } = handshake(mode);
      const r1 = pss.request(0x11, {});
      expect(psd.message(r1)).to.be.a('string');
      expect(psd.message(r1)).to.equal(null);
      expect(psd.handled).to.have.length(1);
      expect(psd.message(pss.request(0x12, {}))).to.be.a('string');
    });

    it('reordered requests: the later one is taken, the earlier one is then refused', () => {
      const { psd, pss } = handshake(mode);
      const r1 = pss.request(0x11, {});
      const r2 = pss.request(0x12, {});
      expect(psd.message(r2)).to.be.a('string');
      expect(psd.message(r1)).to.equal(null);
      expect(psd.handled.map((r) => r.type)).to.deep.equal([0x12]);
    });

    it('a replayed or reordered answer is refused by the PSS', () => {
      const { psd, pss } = handshake(mode);
      const a1 = psd.message(pss.request(0x11, {}))!;
      const a2 = psd.message(pss.request(0x12, {}))!;
      expect(pss.answer(a2)).to.not.equal(null);
      expect(pss.answer(a1)).to.equal(null);
      expect(pss.answer(a2)).to.equal(null);
    });

    it('reflection: an answer fed back to the PSD, or a request fed back to the PSS, does not open', () => {
      const { psd, pss } = handshake(mode);
      const req = pss.request(0x11, {});
      const ans = psd.message(req)!;
      expect(psd.message(ans)).to.equal(null);
      // even with its counter raised above anything the PSD accepted
      expect(psd.message('\0\0\0\x09' + ans.slice(4))).to.equal(null);
      expect(pss.answer(req)).to.equal(null);
    });

    it('a PSS with the wrong device key: its first request does not open at the PSD', () => {
      const { psd, pss } = handshake({ ...mode, pssKey: rnd(32) });
      expect(psd.message(pss.request(0x11, {}))).to.equal(null);
      expect(psd.handled).to.have.length(0);
    });

    it('the host changes a nonce (or the X25519 key) in the handshake: no message opens', () => {
      const psd = new Psd(DEVICE_KEY, mode.x25519);
      const pss = new Pss(DEVICE_KEY, mode.x25519);
      const answer = psd.open(pss.openRequest());
      const forged = { ...answer, nonce: toHex(rnd(16)) };
      pss.accept(forged);
      expect(psd.message(pss.request(0x11, {}))).to.equal(null);
      if (mode.x25519) {
        const psd2 = new Psd(DEVICE_KEY, true);
        const pss2 = new Pss(DEVICE_KEY, true);
        const a2 = psd2.open(pss2.openRequest());
        pss2.accept({ ...a2, x25519: toHex(x25519KeyPair(() => nodeCrypto.randomBytes(4).readUInt32BE(0)).publicKey) });
        expect(psd2.message(pss2.request(0x11, {}))).to.equal(null);
      }
    });

    it('a message of another session (same keys, fresh nonces) does not open', () => {
      const a = handshake(mode);
      const b = handshake(mode);
      expect(b.psd.message(a.pss.request(0x11, {}))).to.equal(null);
    });

    it('tampered bytes anywhere in a message: refused', () => {
      const { psd, pss } = handshake(mode);
      const req = pss.request(0x11, {});
      for (let at = 0; at < req.length; at += 7) {
        const bad = req.slice(0, at) + String.fromCharCode(req.charCodeAt(at) ^ 4) + req.slice(at + 1);
        expect(psd.message(bad), `byte ${at}`).to.equal(null);
      }
      expect(psd.message(req)).to.be.a('string');
    });
  });
}

describe('session: keys and messages', () => {
  const keysOf = (shared = ''): SessionKeys => sessionKeys(sha256, DEVICE_KEY, DEVICE, 'S'.repeat(16), 'D'.repeat(16), shared)!;

  it('each key is HMAC-SHA256(deviceKey, "PSD-SESSION" || dir || u32 device || nonces || shared)', () => {
    const shared = rnd(32);
    const k = keysOf(shared);
    const tail = Buffer.concat([Buffer.from([0, 0, 0x12, 0x67]), Buffer.from('S'.repeat(16) + 'D'.repeat(16)), Buffer.from(shared, 'latin1')]);
    const mac = (dir: number) =>
      nodeCrypto.createHmac('sha256', Buffer.from(DEVICE_KEY, 'latin1')).update(Buffer.concat([Buffer.from('PSD-SESSION'), Buffer.from([dir]), tail])).digest('hex');
    expect(toHex(k.toDevice)).to.equal(mac(1));
    expect(toHex(k.toServer)).to.equal(mac(2));
    expect(k.device).to.equal(DEVICE);
  });

  it('wrong input lengths give null', () => {
    expect(sessionKeys(sha256, rnd(31), 1, rnd(16), rnd(16), '')).to.equal(null);
    expect(sessionKeys(sha256, rnd(32), 1, rnd(15), rnd(16), '')).to.equal(null);
    expect(sessionKeys(sha256, rnd(32), 1, rnd(16), rnd(17), '')).to.equal(null);
    expect(sessionKeys(sha256, rnd(32), 1, rnd(16), rnd(16), rnd(16))).to.equal(null);
  });

  it('the counter is in clear in front and bound into the AAD: changing it breaks the tag', () => {
    const k = keysOf();
    const m = sealSessionMessage(nodeAeadPrims, k, TO_DEVICE, 7, rnd(16), 'hello');
    expect(m.slice(0, 4)).to.equal('\0\0\0\x07');
    expect(openSessionMessage(nodeAeadPrims, k, TO_DEVICE, 7, m)).to.deep.equal({ counter: 7, plaintext: 'hello' });
    expect(openSessionMessage(nodeAeadPrims, k, TO_DEVICE, 8, m)).to.equal(null);
    expect(openSessionMessage(nodeAeadPrims, k, TO_DEVICE, 1, '\0\0\0\x08' + m.slice(4))).to.equal(null);
    expect(openSessionMessage(nodeAeadPrims, k, TO_SERVER, 1, m)).to.equal(null);
    expect(openSessionMessage(nodeAeadPrims, k, 3, 1, m)).to.equal(null);
    expect(openSessionMessage(nodeAeadPrims, k, TO_DEVICE, 1, 'abc')).to.equal(null);
  });

  it('another device number (same keys) does not open: the device is in the AAD', () => {
    const k = keysOf();
    const m = sealSessionMessage(nodeAeadPrims, k, TO_DEVICE, 1, rnd(16), 'x');
    expect(openSessionMessage(nodeAeadPrims, { ...k, device: DEVICE + 1 }, TO_DEVICE, 1, m)).to.equal(null);
  });

  it('refuses to seal counter 0, a non-u32 counter or an unknown direction', () => {
    const k = keysOf();
    expect(() => sealSessionMessage(nodeAeadPrims, k, TO_DEVICE, 0, rnd(16), 'x')).to.throw(/counter/);
    expect(() => sealSessionMessage(nodeAeadPrims, k, TO_DEVICE, 2 ** 32, rnd(16), 'x')).to.throw(/counter/);
    expect(() => sealSessionMessage(nodeAeadPrims, k, 5, 1, rnd(16), 'x')).to.throw(/direction/);
  });

  it('a board that cannot do X25519 answers without a share, and the session still works (PSK only)', () => {
    const { psd, pss } = handshake({ x25519: true, deviceCan: false });
    const ans = psd.message(pss.request(0x11, { a: 1 }));
    expect(pss.answer(ans!)).to.deep.equal({ type: 0x91, payload: { echo: { a: 1 } } });
  });
});
