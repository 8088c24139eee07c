import { expect } from 'chai';
import { crc32 } from '../protocol/crc32.ts';
import { FrameDecoder, encodeFrame, Frame, MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES, RESPONSE_FLAG, ERROR_TYPE } from '../protocol/frame.ts';
import fc from 'fast-check';
import { asciiJson, toHex, fromHex } from '../protocol/bytes.ts';
import { isHex } from '../protocol/is-hex.ts';
import { findEspruino, noEspruinoReason } from '../kit/real/binary.ts';
import { buildModuleEs5, runSnippet, markedLines } from '../tools/real/snippet.ts';
import { jsString } from '../tools/profile/regex-probe.ts';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { startFront } from '../firmware/core/device.ts';
import { memoryBoard } from '../testkit/memory-board.ts';

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

// The regexes these helpers replaced, as they were (they are outside what Espruino 2v29's engine
// answers as V8 does: `\u` is the letter u there, `{32}` is literal), to prove Node behaves as before.
const OLD = {
  asciiJson: (v: unknown) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + (c.charCodeAt(0) | 0x10000).toString(16).slice(1)),
  nonce: (s: unknown) => typeof s === 'string' && /^[0-9a-fA-F]{32}$/.test(s),
  m: (s: unknown) => typeof s === 'string' && /^([0-9a-fA-F]{2})+$/.test(s),
  key: (s: unknown) => typeof s === 'string' && /^[0-9a-fA-F]{64}$/.test(s),
  hexBytes: (s: unknown, bytes: number) => typeof s === 'string' && s.length === bytes * 2 && /^[0-9a-fA-F]*$/.test(s)
};

const HEX32 = '0123456789abcdefABCDEF0123456789';
/** [value, bytes, expected]: boundaries of the digit ranges, lengths, non-strings */
const HEX_CASES: Array<[unknown, number | undefined, boolean]> = [
  [HEX32, 16, true], [HEX32.toLowerCase(), 16, true], [HEX32 + '0', 16, false], [HEX32.slice(1), 16, false],
  [HEX32.slice(0, 31) + 'g', 16, false], [HEX32.slice(0, 31) + 'G', 16, false], [HEX32.slice(0, 31) + '/', 16, false],
  [HEX32.slice(0, 31) + ':', 16, false], [HEX32.slice(0, 31) + '@', 16, false], [HEX32.slice(0, 31) + '`', 16, false],
  [' ' + HEX32.slice(1), 16, false], ['z'.repeat(32), 16, false], ['a{32}', 16, false],
  [HEX32 + HEX32, 32, true], [HEX32 + HEX32.slice(1) + 'x', 32, false],
  ['00', undefined, true], ['00ff', undefined, true], ['0ff', undefined, false], ['', undefined, false], ['0x', undefined, false],
  ['0123456789abcdef'.repeat(64), undefined, true], ['0123456789abcdef'.repeat(64) + ' ', undefined, false],
  ['', 0, true], ['ab', 0, false], ['abcdef', 3, true],
  [undefined, 16, false], [null, undefined, false], [12, 1, false], [{}, undefined, false]
];

/** values whose JSON is ASCII already, and values with chars from 7f up */
const JSON_ASCII: unknown[] = [{ a: 'hello' }, { id: 'pico-07', ok: true, n: -1.5e3, list: [1, 2, 'fu'] }, 'ABC.xyz[]{}', '\x00\x1f~', { s: 'quote " and backslash \\' }];
const JSON_WIDE: unknown[] = [{ name: 'Müller – Straße' }, 'é€\x7f\x80\xff', { emoji: 'a😀b' }, ['\uffff', '\u0100']];

describe('protocol: asciiJson and isHex (no regex beyond the Espruino 2v29 subset)', () => {
  it('asciiJson leaves ASCII JSON as it is (the old regex escaped the letters f..u and digits on Espruino)', () => {
    for (const v of JSON_ASCII) expect(asciiJson(v)).to.equal(JSON.stringify(v));
    expect(asciiJson({ a: 'hello' })).to.equal('{"a":"hello"}');
  });

  it('asciiJson escapes every UTF-16 unit from 7f up as \\uXXXX in lowercase hex, as the regex version did', () => {
    expect(asciiJson('é€\x7f😀')).to.equal('"\\u00e9\\u20ac\\u007f\\ud83d\\ude00"');
    for (const v of JSON_WIDE) {
      const j = asciiJson(v);
      expect(j).to.equal(OLD.asciiJson(v));
      expect(/^[\x20-\x7e]*$/.test(j), j).to.equal(true);
      expect(JSON.parse(j)).to.deep.equal(v);
    }
  });

  it('asciiJson equals the regex version for any string of UTF-16 units (lone surrogates too) and any JSON value', () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(fc.property(fc.string({ unit, maxLength: 40 }), (s) => asciiJson({ s }) === OLD.asciiJson({ s })), { numRuns: 2000, seed: 42 });
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => asciiJson(v) === OLD.asciiJson(v)), { numRuns: 500, seed: 43 });
  });

  it('asciiJson of a value without JSON text throws a TypeError, as the regex version did', () => {
    expect(() => asciiJson(undefined)).to.throw(TypeError);
    expect(() => OLD.asciiJson(undefined)).to.throw(TypeError);
  });

  it('isHex answers the listed cases', () => {
    for (const [v, bytes, want] of HEX_CASES) expect(isHex(v, bytes), `isHex(${JSON.stringify(v)}, ${bytes})`).to.equal(want);
  });

  it('isHex equals each regex it replaced (session nonce, session message, rekey keys, hexBytes)', () => {
    const s = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFgGz /:@`'.split('')), maxLength: 70 });
    const hexish = fc.oneof(s, fc.integer({ min: 0, max: 35 }).map((n) => '0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdefABCDEF01'.slice(0, 2 * n)));
    fc.assert(fc.property(hexish, (x) => isHex(x, 16) === OLD.nonce(x) && isHex(x) === OLD.m(x) && isHex(x, 32) === OLD.key(x) && isHex(x, 24) === OLD.hexBytes(x, 24) && isHex(x, 5) === OLD.hexBytes(x, 5)), { numRuns: 3000, seed: 44 });
    for (const [v] of HEX_CASES) {
      expect(isHex(v, 16)).to.equal(OLD.nonce(v));
      expect(isHex(v)).to.equal(OLD.m(v));
      expect(isHex(v, 32)).to.equal(OLD.key(v));
    }
  });

  const ESPRUINO = findEspruino();
  (ESPRUINO ? describe : describe.skip)(`the built protocol/bytes.ts and is-hex.ts on the real interpreter${ESPRUINO ? '' : ` (skipped: ${noEspruinoReason()})`}`, function () {
    this.timeout(60000);
    let answers: unknown[] = [];

    before(async function () {
      // the module as the build makes it for a board (Babel to ES5), run from a temp file
      const lib = (await buildModuleEs5('protocol/bytes.ts', 'BYTES')) + '\n' + (await buildModuleEs5('protocol/is-hex.ts', 'HEX'));
      const calls: string[] = [];
      for (const [v, bytes] of HEX_CASES) calls.push(`HEX.isHex(${v === undefined ? 'undefined' : `JSON.parse(${jsString(JSON.stringify(v))})`}, ${bytes === undefined ? 'undefined' : bytes})`);
      // with the interpreter's own JSON.stringify beside it
      for (const v of [...JSON_ASCII, ...JSON_WIDE]) calls.push(`(function (x) { return [BYTES.asciiJson(x), JSON.stringify(x)]; })(JSON.parse(${jsString(JSON.stringify(v))}))`);
      const program = lib + '\n' + calls.map((c, i) => `try { print("@@R ${i} " + JSON.stringify({ v: ${c} })); } catch (e) { print("@@R ${i} " + JSON.stringify({ error: String(e) })); }`).join('\n') + '\n';
      const run = runSnippet(ESPRUINO!, program, 30000);
      expect(run.timedOut, 'the interpreter finished').to.equal(false);
      const lines = markedLines(run.stdout, '@@R ');
      expect(lines, run.stdout.slice(-2000)).to.have.length(calls.length);
      answers = lines.map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)));
    });

    it('isHex gives the same answers on Espruino 2v29 as on Node', () => {
      HEX_CASES.forEach(([v, bytes, want], i) => expect(answers[i], `isHex(${JSON.stringify(v)}, ${bytes})`).to.deep.equal({ v: want }));
    });

    /** \uXXXX escapes in lowercase: Espruino's JSON.stringify writes them in uppercase */
    const lowerEscapes = (t: string) => t.replace(/\\u[0-9a-fA-F]{4}/g, (e) => e.toLowerCase());

    it('asciiJson of ASCII JSON is the JSON text itself on Espruino 2v29 (no letter escaped)', () => {
      JSON_ASCII.forEach((v, i) => {
        const [a, stringified] = (answers[HEX_CASES.length + i] as { v: string[] }).v;
        expect(a).to.equal(stringified);
        expect(lowerEscapes(a)).to.equal(asciiJson(v));
        expect(JSON.parse(a)).to.deep.equal(v);
      });
      expect(answers[HEX_CASES.length]).to.deep.equal({ v: ['{"a":"hello"}', '{"a":"hello"}'] });
    });

    it('asciiJson of wide chars is ASCII on Espruino 2v29 and parses back to the same value (Espruino escapes with uppercase hex)', () => {
      JSON_WIDE.forEach((v, i) => {
        const [a] = (answers[HEX_CASES.length + JSON_ASCII.length + i] as { v: string[] }).v;
        expect(/^[\x20-\x7e]*$/.test(a), a).to.equal(true);
        expect(JSON.parse(a)).to.deep.equal(v);
        expect(lowerEscapes(a)).to.equal(asciiJson(v));
      });
    });
  });
});

describe('device front: one response per request, retransmissions never executed twice', () => {
  function setup() {
    const board = memoryBoard();
    let executed = 0;
    startFront(board, (type: number, req: any) => {
      if (type !== Command.ECHO) throw { code: ErrorCode.UNKNOWN_COMMAND, detail: '0x' + type.toString(16) };
      executed++;
      return { data: req.data, n: executed };
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
