// Every request body is checked strictly whatever the interpreter's JSON.parse would take
// (protocol/json.ts, firmware/core/device.ts parseRequest), then each handler checks its
// fields: through the protocol, raw payload bytes to the real handlers, on the TypeScript core
// and on the built Pico image in the virtual board. Each refused request gets its code (5: the
// payload, 6: an argument) and changes nothing the STATUS answer shows.
import { expect } from 'chai';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { crc32 } from '../protocol/crc32.ts';
import { encodeFrame, ERROR_TYPE, RESPONSE_FLAG } from '../protocol/frame.ts';
import { MAX_U48 } from '../protocol/bytes.ts';
import { jsonError } from '../protocol/json.ts';
import { MAX_CATEGORIES, MAX_WEIGHT_G } from '../protocol/records.ts';
import { CoreDevice, ImageDevice, TestKms, readyDevice, type Device } from '../testkit/harness.ts';
import { stateOf } from '../testkit/fuzz/device-checks.ts';
import { PssEnd } from '../testkit/pss-end.ts';

const NOW = Date.UTC(2026, 10, 24, 9);
const FUNDS = 1_000_000;

let rawSeq = 40000;
/** Sends `payload` as it is (no JSON.stringify on the way) and returns the answer. */
async function raw(d: Device, type: number, payload: string): Promise<{ ok: boolean; code?: number; detail?: string; body: any }> {
  const f = await d.send(encodeFrame(type, (rawSeq = rawSeq >= 65000 ? 40000 : rawSeq + 1), payload, crc32));
  const body = JSON.parse(f.payload);
  if (f.type === ERROR_TYPE) return { ok: false, code: body.code, detail: body.detail, body };
  expect(f.type, 'answer type').to.equal(type | RESPONSE_FLAG);
  return { ok: true, body };
}

async function state(d: Device) {
  return stateOf(await d.call(Command.STATUS));
}

/** Bodies the interpreter's JSON.parse takes (or that break it); each must be refused with 5. */
const MALFORMED: [number, string, string][] = [
  [Command.CLOCK, '{"now":18446744073709551617}', 'an integer past 2^64 (Espruino reads 1: the clock at 1970)'],
  [Command.CLOCK, '{"now":1795000000000}garbage', 'trailing garbage'],
  [Command.CLOCK, '{"now":1795000000000,"now":1}', 'the same key twice (Espruino reads the first, V8 the last)'],
  [Command.CLOCK, '{"now":0x1A1E5A5B400}', 'a hex number'],
  [Command.CLOCK, '{"now":1795000000000,}', 'a trailing comma'],
  [Command.CLOCK, "{'now':1795000000000}", 'single quotes'],
  [Command.CLOCK, '{"now":01795000000000}', 'a leading zero'],
  [Command.CLOCK, '{"now":1e4294967297}', 'an exponent past 2^32 (Espruino reads 10)'],
  [Command.CLOCK, '{"now":1e1000000000}', 'an exponent Espruino spends seconds on'],
  [Command.CLOCK, '{"now":9007199254740993}', 'an integer past 2^53'],
  [Command.CLOCK, '{"__proto__":1,"now":1795000000000}', 'a __proto__ key (Espruino: the next absent field read is fatal)'],
  [Command.CLOCK, '{"now":1795000000000,"x":[[[[[[[[[]]]]]]]]]}', 'nesting too deep'],
  [Command.ECHO, '{"data":"ok"}garbage', 'trailing garbage'],
  [Command.ECHO, '{"data":"a","data":5}', 'the same key twice'],
  [Command.ECHO, '{"data":"\\x41"}', 'a \\x escape'],
  [Command.ECHO, "{\"data\":'ok'}", 'a single-quoted value'],
  [Command.ECHO, '{"data":"\\ud800"}', 'a lone surrogate (Espruino reads the empty string)'],
  [Command.ECHO, '{"data":"a\tb"}', 'a raw tab in a string'],
  [Command.ECHO, '{"data":"\x00"}', 'a raw NUL in a string'],
  [Command.ECHO, '{"data":"\xe9"}', 'a raw non-ASCII byte'],
  [Command.ECHO, '{"data":"ok"', 'an unclosed object'],
  [Command.FRANK, '{"id":5001,"customer":77,"category":3,"weight":45,"postage":95,}', 'a trailing comma'],
  [Command.FRANK, '{"id":5001,"customer":77,"category":3,"weight":45,"postage":95,"postage":1}', 'postage twice'],
  [Command.FRANK, '{"id":5001,"customer":77,"category":3,"weight":45,"postage":18446744073709551711}', 'postage 2^64 + 95 (Espruino reads 95)'],
  [Command.FRANK, '{"id":5001,"customer":77,"category":3,"weight":45,"postage":95,"p":{"p":{"x":1,"x":2}}}', 'a duplicate key two levels down'],
  [Command.FRANK, '{"id":5001,"customer":77,"category":3,"weight":0x2D,"postage":95}', 'a hex weight'],
  [Command.FUNDS, '{"counter":2,"amount":18446744073709551617,"mac":"' + '00'.repeat(32) + '"}', 'an amount past 2^64'],
  [Command.CONFIG, '{"flushPeriodS":120,"flushPeriodS":3600}', 'the same setting twice'],
  [Command.CONFIG, '{"lowStoragePct":10}}', 'a closing brace too many'],
  [Command.CONFIG, "{\"foldWhenFull\":true,'recordsOnHost':true}", 'a single-quoted key'],
  [Command.BATCH_START, '{"mode":"\\x62atch","customer":7,"category":4,"weight":20,"postage":85}', 'a \\x escape in the mode'],
  [Command.STATS_LIST, '{"tier":"ram",}', 'a trailing comma'],
  [Command.STATUS, '[]', 'an array, not an object'],
  [Command.CLOCK, '[{"now":1795000000000}]', 'the request inside an array'],
  [Command.ECHO, '"ok"', 'a string, not an object'],
  [Command.ECHO, 'null', 'null'],
  [Command.ECHO, '5', 'a number'],
  [Command.ECHO, ' ', 'only a space']
];

const hex32 = '11'.repeat(32);

/** Well-formed JSON with a wrong, missing or out-of-range field: each must be refused with 6. */
const BAD_ARGUMENTS: [number, object, string][] = [
  [Command.CLOCK, {}, 'now missing'],
  [Command.CLOCK, { now: String(NOW + 1000) }, 'now as a string'],
  [Command.CLOCK, { now: NOW + 0.5 }, 'now not an integer'],
  [Command.CLOCK, { now: 0 }, 'now 0'],
  [Command.CLOCK, { now: -1 }, 'now negative'],
  [Command.CLOCK, { now: 8640000000000001 }, 'now past the last date'],
  [Command.CLOCK, { now: 1e300 }, 'now 1e300'],
  [Command.CLOCK, { now: true }, 'now true'],
  [Command.CLOCK, { now: null }, 'now null'],
  [Command.CLOCK, { now: [NOW] }, 'now in a list'],
  [Command.CLOCK, { now: { ms: NOW } }, 'now as an object'],
  [Command.ECHO, {}, 'data missing'],
  [Command.ECHO, { data: 5 }, 'data a number'],
  [Command.FRANK, { customer: 77, category: 3, weight: 45, postage: 95 }, 'id missing'],
  [Command.FRANK, { id: '5001', customer: 77, category: 3, weight: 45, postage: 95 }, 'id a string'],
  [Command.FRANK, { id: 0, customer: 77, category: 3, weight: 45, postage: 95 }, 'id 0'],
  [Command.FRANK, { id: 5001.5, customer: 77, category: 3, weight: 45, postage: 95 }, 'id not an integer'],
  [Command.FRANK, { id: 5001, category: 3, weight: 45, postage: 95 }, 'customer missing'],
  [Command.FRANK, { id: 5001, customer: 77, category: MAX_CATEGORIES, weight: 45, postage: 95 }, 'category out of range'],
  [Command.FRANK, { id: 5001, customer: 77, category: 3, weight: 0, postage: 95 }, 'weight 0'],
  [Command.FRANK, { id: 5001, customer: 77, category: 3, weight: MAX_WEIGHT_G + 1, postage: 95 }, 'weight too high'],
  [Command.FRANK, { id: 5001, customer: 77, category: 3, weight: 45, postage: -95 }, 'postage negative'],
  [Command.FRANK, { id: 5001, customer: 77, category: 3, weight: 45, postage: 2 ** 32 }, 'postage past 32 bits'],
  [Command.FRANK, { id: 5001, customer: 77, category: 3, weight: 45, postage: '95' }, 'postage a string'],
  [Command.FRANK, { id: 5001, customer: 77, category: 3, weight: 45, postage: 95, count: 2 }, 'a count in single mode'],
  [Command.FUNDS, { counter: 2.5, amount: 10, mac: hex32 }, 'counter not an integer'],
  [Command.FUNDS, { counter: 2, amount: 0, mac: hex32 }, 'amount 0'],
  [Command.FUNDS, { counter: 2, amount: MAX_U48 + 1, mac: hex32 }, 'amount past 48 bits'],
  [Command.FUNDS, { counter: 2, amount: 10, mac: 'zz'.repeat(32) }, 'mac not hex'],
  [Command.FUNDS, { counter: 2, amount: 10, mac: '11'.repeat(31) }, 'mac too short'],
  [Command.FUNDS, { counter: 2, amount: 10 }, 'mac missing'],
  [Command.CONFIG, { flushPeriodS: 59 }, 'flushPeriodS too low'],
  [Command.CONFIG, { flushPeriodS: '3600' }, 'flushPeriodS a string'],
  [Command.CONFIG, { lowStoragePct: 91 }, 'lowStoragePct too high'],
  [Command.CONFIG, { foldWhenFull: 'true' }, 'foldWhenFull a string'],
  [Command.CONFIG, { lockUntilConfirmed: 1 }, 'lockUntilConfirmed a number'],
  [Command.CONFIG, { recordsOnHost: null }, 'recordsOnHost null'],
  [Command.BATCH_START, { customer: 7, category: 4, weight: 20, postage: 85 }, 'mode missing'],
  [Command.BATCH_START, { mode: 'BATCH', customer: 7, category: 4, weight: 20, postage: 85 }, 'mode in capitals'],
  [Command.BATCH_START, { mode: 'batch', customer: 0, category: 4, weight: 20, postage: 85 }, 'customer 0'],
  [Command.BATCH_START, { mode: 'batch', customer: 7, category: 4, weight: 20, postage: '85' }, 'postage a string'],
  [Command.STATS_LIST, { tier: 'disk' }, 'an unknown tier'],
  [Command.STATS_LIST, { tier: 5 }, 'tier a number'],
  [Command.STATS_LIST, { from: -1 }, 'from negative'],
  [Command.BLOCK_READ, {}, 'seq missing'],
  [Command.BLOCK_READ, { seq: '1' }, 'seq a string'],
  [Command.CONFIRM, { seq: 0, mac: hex32 }, 'seq 0'],
  [Command.CONFIRM, { seq: 1, mac: 5 }, 'mac a number'],
  [Command.INDICIA, { from: '1' }, 'from a string'],
  [Command.HOST_SEAL_BEGIN, { records: 1, customers: 'x' }, 'customers a string'],
  [Command.HOST_SEAL_BEGIN, { records: 1, customers: [1.5] }, 'a customer not an integer'],
  [Command.HOST_SEAL_BEGIN, { records: -1, customers: [1] }, 'records negative'],
  [Command.HOST_SEAL_RECORDS, { from: 0, records: 'x' }, 'records a string'],
  [Command.SESSION_OPEN, { nonce: 5 }, 'nonce a number']
];

for (const target of ['core', 'image'] as const) {
  describe(`request validation on the ${target === 'core' ? 'TypeScript core' : 'built pico image in the virtual board'}`, function () {
    this.timeout(120000);
    let d: Device;
    let kms: TestKms;
    beforeEach(async () => {
      d = target === 'core' ? new CoreDevice() : new ImageDevice({ board: 'pico' });
      kms = new TestKms();
      await readyDevice(d, kms, FUNDS, NOW);
      await d.call(Command.FRANK, { id: 4000, customer: 77, category: 3, weight: 45, postage: 95 });
    });
    afterEach(() => (d as any).close?.());

    it('refuses each malformed body with 5 (payload), naming the refused byte, and changes nothing', async () => {
      const before = await state(d);
      for (const [type, payload, why] of MALFORMED) {
        const a = await raw(d, type, payload);
        expect(a.ok, `${why}: ${JSON.stringify(payload)} was accepted: ${JSON.stringify(a.body)}`).to.equal(false);
        expect(a.code, `${why}: ${JSON.stringify(payload)}`).to.equal(ErrorCode.BAD_PAYLOAD);
        const at = jsonError(payload);
        expect(a.detail, why).to.equal(at < 0 ? 'expected an object' : 'byte ' + at);
        expect(await state(d), `${why}: the device changed`).to.deep.equal(before);
      }
      // and it still answers a good request
      expect((await d.call(Command.ECHO, { data: 'still here' })).data).to.equal('still here');
    });

    it('refuses wrong types, missing fields and out-of-range values with 6 (argument), and changes nothing', async () => {
      const before = await state(d);
      for (const [type, body, why] of BAD_ARGUMENTS) {
        const a = await raw(d, type, JSON.stringify(body));
        expect(a.ok, `${why}: ${JSON.stringify(body)} was accepted: ${JSON.stringify(a.body)}`).to.equal(false);
        expect(a.code, `${why}: ${JSON.stringify(body)}: ${a.detail}`).to.equal(ErrorCode.BAD_ARGUMENT);
        expect(await state(d), `${why}: the device changed`).to.deep.equal(before);
      }
    });

    it('takes the same requests written strictly in any RFC 8259 form: whitespace, escapes in keys and values, exponents', async () => {
      const later = NOW + 60_000;
      let a = await raw(d, Command.CLOCK, ' {\r\n\t"\\u006eow" : ' + later + ' } \n');
      expect(a.ok, JSON.stringify(a.body)).to.equal(true);
      expect(a.body.clock).to.equal(Math.floor(later / 1000));
      a = await raw(d, Command.ECHO, '{"data":"\\u0041\\n\\"\\/ok","other":[1.5e-3,-0,true,null,{"data":{}}]}');
      expect(a.body.data).to.equal('A\n"/ok');
      a = await raw(d, Command.FRANK, '{"id":5.001e3,"customer":7.7E1,"category":3,"weight":45,"postage":95}');
      expect(a.ok, JSON.stringify(a.body)).to.equal(true);
      expect(a.body.registers).to.deep.equal({ ascending: 190, descending: FUNDS - 190, pieces: 2, controlTotal: FUNDS });
      a = await raw(d, Command.CONFIG, '{"flushPeriodS":3600,"foldWhenFull":false}');
      expect(a.body.config.flushPeriodS).to.equal(3600);
      a = await raw(d, Command.STATS_LIST, '{"tier":"flash"}');
      expect(a.ok).to.equal(true);
    });

    it('inside a secure session: a malformed inner request is refused with 5 and loads no funds', async () => {
      const pss = new PssEnd(kms);
      await pss.open(d);
      // the first message that authenticates notes a contact with the data center (one
      // journal entry), whatever it carries: the state is taken after it
      expect((await pss.send(d, '[]')).error.code).to.equal(ErrorCode.BAD_PAYLOAD);
      const before = await state(d);
      const funds = kms.funds(2, 5000);
      const good = JSON.stringify({ type: Command.FUNDS, payload: funds });
      const inner: [string, string][] = [
        // Espruino would read the first payload (the authentic funds), V8 the second
        [good.slice(0, -1) + ',"payload":{}}', 'payload twice'],
        [good + 'x', 'trailing garbage'],
        [good.replace('"amount":5000', '"amount":18446744073709556616'), 'amount 2^64 + 5000'],
        [good.slice(0, -1) + ',}', 'a trailing comma'],
        [JSON.stringify({ type: Command.FUNDS, payload: 5 }), 'payload a number'],
        [JSON.stringify({ type: Command.FUNDS, payload: [funds] }), 'payload a list'],
        ['[' + good + ']', 'the request in a list']
      ];
      for (const [text, why] of inner) {
        const r = await pss.send(d, text);
        expect(r.error, `${why}: ${JSON.stringify(r)}`).to.be.an('object');
        expect(r.error.code, why).to.equal(ErrorCode.BAD_PAYLOAD);
        expect(await state(d), `${why}: the device changed`).to.deep.equal(before);
      }
      // the same funds, well formed, are taken once
      const ok = await pss.send(d, good);
      expect(ok.ok.fundsCounter, JSON.stringify(ok)).to.equal(2);
      expect(ok.ok.registers.descending).to.equal(FUNDS - 95 + 5000);
    });
  });
}
