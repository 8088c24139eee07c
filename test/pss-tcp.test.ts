// The PSS TCP service (server/service.ts) and the host's PssClient: every request over real
// sockets; garbage, truncated, oversized and corrupted frames get an error or are dropped,
// change nothing, and the service keeps serving.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import nodeCrypto from 'node:crypto';
import fc from 'fast-check';
import { spawn, spawnSync } from 'node:child_process';
import nacl from 'tweetnacl';
import { openDataCenter, type DataCenter } from '../server/datacenter.ts';
import { startService, type Service } from '../server/service.ts';
import { PssRequest, MAX_UPLOAD_BYTES } from '../protocol/pss-wire.ts';
import { verifyCertificate } from '../server/kms.ts';
import { SampleDevice, sampleRecords } from '../server/sample-blocks.ts';
import { credentialFromEnv } from '../kit/tls.ts';
import { PssClient, PssClientError, parsePssAddress } from '../kit/pss-client.ts';
import { encodeFrame, FrameDecoder, ERROR_TYPE, RESPONSE_FLAG, MAX_PAYLOAD_BYTES, type Frame } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { u16, asciiJson } from '../protocol/bytes.ts';
import { fundsMessage } from '../protocol/auth.ts';
import { payingAccount } from '../testkit/pss-account.ts';
import { operatorClient } from '../testkit/pss-operator.ts';
import { onPostgres } from '../testkit/pss-backend.ts';

/** Sends bytes (a number: a pause of that many ms) on a fresh connection; collects answer
 * frames until `waitMs` of silence after the last chunk, or the close. */
function exchange(port: number, chunks: (Buffer | number)[], waitMs = 300): Promise<{ frames: Frame[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder(crc32, (f) => frames.push(f));
    const s = net.connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout;
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ frames, closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, waitMs);
    };
    s.on('data', (b) => {
      decoder.push(b.toString('latin1'));
      arm();
    });
    s.on('close', () => {
      closed = true;
      done();
    });
    s.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    s.on('connect', async () => {
      for (const c of chunks) {
        if (typeof c === 'number') await new Promise((r) => setTimeout(r, c));
        else if (!s.destroyed) s.write(c);
      }
      arm();
    });
  });
}

const frame = (type: number, seq: number, payload: string) => Buffer.from(encodeFrame(type, seq, payload, crc32), 'latin1');
const body = (f: Frame) => JSON.parse(f.payload);

describe('PSS TCP service', function () {
  let dir: string;
  let dc: DataCenter;
  let service: Service;
  let client: PssClient;
  const log: string[] = [];

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-tcp-'));
    dc = await openDataCenter(dir);
    log.length = 0;
    service = await startService(dc, { port: 0, idleMs: 1500, frameGapMs: 300, maxGarbageBytes: 2048, log: (l) => log.push(l) });
    client = await operatorClient(dc, service.port, { timeoutMs: 2000 });
  });

  afterEach(async function () {
    await client.close();
    await service.close();
    dc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Every table (what garbage must never change). */
  const tables = () => ['devices', 'blocks', 'records', 'rejections', 'funds_resets', 'meta'].map((t) => dc.store.all(`SELECT * FROM ${t}`));

  it('hello, register, certify, funds, status', async function () {
    const hello = await client.hello();
    expect(hello.caPublicKey).to.equal(Buffer.from(dc.kms.caPublicKey, 'latin1').toString('hex'));
    expect(hello.protocol).to.equal(1);
    const reg = await client.register('TCP-1', 'esp32');
    expect(reg).to.include({ device: 1001, seal: 'ed25519' });
    expect(reg.deviceKey).to.equal(Buffer.from(dc.kms.deviceKey(1001), 'latin1').toString('hex'));
    // the data center's time with the keys: the PSD's first trusted time
    expect(reg.now).to.be.within(Date.now() - 5000, Date.now());
    const again = await client.register('TCP-1', 'esp32');
    expect({ ...again, now: 0 }).to.deep.equal({ ...reg, now: 0 });
    const keys = nacl.sign.keyPair();
    const cert = await client.certify(1001, Buffer.from(keys.publicKey).toString('hex'));
    expect(verifyCertificate(Buffer.from(hello.caPublicKey, 'hex').toString('latin1'), 1001, Buffer.from(keys.publicKey).toString('latin1'), Buffer.from(cert, 'hex').toString('latin1'))).to.equal(true);
    payingAccount(dc, 1001);
    const f = await client.funds(1001, 777);
    expect(f).to.include({ device: 1001, counter: 1, amount: 777 });
    expect(f.mac).to.equal(nodeCrypto.createHmac('sha256', Buffer.from(reg.kmsKey, 'hex')).update(Buffer.from(fundsMessage(1001, 1, 777), 'latin1')).digest('hex'));
    expect(await client.status(1001)).to.include({ devices: 1, blocks: 0, device: 1001, status: 'active', seal: 'ed25519', lastSeq: 0, fundsCounter: 1 });
    expect(log.join('\n')).to.not.include(reg.deviceKey).and.not.include(reg.kmsKey);
  });

  it('errors: a clear code and message, and the connection keeps working', async function () {
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.register('X', 'nope'), 'BAD_ARGUMENT'],
      [() => client.funds(5, 10), 'UNKNOWN_DEVICE'],
      [() => client.funds(1.5, 10), 'BAD_ARGUMENT'],
      [() => client.certify(1, 'abc'), 'BAD_ARGUMENT'],
      [() => client.request(0x7e, {}), 'UNKNOWN_REQUEST'],
      [() => client.sessionNext({ answer: {} }), 'SESSION'],
      [() => client.upload(''), 'BAD_BLOCK']
    ];
    for (const [call, code] of cases) {
      let err: any;
      await call().catch((e) => (err = e));
      expect(err, code).to.be.instanceOf(PssClientError);
      expect(err.code).to.equal(code);
      expect(err.message).to.be.a('string').with.length.above(5);
    }
    expect((await client.hello()).protocol).to.equal(1);
  });

  it('uploads a block of many frames; a repeat is stored once and confirmed again', async function () {
    const reg = await client.register('UP-1', 'pico');
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: Buffer.from(reg.deviceKey, 'hex').toString('latin1') });
    const raw = dev.nextBlock(sampleRecords(300, [1, 2, 3, 4, 5]));
    expect(raw.length * 2).to.be.above(7 * MAX_PAYLOAD_BYTES);
    const a = await client.upload(raw);
    expect(a).to.include({ device: reg.device, seq: 1, stored: true });
    const b = await client.upload(raw);
    expect(b).to.deep.equal({ ...a, stored: false });
    expect(dc.pss.counts()).to.include({ blocks: 1, records: 300 });
    // a rejected upload: its code, and the next upload on the same connection works
    let err: any;
    await client.upload(dev.nextBlock(sampleRecords(3)).replace(/.$/s, 'x')).catch((e) => (err = e));
    expect(err.code).to.equal('BAD_SEAL');
    expect(dc.pss.counts()).to.include({ blocks: 1, records: 300, rejections: 1 });
  });

  it('refuses an upload larger than the PSS takes, and forgets its parts', async function () {
    let err: any;
    const part = 'ab'.repeat(480);
    let sent = 0;
    try {
      for (; sent <= MAX_UPLOAD_BYTES; sent += 480) await client.request(PssRequest.UPLOAD, { hex: part, more: true });
    } catch (e) {
      err = e;
    }
    expect(err.code).to.equal('OVERSIZE');
    expect(sent).to.be.at.most(MAX_UPLOAD_BYTES);
    // the buffer was dropped: a fresh small upload is judged on its own bytes
    const r = await client.request(PssRequest.UPLOAD, { hex: '00' }).catch((e) => e);
    expect(r.code).to.equal('BAD_BLOCK');
    expect(r.message).to.match(/shorter than its header/);
  });

  it('answers a retransmitted frame from the stored answer, without running it twice', async function () {
    const reg = await client.register('RT-1', 'pico');
    const dev = new SampleDevice(reg.device, { algorithm: 1, deviceKey: Buffer.from(reg.deviceKey, 'hex').toString('latin1') });
    // a device's upload on a plain connection, sent three times: run once ("stored"), answered
    // three times the same (a second run would answer "repeat")
    const f = frame(PssRequest.UPLOAD, 4242, asciiJson({ hex: Buffer.from(dev.nextBlock(sampleRecords(2)), 'latin1').toString('hex') }));
    const r = await exchange(service.port, [f, f, f]);
    expect(r.frames).to.have.length(3);
    expect(new Set(r.frames.map((x) => x.payload)).size).to.equal(1);
    expect(body(r.frames[0])).to.include({ seq: 1, stored: true });
    expect(dc.pss.counts().blocks).to.equal(1);
  });

  it('garbage: an error answer, no change, and a connection of only garbage is closed', async function () {
    await client.register('G-1', 'pico');
    const before = tables();
    const junk = nodeCrypto.randomBytes(600);
    const r = await exchange(service.port, [junk]);
    expect(r.frames.length).to.be.at.least(1);
    expect(r.frames[0].type).to.equal(ERROR_TYPE);
    expect(body(r.frames[0]).code).to.be.oneOf(['BAD_FRAME', 'OVERSIZE']);
    const flood = await exchange(service.port, [nodeCrypto.randomBytes(1000), nodeCrypto.randomBytes(1000), nodeCrypto.randomBytes(1000)], 1000);
    expect(flood.closed).to.equal(true);
    expect(tables()).to.deep.equal(before);
    expect((await client.hello()).protocol).to.equal(1);
  });

  it('a corrupted frame (CRC) gets BAD_FRAME with its sequence number; a good frame after it is answered', async function () {
    const good = frame(PssRequest.HELLO, 7, '{}');
    const bad = Buffer.from(good);
    bad[9] ^= 0xff;
    const r = await exchange(service.port, [bad, frame(PssRequest.HELLO, 8, '{}')]);
    const errors = r.frames.filter((f) => f.type === ERROR_TYPE);
    expect(errors.length).to.be.at.least(1);
    expect(body(errors[0])).to.include({ code: 'BAD_FRAME' });
    expect(errors[0].seq).to.equal(7);
    const hello = r.frames.find((f) => f.type === (PssRequest.HELLO | RESPONSE_FLAG));
    expect(hello?.seq).to.equal(8);
  });

  it('a frame claiming an oversized payload gets OVERSIZE and changes nothing', async function () {
    const before = tables();
    const header = Buffer.from('\xa5\x5a\x01' + String.fromCharCode(PssRequest.FUNDS) + u16(1) + u16(5000), 'latin1');
    const r = await exchange(service.port, [header, Buffer.alloc(5000, 0x41)]);
    expect(r.frames.some((f) => f.type === ERROR_TYPE && body(f).code === 'OVERSIZE')).to.equal(true);
    expect(tables()).to.deep.equal(before);
  });

  it('a truncated frame is never executed; the idle connection is closed; the service keeps serving', async function () {
    this.timeout(10000);
    await client.register('T-1', 'pico');
    const before = tables();
    const f = frame(PssRequest.FUNDS, 9, asciiJson({ device: 1001, amount: 5 }));
    const r = await exchange(service.port, [f.subarray(0, f.length - 3)], 2500);
    // dropped after the frame gap (0.3 s here) with an error; closed at the idle timeout (1.5 s)
    expect(r.frames.map((x) => [x.type, body(x).code])).to.deep.equal([[ERROR_TYPE, 'BAD_FRAME']]);
    expect(body(r.frames[0]).message).to.match(/incomplete frame dropped/);
    expect(r.closed).to.equal(true);
    expect(tables()).to.deep.equal(before);
    // the truncated frame swallows the next one; after the gap its retransmission is answered
    const hello = frame(PssRequest.HELLO, 10, '{}');
    const r2 = await exchange(service.port, [f.subarray(0, 30), hello, 500, hello]);
    expect(r2.frames.filter((x) => x.seq === 10 && x.type === (PssRequest.HELLO | RESPONSE_FLAG))).to.have.length(1);
    expect(tables()).to.deep.equal(before);
  });

  it('bad payloads and versions: BAD_PAYLOAD, VERSION', async function () {
    const v2 = Buffer.from(encodeFrame(PssRequest.HELLO, 3, '{}', crc32), 'latin1');
    v2[2] = 2;
    const body2 = v2.subarray(2, v2.length - 4);
    v2.writeUInt32BE(crc32(body2.toString('latin1')), v2.length - 4);
    const r = await exchange(service.port, [frame(PssRequest.HELLO, 1, '{not json'), frame(PssRequest.HELLO, 2, '[1,2]'), v2]);
    expect(r.frames.map((f) => [f.seq, body(f).code])).to.deep.equal([
      [1, 'BAD_PAYLOAD'],
      [2, 'BAD_PAYLOAD'],
      [3, 'VERSION']
    ]);
  });

  it('survives random bytes and random frames (property test): nothing changes, it keeps answering', async function () {
    this.timeout(60000);
    await client.register('FZ-1', 'pico');
    const before = tables();
    const types = Object.values(PssRequest).filter((t) => t !== PssRequest.REGISTER && t !== PssRequest.FUNDS && t !== PssRequest.CERTIFY);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 1500 }),
          fc.record({ type: fc.constantFrom(...types), payload: fc.string({ maxLength: 300 }) }).map((x) => new Uint8Array(frame(x.type, 1, x.payload))),
          fc.record({ type: fc.constantFrom(...types), json: fc.jsonValue({ maxDepth: 3 }) }).map((x) => new Uint8Array(frame(x.type, 2, asciiJson(x.json).slice(0, 1000))))
        ),
        async (bytes) => {
          await exchange(service.port, [Buffer.from(bytes)], 30);
        }
      ),
      { numRuns: 120 }
    );
    expect(tables().slice(0, 3)).to.deep.equal(before.slice(0, 3)); // devices, blocks, records
    expect(dc.store.all('SELECT * FROM funds_resets')).to.deep.equal([]);
    expect((await client.hello()).protocol).to.equal(1);
  });

  it('the client says clearly when no PSS listens', async function () {
    const port = service.port;
    await client.close();
    await service.close();
    let err: any;
    await PssClient.connect(`127.0.0.1:${port}`, { retries: 1 }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(PssClientError);
    expect(err.code).to.equal('NO_PSS');
    expect(err.message).to.equal(`no PSS at 127.0.0.1:${port} (ECONNREFUSED)`);
    service = await startService(dc, { port: 0 });
    client = await operatorClient(dc, service.port);
  });

  it('`pss serve` on a data directory that holds no data center says it made a new one; on its own again it does not', async function () {
    this.timeout(30000);
    const data = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pss-typo-')), 'mistyped');
    const serveOnce = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [path.resolve('bin/pss.js'), 'serve', '--port', '0', '--quiet', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        child.stderr.on('data', (b) => (err += b));
        child.stdout.on('data', (b) => {
          if (String(b).includes('serving on')) child.kill('SIGTERM');
        });
        child.once('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`pss serve exited ${code}: ${err}`))));
      });
    const first = await serveOnce();
    expect(first).to.include(`pss: ${data} held no data center: made a new one there (new KMS master key`);
    expect(first).to.match(/check --data \/ PSS_DATA/);
    expect(await serveOnce(), 'the same directory again: its own data center').to.equal('');
  });

  it('`pss serve` serves a data directory on the port it prints, and stops cleanly on SIGTERM', async function () {
    this.timeout(30000);
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'pss-serve-'));
    const child = spawn(process.execPath, [path.resolve('bin/pss.js'), 'serve', '--port', '0', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b) => {
          out += b;
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (c) => reject(new Error('pss serve exited ' + c)));
      });
      const m = /serving on 127\.0\.0\.1:(\d+), data (\S+), CA public key ([0-9a-f]{64})/.exec(line);
      expect(m, line).to.not.equal(null);
      const plain = await PssClient.connect(`127.0.0.1:${m![1]}`);
      expect((await plain.hello()).caPublicKey).to.equal(m![3]);
      // a plain connection is a device's: registering needs an operator's credential
      expect(await plain.register('SERVE-1', 'pico').then(() => 'OK', (e) => e.code)).to.equal('NOT_AUTHORISED');
      await plain.close();
      const credFile = path.join(data, 'op.pem');
      const issued = spawnSync(process.execPath, [path.resolve('bin/pss.js'), 'credential', 'issue', '--name', 'serve-op', '--role', 'operator', '--out', credFile, '--data', data], { encoding: 'utf8' });
      expect(issued.status, issued.stderr).to.equal(0);
      expect(fs.statSync(credFile).mode & 0o777).to.equal(0o600);
      const c = await PssClient.connect(`127.0.0.1:${m![1]}`, { credential: credentialFromEnv(credFile) });
      expect((await c.register('SERVE-1', 'pico')).device).to.equal(1001);
      await c.close();
      const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exit).to.equal(0);
      if (!onPostgres()) expect(fs.existsSync(path.join(data, 'pss.sqlite'))).to.equal(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  it('parses PSS addresses', function () {
    expect(parsePssAddress(undefined)).to.deep.equal({ host: '127.0.0.1', port: 7707 });
    expect(parsePssAddress('pss.example:9000')).to.deep.equal({ host: 'pss.example', port: 9000 });
    expect(parsePssAddress('tcp://10.0.0.2:7707')).to.deep.equal({ host: '10.0.0.2', port: 7707 });
    expect(parsePssAddress('8000')).to.deep.equal({ host: '127.0.0.1', port: 8000 });
    expect(parsePssAddress('[::1]:7707')).to.deep.equal({ host: '::1', port: 7707 });
    expect(() => parsePssAddress('host:99999')).to.throw(/not a PSS address/);
  });
});
