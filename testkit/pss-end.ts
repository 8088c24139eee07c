// The PSS end of a secure session, as the data center runs it, for tests that talk to a
// device's SESSION_OPEN / SESSION handlers directly (protocol/session.ts and Node's crypto).
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { Command } from '../protocol/commands.ts';
import { fromHex, toHex, asciiJson } from '../protocol/bytes.ts';
import { sessionKeys, sealSessionMessage, openSessionMessage, TO_DEVICE, TO_SERVER, type SessionKeys } from '../protocol/session.ts';
import { nodeAeadPrims } from '../server/crypto-prims.ts';
import { sha256Bytes } from '../host-bridge/extract.ts';
import { DeviceError, type Device, type TestKms } from './harness.ts';

export class PssEnd {
  keys!: SessionKeys;
  sent = 0;
  received = 0;
  constructor(private kms: TestKms) {}
  async open(d: Device) {
    const nonce = nodeCrypto.randomBytes(16).toString('latin1');
    const r = await d.call(Command.SESSION_OPEN, { nonce: toHex(nonce) });
    expect(r.device).to.equal(this.kms.device);
    this.keys = sessionKeys(sha256Bytes, this.kms.deviceKey.toString('latin1'), r.device, nonce, fromHex(r.nonce), '')!;
  }
  /** Any plaintext, JSON or not, sealed as the next message to the device (hex). */
  sealText(plaintext: string): string {
    return toHex(sealSessionMessage(nodeAeadPrims, this.keys, TO_DEVICE, ++this.sent, nodeCrypto.randomBytes(16).toString('latin1'), plaintext));
  }
  seal(type: number, payload: object): string {
    return this.sealText(asciiJson({ type, payload }));
  }
  /** The device's answer inside the session: {ok} or {error: {code, detail}}. */
  openAnswer(m: string) {
    const o = openSessionMessage(nodeAeadPrims, this.keys, TO_SERVER, this.received + 1, fromHex(m));
    expect(o, 'answer authenticates').to.not.equal(null);
    this.received = o!.counter;
    return JSON.parse(o!.plaintext);
  }
  /** Sends a plaintext as it is and returns the device's answer inside the session. */
  async send(d: Device, plaintext: string): Promise<any> {
    const r = await d.call(Command.SESSION, { m: this.sealText(plaintext) });
    return this.openAnswer(r.m);
  }
  async call(d: Device, type: number, payload: object = {}) {
    const a = await this.send(d, asciiJson({ type, payload }));
    if (a.error) throw new DeviceError(a.error.code, a.error.message);
    return a.ok;
  }
}
