import { expect } from 'chai';
import { crc32 } from '../protocol/crc32.ts';
import { FrameDecoder, encodeFrame, Frame, MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES, RESPONSE_FLAG, ERROR_TYPE } from '../protocol/frame.ts';
import { asciiJson, toHex, fromHex } from '../protocol/bytes.ts';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { startFront } from '../firmware/core/device.ts';
import { memoryBoard } from './helpers/memory-board.ts';

function decodeAll(bytes: string) {
  const frames: Frame[] = [];
  const drops: [string, number][] = [];
  const d = new FrameDecoder(crc32, (f) => frames.push(f), (why, n) => drops.push([why, n]));
  d.push(bytes);
  return { frames, drops, pending: d.pending() };
}

describe('protocol: CRC-32', () => {
  it('matches the standard check value (CRC-32/ISO-HDLC of "123456789" is 0xCBF43926)', () => {
    expect(crc32('123456789')).to.equal(0xcbf43926);
    expect(crc32('')).to.equal(0);
  });
});

describe('protocol: frame codec', () => {
  it('round-trips type, seq and payload', () => {
    const f = encodeFrame(Command.STATUS, 0xbeef, '{"a":1}', crc32);
    const { frames, drops } = decodeAll(f);
    expect(drops).to.deep.equal([]);
    expect(frames).to.have.length(1);
    expect(frames[0]).to.include({ version: 1, type: Command.STATUS, seq: 0xbeef, payload: '{"a":1}' });
  });

  it('round-trips every byte value in the payload and a maximal frame', () => {
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    const big = all.repeat(4).slice(0, MAX_PAYLOAD_BYTES);
    const f = encodeFrame(7, 1, big, crc32);
    expect(f.length).to.equal(MAX_FRAME_BYTES);
    expect(decodeAll(f).frames[0].payload).to.equal(big);
  });

  it('refuses to encode a payload that cannot fit 1,024 bytes', () => {
    expect(() => encodeFrame(7, 1, 'x'.repeat(MAX_PAYLOAD_BYTES + 1), crc32)).to.throw(/too long/);
  });

  it('decodes frames split at every byte boundary', () => {
    const f = encodeFrame(1, 2, '{"hello":"world"}', crc32) + encodeFrame(3, 4, '', crc32);
    for (let cut = 0; cut <= f.length; cut++) {
      const frames: Frame[] = [];
      const d = new FrameDecoder(crc32, (x) => frames.push(x));
      d.push(f.slice(0, cut));
      d.push(f.slice(cut));
      expect(frames.map((x) => x.seq), `cut at ${cut}`).to.deep.equal([2, 4]);
    }
  });

  it('rejects every single flipped bit (CRC), then still finds the next frame', () => {
    const good = encodeFrame(1, 9, '{"x":12345}', crc32);
    const next = encodeFrame(1, 10, '{}', crc32);
    for (let bit = 0; bit < good.length * 8; bit++) {
      const i = bit >> 3;
      const bad = good.slice(0, i) + String.fromCharCode(good.charCodeAt(i) ^ (1 << (bit & 7))) + good.slice(i + 1);
      const { frames } = decodeAll(bad + next);
      // a flipped length may make the decoder wait for more bytes: the frame after must then
      // appear once the line goes on (or the stale-frame timer resets the decoder)
      const seqs = frames.map((f) => f.seq);
      expect(seqs, `bit ${bit}`).to.not.include(9);
      if (seqs.length) expect(seqs).to.deep.equal([10]);
    }
  });

  it('reports a truncated frame as pending, and drops it on reset', () => {
    const f = encodeFrame(1, 1, '{"a":1}', crc32);
    const frames: Frame[] = [];
    const drops: string[] = [];
    const d = new FrameDecoder(crc32, (x) => frames.push(x), (w) => drops.push(w));
    d.push(f.slice(0, f.length - 3));
    expect(frames).to.have.length(0);
    expect(d.pending()).to.equal(f.length - 3);
    d.reset();
    expect(d.pending()).to.equal(0);
    expect(drops).to.deep.equal(['garbage']);
    d.push(encodeFrame(1, 2, '', crc32));
    expect(frames.map((x) => x.seq)).to.deep.equal([2]);
  });

  it('resynchronises after garbage between frames, including false syncs', () => {
    const a = encodeFrame(1, 1, '{"n":1}', crc32);
    const b = encodeFrame(1, 2, '{"n":2}', crc32);
    const garbage = 'hello\r\n>\xa5\x5a\x01\x01\x00\x01\x00\x02xx\x00\x00\x00\x00\xa5';
    const { frames, drops } = decodeAll(garbage + a + garbage + b + '\xa5');
    expect(frames.map((f) => f.seq)).to.deep.equal([1, 2]);
    expect(drops.some(([w]) => w === 'garbage')).to.equal(true);
    expect(drops.some(([w]) => w === 'crc')).to.equal(true);
  });

  it('drops an oversize header without waiting for its bytes', () => {
    const oversize = '\xa5\x5a\x01\x01\x00\x01\xff\xff';
    const { frames, drops } = decodeAll(oversize + encodeFrame(1, 5, '', crc32));
    expect(drops[0][0]).to.equal('oversize');
    expect(frames.map((f) => f.seq)).to.deep.equal([5]);
  });

  it('survives random garbage without throwing and finds frames that follow it', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let round = 0; round < 200; round++) {
      let junk = '';
      const n = rnd() * 4;
      for (let i = 0; i < n; i++) junk += String.fromCharCode(rnd());
      const frames: Frame[] = [];
      const d = new FrameDecoder(crc32, (x) => frames.push(x));
      d.push(junk);
      d.reset(); // what the device's stale-frame timer does after silence
      d.push(encodeFrame(2, 77, '{}', crc32));
      expect(frames.map((f) => f.seq)).to.include(77);
    }
  });
});

describe('protocol: bytes helpers', () => {
  it('escapes non-ASCII JSON so payloads are pure ASCII', () => {
    const j = asciiJson({ name: 'Müller – Straße' });
    expect(/^[\x20-\x7e]*$/.test(j)).to.equal(true);
    expect(JSON.parse(j).name).to.equal('Müller – Straße');
  });
  it('hex round trip', () => {
    expect(fromHex(toHex('\x00\x01\xfe\xff'))).to.equal('\x00\x01\xfe\xff');
  });
});

describe('device front: one response per request, retransmissions never executed twice', () => {
  function setup() {
    const board = memoryBoard();
    let executed = 0;
    startFront(board, {} as any, {
      [Command.ECHO]: (req: any) => {
        executed++;
        return { data: req.data, n: executed };
      }
    });
    const answers = () => {
      const frames: Frame[] = [];
      const d = new FrameDecoder(crc32, (f) => frames.push(f));
      d.push(board.sent.join(''));
      return frames;
    };
    return { board, answers, executed: () => executed };
  }

  it('answers a retransmitted request from the stored response', () => {
    const { board, answers, executed } = setup();
    const req = encodeFrame(Command.ECHO, 500, '{"data":"x"}', crc32);
    board.receive(req);
    board.receive(req);
    board.receive(req);
    const a = answers();
    expect(executed()).to.equal(1);
    expect(a).to.have.length(3);
    for (const f of a) {
      expect(f.type).to.equal(Command.ECHO | RESPONSE_FLAG);
      expect(JSON.parse(f.payload)).to.deep.equal({ data: 'x', n: 1 });
    }
  });

  it('executes a new sequence number, and the same seq with a different request', () => {
    const { board, executed } = setup();
    board.receive(encodeFrame(Command.ECHO, 1, '{"data":"a"}', crc32));
    board.receive(encodeFrame(Command.ECHO, 2, '{"data":"a"}', crc32));
    board.receive(encodeFrame(Command.ECHO, 2, '{"data":"b"}', crc32));
    expect(executed()).to.equal(3);
  });

  it('answers errors with a code and a message: unknown command, bad JSON, wrong version, bad CRC', () => {
    const { board, answers, executed } = setup();
    board.receive(encodeFrame(0x55, 1, '{}', crc32));
    board.receive(encodeFrame(Command.ECHO, 2, '{not json', crc32));
    const v2 = encodeFrame(Command.ECHO, 3, '{}', crc32);
    const body = '\x02' + v2.slice(3, v2.length - 4);
    const crc = crc32(body);
    board.receive('\xa5\x5a' + body + String.fromCharCode(crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255));
    const corrupt = encodeFrame(Command.ECHO, 4, '{"data":"z"}', crc32);
    board.receive(corrupt.slice(0, 12) + 'Y' + corrupt.slice(13));
    const a = answers();
    expect(a.map((f) => f.type)).to.deep.equal([ERROR_TYPE, ERROR_TYPE, ERROR_TYPE, ERROR_TYPE]);
    expect(a.map((f) => JSON.parse(f.payload).code)).to.deep.equal([ErrorCode.UNKNOWN_COMMAND, ErrorCode.BAD_PAYLOAD, ErrorCode.VERSION, ErrorCode.CRC]);
    expect(a[3].seq).to.equal(4);
    for (const f of a) expect(JSON.parse(f.payload).code).to.be.a('number');
    expect(executed()).to.equal(0);
  });
});
