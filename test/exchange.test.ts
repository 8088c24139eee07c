// kit/exchange.ts: the one request/retransmit loop of the PSD client and the PSS client.
import { expect } from 'chai';
import { FrameDecoder, encodeFrame, RESPONSE_FLAG, ERROR_TYPE, type Frame } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { FrameExchange, type ExchangeHooks } from '../kit/exchange.ts';

/** A line whose far end the test plays: it sees each frame written, answers when told. */
function line(hooks: Partial<ExchangeHooks> = {}) {
  const sent: { frame: Frame }[] = [];
  const heard: Frame[] = [];
  const far = new FrameDecoder(crc32, (f) => sent.push({ frame: f }));
  const x = new FrameExchange({
    write: (frame) => far.push(frame.toString('latin1')),
    heard: (f) => heard.push(f),
    noAnswer: (tries, ms) => new Error(`no answer: ${tries} tries, ${ms} ms`),
    notJson: () => new Error('not JSON'),
    errorAnswer: (body) => (body.code === 'CORRUPT' ? 'retransmit' : new Error('refused: ' + body.code)),
    wrongType: (got, want) => new Error(`type ${got} to ${want}`),
    ...hooks
  });
  const answer = (type: number, seq: number, body: object | string) => x.push(encodeFrame(type, seq, typeof body === 'string' ? body : JSON.stringify(body), crc32));
  return { x, sent, heard, answer };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('request/retransmit loop (kit/exchange.ts)', () => {
  it('one frame out, the answer of the same seq and type resolves it; late and stray answers are ignored', async () => {
    const { x, sent, heard, answer } = line();
    const p = x.request(0x10, '{"a":1}', { timeoutMs: 1000, retries: 2 });
    await tick();
    expect(sent).to.have.length(1);
    const seq = sent[0].frame.seq;
    answer(0x10 | RESPONSE_FLAG, (seq + 7) & 0xffff, { stray: true });
    answer(0x10 | RESPONSE_FLAG, seq, { ok: 1 });
    expect(await p).to.deep.equal({ ok: 1 });
    expect(heard).to.have.length(2);
    expect(x.busy).to.equal(false);
  });

  it('on silence sends the same frame again (same seq), then gives up with the hook error', async () => {
    const { x, sent } = line();
    const err = await x.request(0x11, '{}', { timeoutMs: 20, retries: 2 }).catch((e) => e);
    expect(err.message).to.equal('no answer: 3 tries, 20 ms');
    expect(sent.map((s) => s.frame.seq)).to.deep.equal([sent[0].frame.seq, sent[0].frame.seq, sent[0].frame.seq]);
  });

  it('a frame the far end got corrupted is sent again at once; other error answers reject', async () => {
    const { x, sent, answer } = line();
    const p = x.request(0x12, '{}', { timeoutMs: 5000, retries: 1 });
    await tick();
    answer(ERROR_TYPE, sent[0].frame.seq, { code: 'CORRUPT' });
    await tick();
    expect(sent).to.have.length(2);
    answer(ERROR_TYPE, sent[0].frame.seq, { code: 'NOPE' });
    expect((await p.catch((e) => e)).message).to.equal('refused: NOPE');
  });

  it('wrong answer type, a payload that is not JSON and a lost line reject; one request at a time', async () => {
    const a = line();
    const p1 = a.x.request(0x13, '{}', { timeoutMs: 5000, retries: 0 });
    await tick();
    await a.x.request(0x14, '{}', { timeoutMs: 5000, retries: 0 }).then(
      () => expect.fail('two at a time'),
      (e) => expect(e.message).to.equal('one request at a time')
    );
    a.answer(0x20 | RESPONSE_FLAG, a.sent[0].frame.seq, {});
    expect((await p1.catch((e) => e)).message).to.equal(`type ${0x20 | RESPONSE_FLAG} to ${0x13}`);
    const p2 = a.x.request(0x13, '{}', { timeoutMs: 5000, retries: 0 });
    await tick();
    a.answer(0x13 | RESPONSE_FLAG, a.sent[1].frame.seq, '{not json');
    expect((await p2.catch((e) => e)).message).to.equal('not JSON');
    const p3 = a.x.request(0x13, '{}', { timeoutMs: 5000, retries: 0 });
    a.x.fail(new Error('line lost'));
    expect((await p3.catch((e) => e)).message).to.equal('line lost');
  });
});
