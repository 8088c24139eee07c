// Pipelined uploads (issue 11's ingest speed): a client sends many blocks' frames without
// waiting (PssClient.uploadMany, what `psd upload` does); the service runs them in order and
// answers in order, each once its block is durably stored, with each block's own refusal; a
// retransmitted frame among them is answered from the answer it repeats, never run twice;
// and once uploads crowd in, the seals are checked in worker threads with the same verdicts.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import nacl from 'tweetnacl';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { PssRequest } from '../protocol/pss-wire.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { PssClient } from '../kit/pss-client.ts';
import { encodeFrame, FrameDecoder, type Frame } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { asciiJson } from '../protocol/bytes.ts';

const frame = (type: number, seq: number, payload: string) => Buffer.from(encodeFrame(type, seq, payload, crc32), 'latin1');

/** Sends frames back to back on one connection and collects `n` answers. */
function pipelined(port: number, frames: Buffer[], n: number): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const got: Frame[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.concat(frames)));
    const decoder = new FrameDecoder(crc32, (f) => {
      got.push(f);
      if (got.length === n) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('data', (b) => decoder.push(b.toString('latin1')));
    s.on('error', reject);
    setTimeout(() => (s.destroy(), reject(new Error(`${got.length} of ${n} answers`))), 15000).unref();
  });
}

/** A block's upload frames ({hex, more} parts of `per` hex characters) from sequence number `seq` on. */
function parts(raw: string, seq: number, per = 960): Buffer[] {
  const hex = Buffer.from(raw, 'latin1').toString('hex');
  const out: Buffer[] = [];
  for (let at = 0; at < hex.length; at += per) {
    const last = at + per >= hex.length;
    out.push(frame(PssRequest.UPLOAD, seq++, asciiJson(last ? { hex: hex.substr(at, per) } : { hex: hex.substr(at, per), more: true })));
  }
  return out;
}

function corruptSeal(raw: string): string {
  return raw.slice(0, -1) + String.fromCharCode(raw.charCodeAt(raw.length - 1) ^ 1);
}

describe('PSS pipelined uploads', function () {
  let dir: string;
  let dc: DataCenter;
  let service: Service;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-pipe-'));
    dc = await openDataCenter(dir);
    service = await startService(dc, { port: 0 });
  });

  afterEach(async function () {
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function hmacDevice(serial: string): SampleDevice {
    const reg = dc.kms.registerDevice(serial, 'pico');
    return new SampleDevice(reg.device, { algorithm: 1, deviceKey: reg.deviceKey });
  }

  it('uploadMany: every block answered in order with its own outcome; refused ones change nothing', async function () {
    const dev = hmacDevice('PIPE-1');
    const good = Array.from({ length: 12 }, (_, i) => dev.nextBlock(sampleRecords(50, [1, 2, 3], i + 1)));
    const stranger = new SampleDevice(99999, { algorithm: 1, deviceKey: 'k'.repeat(32) }).nextBlock(sampleRecords(3));
    // 1..6, a repeat of 3, 7 with a broken seal, 8 (now a gap), a stranger's, then 7 and the rest
    const sent = [...good.slice(0, 6), good[2], corruptSeal(good[6]), good[7], stranger, ...good.slice(6)];
    const client = await PssClient.connect(`127.0.0.1:${service.port}`);
    try {
      const outcomes = await client.uploadMany(sent, 7);
      const summary = outcomes.map((o) => (o.error ? o.error.code : `${o.answer.seq}${o.answer.stored ? '' : ' repeat'}`));
      expect(summary).to.deep.equal(['1', '2', '3', '4', '5', '6', '3 repeat', 'BAD_SEAL', 'GAP', 'UNKNOWN_DEVICE', '7', '8', '9', '10', '11', '12']);
      // each confirmation is the PSS's for that very block
      for (const o of outcomes.filter((x) => x.answer)) expect(o.answer!.confirmation).to.equal(Buffer.from(dc.pss.confirmation(dev.device, o.answer!.seq, Buffer.from(o.answer!.digest, 'hex').toString('latin1')), 'latin1').toString('hex'));
      expect(dc.pss.counts()).to.include({ blocks: 12, records: 600, rejections: 3 });
      // the connection still takes single requests afterwards
      expect((await client.upload(good[11])).stored).to.equal(false);
    } finally {
      await client.close();
    }
  });

  it('a retransmitted frame among pipelined ones is answered from its own answer, never run again', async function () {
    const dev = hmacDevice('PIPE-2');
    const a = dev.nextBlock(sampleRecords(50));
    const b = dev.nextBlock(sampleRecords(50));
    const fa = parts(a, 100);
    const fb = parts(b, 200);
    expect(fa.length).to.be.greaterThan(1);
    // a's first part again after a is complete, and in the middle of b's parts: a second run
    // would start a new upload with it (and b's next part would be appended to that)
    const frames = [...fa, fb[0], fa[0], ...fb.slice(1)];
    const answers = await pipelined(service.port, frames, frames.length);
    expect(answers.map((f) => f.seq)).to.deep.equal([...fa.map((_, i) => 100 + i), 200, 100, ...fb.slice(1).map((_, i) => 201 + i)]);
    const bodies = answers.map((f) => JSON.parse(f.payload));
    expect(bodies[fa.length + 1]).to.deep.equal(bodies[0]);
    expect(bodies[fa.length - 1]).to.include({ seq: 1, stored: true });
    expect(bodies.at(-1)).to.include({ seq: 2, stored: true });
    expect(dc.pss.counts()).to.include({ blocks: 2, rejections: 0 });
  });

  it('a request after pipelined uploads sees them stored (it runs once they are answered)', async function () {
    const dev = hmacDevice('PIPE-3');
    const blocks = Array.from({ length: 5 }, () => dev.nextBlock(sampleRecords(20)));
    let seq = 1;
    const frames = blocks.flatMap((raw) => {
      const f = parts(raw, seq);
      seq += f.length;
      return f;
    });
    frames.push(frame(PssRequest.STATUS, seq, asciiJson({ device: dev.device })));
    const answers = await pipelined(service.port, frames, frames.length);
    expect(JSON.parse(answers.at(-1)!.payload)).to.include({ blocks: 5, lastSeq: 5 });
  });

  it('seals checked in worker threads once uploads crowd in: the same verdicts, HMAC and Ed25519', async function () {
    this.timeout(60000);
    dc.pss.threads = 1;
    const chains: string[][] = [];
    for (let u = 0; u < 4; u++) {
      const hmac = hmacDevice(`POOL-H${u}`);
      chains.push(Array.from({ length: 15 }, (_, i) => hmac.nextBlock(sampleRecords(50, [1, 2], i + 1))));
      const reg = dc.kms.registerDevice(`POOL-E${u}`, 'esp32');
      const pair = nacl.sign.keyPair();
      dc.kms.certify(reg.device, Buffer.from(pair.publicKey).toString('latin1'));
      const ed = new SampleDevice(reg.device, { algorithm: 2, secretKey: pair.secretKey });
      chains.push(Array.from({ length: 15 }, (_, i) => ed.nextBlock(sampleRecords(50, [3], i + 1))));
    }
    // one bad seal of each kind, late in its chain (checked by the pool by then)
    chains[0][12] = corruptSeal(chains[0][12]);
    chains[1][12] = corruptSeal(chains[1][12]);
    const clients = await Promise.all(chains.map(() => PssClient.connect(`127.0.0.1:${service.port}`, { timeoutMs: 30000 })));
    try {
      const results = await Promise.all(clients.map((c, i) => c.uploadMany(chains[i])));
      expect(dc.pss.sealThreadsRunning).to.equal(1);
      for (const [i, r] of results.entries()) {
        const codes = r.map((o) => (o.error ? o.error.code : 'ok'));
        if (i < 2) expect(codes).to.deep.equal([...Array(12).fill('ok'), 'BAD_SEAL', 'GAP', 'GAP']);
        else expect(codes).to.deep.equal(Array(15).fill('ok'));
      }
      expect(dc.pss.counts()).to.include({ blocks: 8 * 15 - 6, rejections: 6 });
    } finally {
      for (const c of clients) await c.close();
    }
  });
});
