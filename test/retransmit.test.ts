// Retransmission, corruption and resynchronisation on the built image in the virtual board:
// the same request twice gets the byte-identical stored answer (and counts as a retransmit),
// a corrupted frame gets a CRC error with its seq, garbage before a frame does not hide it.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBoard } from '../board-defs/index.ts';
import { VirtualBoard } from '../kit/vboard/board.ts';
import { FrameDecoder, encodeFrame, RESPONSE_FLAG, ERROR_TYPE, HEADER_BYTES, type Frame } from '../protocol/frame.ts';
import { Command } from '../protocol/commands.ts';
import { ErrorCode, errorText } from '../protocol/errors.ts';
import { crc32 } from '../protocol/crc32.ts';
import { imagePath } from '../testkit/target.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('retransmission and corruption on the built image (virtual pico)', function () {
  this.timeout(20000);
  let dir: string;
  let vb: VirtualBoard;
  let raw: Buffer[];
  let frames: Frame[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'psd-retransmit-'));
    vb = new VirtualBoard({ board: getBoard('pico'), imagePath: imagePath('pico'), flashFile: join(dir, 'flash.bin'), clock: 'real', log: () => {} });
    raw = [];
    frames = [];
    const decoder = new FrameDecoder(crc32, (f) => frames.push(f));
    vb.on('hostData', (b: Buffer) => {
      raw.push(b);
      decoder.push(b.toString('latin1'));
    });
    vb.start();
  });
  afterEach(() => {
    if (vb.running) vb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** sends bytes and waits until `count` more frames came back; returns them and the raw bytes */
  async function exchange(bytes: string, count = 1): Promise<{ frames: Frame[]; raw: string }> {
    const f0 = frames.length;
    const r0 = raw.length;
    vb.hostWrite(Buffer.from(bytes, 'latin1'));
    for (let i = 0; i < 200 && frames.length < f0 + count; i++) await wait(5);
    await wait(20); // nothing more should come
    expect(frames.length - f0, 'answers').to.equal(count);
    return { frames: frames.slice(f0), raw: Buffer.concat(raw.slice(r0)).toString('latin1') };
  }

  async function status(seq: number) {
    const { frames: [f] } = await exchange(encodeFrame(Command.STATUS, seq, '{}', crc32));
    expect(f.type).to.equal(Command.STATUS | RESPONSE_FLAG);
    return JSON.parse(f.payload);
  }

  it('answers the same ECHO twice (same seq) with byte-identical frames and counts a retransmit', async () => {
    const before = (await status(1)).link.retransmits;
    const echo = encodeFrame(Command.ECHO, 0x1234, JSON.stringify({ data: 'once only' }), crc32);
    const first = await exchange(echo);
    const second = await exchange(echo);
    expect(first.frames[0].type).to.equal(Command.ECHO | RESPONSE_FLAG);
    expect(first.frames[0].seq).to.equal(0x1234);
    expect(JSON.parse(first.frames[0].payload)).to.deep.equal({ data: 'once only' });
    expect(second.raw).to.equal(first.raw);
    const after = await status(2);
    expect(after.link.retransmits).to.equal(before + 1);
    // a new seq with the same body is a new request, not a retransmit
    await exchange(encodeFrame(Command.ECHO, 0x1235, JSON.stringify({ data: 'once only' }), crc32));
    expect((await status(3)).link.retransmits).to.equal(before + 1);
  });

  it('answers a frame with a flipped bit with a CRC error (code 1) carrying its seq', async () => {
    const good = encodeFrame(Command.ECHO, 0x0a0b, JSON.stringify({ data: 'flip me' }), crc32);
    const at = HEADER_BYTES + 3; // a payload byte: the header (and its seq) stays readable
    const bad = good.slice(0, at) + String.fromCharCode(good.charCodeAt(at) ^ 0x10) + good.slice(at + 1);
    const { frames: [f] } = await exchange(bad);
    expect(f.type).to.equal(ERROR_TYPE);
    expect(f.seq).to.equal(0x0a0b);
    const body = JSON.parse(f.payload);
    expect(body.code).to.equal(ErrorCode.CRC);
    // the device sends the code (and any detail); the message is the host's, by code
    expect(errorText(body.code, body.detail)).to.match(/CRC/);
    // the retransmission of the intact frame is executed normally
    const { frames: [ok] } = await exchange(good);
    expect(ok.type).to.equal(Command.ECHO | RESPONSE_FLAG);
    expect(JSON.parse(ok.payload).data).to.equal('flip me');
    expect((await status(9)).link.crcErrors).to.be.at.least(1);
  });

  it('finds a valid frame behind garbage (including a false sync) and answers it', async () => {
    const garbage = 'hello\r\n\x00\xff\xa5\x5a\x01\x02garbage\xa5';
    const f0 = frames.length;
    vb.hostWrite(Buffer.from(garbage + encodeFrame(Command.ECHO, 77, JSON.stringify({ data: 'after garbage' }), crc32), 'latin1'));
    for (let i = 0; i < 200 && !frames.slice(f0).some((f) => f.seq === 77); i++) await wait(5);
    await wait(20);
    const got = frames.slice(f0);
    const answers = got.filter((f) => f.seq === 77);
    expect(answers).to.have.length(1);
    expect(answers[0].type).to.equal(Command.ECHO | RESPONSE_FLAG);
    expect(JSON.parse(answers[0].payload).data).to.equal('after garbage');
    // the false sync (its "length" is 0x6761) may be reported, but only as an error frame
    for (const f of got.filter((x) => x.seq !== 77)) {
      expect(f.type).to.equal(ERROR_TYPE);
      expect(JSON.parse(f.payload).code).to.be.oneOf([ErrorCode.OVERSIZE, ErrorCode.CRC]);
    }
  });
});
