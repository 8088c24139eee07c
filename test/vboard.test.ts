import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { crc32 } from 'node:zlib';
import { VirtualBoard, type BoardDef, type VirtualBoardOptions } from '../kit/vboard/board.ts';
import { exposeBoard } from '../kit/vboard/expose.ts';
import { FlashSim, PowerCutError } from '../kit/vboard/flash.ts';

const PAGE = 1024;
const START = 0x08008000;

function board(over: Partial<BoardDef> = {}): BoardDef {
  return {
    id: 'testpico',
    name: 'Test Pico',
    espruinoBoard: 'PICO_R1_3',
    variables: 5100,
    flashKB: 384,
    flash: { dataStart: START, pageBytes: PAGE, dataPages: 2, writeAlignBytes: 4, eraseCycles: 10000 },
    dataPort: 'USB',
    consoleDefault: 'USB',
    serial: { baud: 115200, rx: 'B7', tx: 'B6' },
    nativeCrypto: ['SHA256', 'AES'],
    seal: 'hmac',
    tamper: { pin: 'B3', activeLevel: 0 },
    leds: ['LED1', 'LED2'],
    ...over
  };
}

const tick = () => new Promise((r) => setImmediate(r));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('vboard', function () {
  let dir: string;
  const boards: VirtualBoard[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vboard-test-'));
  });
  afterEach(() => {
    while (boards.length) {
      const b = boards.pop()!;
      if (b.running) b.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function make(image: string, over: Partial<VirtualBoardOptions> = {}) {
    const out: Buffer[] = [];
    const logs: string[] = [];
    const vb = new VirtualBoard({
      board: board(),
      image,
      flashFile: join(dir, 'flash.bin'),
      clock: 'manual',
      // these tests compare the console byte for byte: no prompt, no console-move notes
      consoleChrome: false,
      log: (s) => logs.push(s),
      ...over
    });
    vb.on('hostData', (b: Buffer) => out.push(b));
    boards.push(vb);
    const text = () => Buffer.concat(out).toString('latin1');
    return { vb, out, logs, text };
  }

  describe('strictness', () => {
    it('removes what Espruino 2v29 lacks and leaks nothing from Node', () => {
      const { vb, text } = make(`
        print([typeof Map, typeof Set, typeof Symbol, typeof Array.from, typeof "x".trimStart, typeof [].flat,
          typeof Uint8Array.from, typeof Object.freeze, typeof Number.isInteger, typeof Math.imul,
          typeof Buffer, typeof module, typeof exports, typeof setImmediate, typeof queueMicrotask,
          typeof TextEncoder, typeof Error.prototype.name, typeof ArrayBuffer.isView, typeof Promise.prototype.finally].join(','));
        print([typeof require, typeof process, typeof process.memory, typeof process.binding, typeof process.exit,
          typeof Promise, typeof JSON.stringify, typeof "a".padStart, typeof Object.entries].join(','));
        print("a-b-c".replace(/-/g, "+"), "a,b".split(/,/).length, JSON.stringify(new Uint8Array([1,2])));
      `);
      vb.start();
      const lines = text().split('\r\n');
      expect(lines[0]).to.equal(new Array(19).fill('undefined').join(','));
      // process, like Espruino's other built-in objects, is typeof "function" there
      expect(lines[1]).to.equal('function,function,function,undefined,undefined,function,function,function,function');
      expect(lines[2]).to.equal('a+b+c 2 [1,2]');
    });

    it('require offers only Flash, Storage and the board\'s crypto', () => {
      const img = `
        function t(f) { try { return f(); } catch (e) { return 'ERR ' + e.message; } }
        print(t(function(){ return typeof require('crypto'); }));
        print(t(function(){ return typeof require('crypto').SHA512; }));
        print(t(function(){ return typeof require('crypto').SHA256; }));
        print(t(function(){ return typeof require('fs'); }));
        print(t(function(){ return typeof require('Flash').write + typeof require('Storage').write; }));
      `;
      const a = make(img, { board: board({ nativeCrypto: [] }) });
      a.vb.start();
      expect(a.text().split('\r\n').slice(0, 5)).to.deep.equal([
        'ERR Module "crypto" not found', 'ERR Module "crypto" not found', 'ERR Module "crypto" not found',
        'ERR Module "fs" not found', 'functionfunction'
      ]);
      const b = make(img, { board: board({ nativeCrypto: ['SHA256'] }), flashFile: join(dir, 'f2.bin') });
      b.vb.start();
      expect(b.text().split('\r\n').slice(0, 5)).to.deep.equal([
        'function', 'undefined', 'function', 'ERR Module "fs" not found', 'functionfunction'
      ]);
    });

    it('SHA256 returns an ArrayBuffer digest; E.CRC32 is unsigned zlib CRC-32', () => {
      const { vb, text } = make(`
        var h = require('crypto').SHA256('abc');
        print(h instanceof ArrayBuffer, h.byteLength, new Uint8Array(h)[0], new Uint8Array(h)[31]);
        print(E.CRC32('123456789'), E.CRC32([49,50,51,52,53,54,55,56,57]), E.CRC32(new Uint8Array([255,255,255,255])));
      `);
      vb.start();
      const lines = text().split('\r\n');
      expect(lines[0]).to.equal('true 32 186 173');
      expect(lines[1]).to.equal(`3421780262 3421780262 ${crc32(Buffer.from([255, 255, 255, 255]))}`);
    });
  });

  describe('console and serial', () => {
    it('REPL on the data port evaluates 1+2', async () => {
      const { vb, text } = make(`var x = 40;`);
      vb.start();
      vb.hostWrite(Buffer.from('1+2\r'));
      await tick();
      await tick();
      expect(text()).to.contain('=3');
      expect(text()).to.contain('1+2');
      vb.hostWrite(Buffer.from('x+2\n'));
      await tick();
      expect(text()).to.contain('=42');
    });

    it('after LoopbackA.setConsole(true) the data port is raw', async () => {
      const { vb, text, logs } = make(`
        var got = '';
        LoopbackA.setConsole(true);
        USB.on('data', function (d) { got += d; USB.write('[' + d.length + ']'); });
        print('to the console');
      `);
      vb.start();
      vb.hostWrite(Buffer.from('1+2\r'));
      await tick();
      await tick();
      expect(text()).to.equal('[4]');
      expect(text()).not.to.contain('=3');
      expect(vb.evaluate('got')).to.equal('1+2\r');
      vb.stop();
      expect(logs.join('\n')).to.contain('[LoopbackA] to the console');
    });

    it('binary data in both directions, chars 0-255', async () => {
      const { vb, out } = make(`
        LoopbackA.setConsole(true);
        USB.on('data', function (d) { var a = []; for (var i = 0; i < d.length; i++) a.push(d.charCodeAt(i) ^ 255); USB.write(a); });
      `);
      vb.start();
      vb.hostWrite(Buffer.from([0, 1, 128, 255]));
      await tick();
      expect([...Buffer.concat(out)]).to.deep.equal([255, 254, 127, 0]);
    });

    it('drops bytes beyond the 1,024-byte receive buffer and flags UART_OVERFLOW', async () => {
      const { vb } = make(`
        var n = 0; LoopbackA.setConsole(true);
        USB.on('data', function (d) { n += d.length; });
      `);
      vb.start();
      vb.hostWrite(Buffer.alloc(1000, 65));
      vb.hostWrite(Buffer.alloc(1000, 66));
      for (let i = 0; i < 20; i++) await tick();
      expect(vb.evaluate('n')).to.equal(1024);
      expect(vb.evaluate('E.getErrorFlags().join()')).to.equal('UART_OVERFLOW');
      expect(vb.evaluate('E.getErrorFlags().length')).to.equal(0);
      // paced writes are not dropped
      vb.hostWrite(Buffer.alloc(1000, 67));
      for (let i = 0; i < 20; i++) await tick();
      vb.hostWrite(Buffer.alloc(1000, 67));
      for (let i = 0; i < 20; i++) await tick();
      expect(vb.evaluate('n')).to.equal(3024);
    });
  });

  describe('time', () => {
    it('advanceTime fires timers in order, including a 24-hour rollover', () => {
      const { vb, text } = make(`
        var ticks = 0;
        setInterval(function () { ticks++; }, 3600 * 1000);
        setTimeout(function () { print('day', getTime(), ticks); }, 24 * 3600 * 1000);
        setTimeout(function () { print('early', getTime()); }, 10);
      `);
      vb.start();
      vb.advanceTime(0.005);
      expect(text()).to.equal('');
      vb.advanceTime(24 * 3600);
      expect(text()).to.equal('early 0.01\r\nday 86400 24\r\n');
      expect(vb.evaluate('ticks')).to.equal(24);
      expect(vb.getTime()).to.be.closeTo(86400.005, 1e-6);
    });

    it('setTimeout(fn, 0) runs with a manual clock without advancing it', async () => {
      const { vb, text } = make(`setTimeout(function () { print('soon'); }, 0);`);
      vb.start();
      await tick();
      await tick();
      expect(text()).to.equal('soon\r\n');
    });
  });

  describe('pins', () => {
    it('setPin fires watches on the tamper pin', async () => {
      const { vb, text } = make(`
        LoopbackA.setConsole(true);
        setWatch(function (e) { USB.write('T' + (e.state ? 1 : 0)); }, 'B3', { repeat: true, edge: 'falling' });
        USB.write('L' + digitalRead(B3));
      `);
      vb.start();
      vb.setPin('B3', 0);
      await tick();
      vb.setPin('B3', 1);
      await tick();
      vb.setPin('B3', 0);
      await tick();
      expect(text()).to.equal('L1T0T0');
    });
  });

  describe('flash', () => {
    const F = `var F = require('Flash'); var A = ${START};
      function t(f) { try { f(); return 'ok'; } catch (e) { return 'ERR ' + e.message; } }`;

    it('takes unaligned writes (as 2v29 does), enforces bounds, AND semantics, erase, persistence across powerCycle', () => {
      const { vb, text } = make(`${F}
        print(t(function(){ F.write('abc', A + 100); }), t(function(){ F.write('abcd', A + 106); }), t(function(){ F.write('abcd', A - 4); }),
          t(function(){ F.read(4, A + ${2 * PAGE}); }));
        F.write([0xF0, 0x0F, 0xFF, 0x00], A);
        F.write([0x3C, 0xFF, 0x00, 0xFF], A);
        print(F.read(4, A).join(','));
        F.write([1, 2, 3, 4], A + ${PAGE});
        F.erasePage(A + 5);
        print(F.read(4, A).join(','), F.read(4, A + ${PAGE}).join(','), JSON.stringify(F.getPage(A + ${PAGE} + 7)), F.getPage(A - 1));
      `);
      vb.start();
      const lines = text().split('\r\n');
      expect(lines[0]).to.equal('ok ok ' +
        `ERR Flash write outside the data region (addr 0x${(START - 4).toString(16)}, length 4) ` +
        `ERR Flash read outside the data region (addr 0x${(START + 2 * PAGE).toString(16)}, length 4)`);
      expect(lines[1]).to.equal(`${0x30},${0x0f},0,0`);
      expect(lines[2]).to.equal(`255,255,255,255 1,2,3,4 {"addr":${START + PAGE},"length":${PAGE}} undefined`);
      expect(vb.flashStats().erasesPerPage).to.deep.equal([1, 0]);
      const file = readFileSync(join(dir, 'flash.bin'));
      expect(file.length).to.equal(2 * PAGE);
      expect([...file.subarray(PAGE, PAGE + 4)]).to.deep.equal([1, 2, 3, 4]);
      vb.powerCycle();
      expect(vb.evaluate(`Array.prototype.join.call(require('Flash').read(4, ${START + PAGE}), ',')`)).to.equal('1,2,3,4');
    });

    for (const mode of ['before', 'partial', 'after'] as const) {
      it(`power cut at op 2 (${mode}) leaves the expected bytes and silences the board`, async () => {
        // op 1: erase page 0; op 2: write 16 bytes of 0x00 at A; then more output attempts
        const { vb, text, logs } = make(`${F}
          LoopbackA.setConsole(true);
          USB.write('boot');
          F.erasePage(A);
          try { F.write(new Uint8Array(16), A); } catch (e) { USB.write('caught'); print('caught'); }
          USB.write('after');
          setTimeout(function () { USB.write('timer'); }, 0);
        `, { powerCut: { atOp: 2, mode } });
        let cut = false;
        vb.on('powercut', () => { cut = true; });
        vb.start();
        await tick();
        vb.advanceTime(1);
        await tick();
        expect(vb.dead).to.equal(true);
        expect(cut).to.equal(true);
        expect(text()).to.equal('boot');
        expect(logs).to.deep.equal([]);
        const f = readFileSync(join(dir, 'flash.bin')).subarray(0, 16);
        if (mode === 'before') expect([...f]).to.deep.equal(new Array(16).fill(255));
        if (mode === 'after') expect([...f]).to.deep.equal(new Array(16).fill(0));
        if (mode === 'partial') {
          // NOR physics: a cut write leaves a proper subset of its 128 falling bits fallen
          // (which ones is drawn from the cut: reproducible)
          const zeros = [...f].reduce((n, b) => n + 8 - b.toString(2).replace(/0/g, '').length, 0);
          expect(zeros).to.be.within(1, 127);
          expect(vb.flash.nor.lastCut).to.include({ op: 2, kind: 'write', mode: 'partial', bits: 128, changed: zeros });
          // the same cut tears the same bits
          const again = mkdtempSync(join(tmpdir(), 'vb-'));
          const twin = new FlashSim({ dataStart: 0, pageBytes: 64, dataPages: 1, writeAlignBytes: 4, eraseCycles: 1 }, join(again, 'f.bin'));
          twin.armPowerCut({ atOp: 2, mode: 'partial' });
          twin.erasePage(0);
          expect(() => twin.write(Buffer.alloc(16), 0)).to.throw(PowerCutError);
          expect([...twin.read(16, 0)]).to.deep.equal([...f]);
          twin.close();
          rmSync(again, { recursive: true, force: true });
        }
        // every API throws now
        expect(() => vb.hostWrite(Buffer.from('x'))).to.not.throw();
        vb.powerCycle();
        expect(vb.dead).to.equal(false);
        expect(text()).to.equal('bootbootafter');
      });
    }

    it('power cut during an erase (partial) leaves part of the page erased', () => {
      const { vb } = make(`${F}
        F.write(new Uint8Array(${PAGE}), A);
        F.erasePage(A);
      `, { powerCut: { atOp: 2, mode: 'partial' } });
      vb.start();
      expect(vb.dead).to.equal(true);
      const f = readFileSync(join(dir, 'flash.bin')).subarray(0, PAGE);
      // NOR physics: some of the page's bits back to 1, the others still 0
      const ones = [...f].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0);
      expect(ones).to.be.within(1, PAGE * 8 - 1);
      expect(vb.flash.nor.lastCut).to.include({ op: 2, kind: 'erase', mode: 'partial', bits: PAGE * 8, changed: ones });
    });
  });

  describe('storage, memory, reboot', () => {
    it('Storage persists across powerCycle', () => {
      const { vb } = make(`var S = require('Storage'); if (!S.read('cfg')) S.writeJSON('cfg', {n: 1}); else S.writeJSON('cfg', {n: S.readJSON('cfg').n + 1});`);
      vb.start();
      vb.powerCycle();
      expect(vb.evaluate(`require('Storage').readJSON('cfg').n`)).to.equal(2);
      expect(vb.evaluate(`require('Storage').list().join()`)).to.equal('cfg');
    });

    it('process.memory() estimates usage against board.variables', () => {
      const { vb } = make(`var small = 1;`);
      vb.start();
      const m0 = vb.evaluate('process.memory()') as { usage: number; total: number; free: number };
      expect(m0.total).to.equal(5100);
      vb.evaluate('var big = []; for (var i = 0; i < 1000; i++) big.push({a: i});');
      const m1 = vb.memory();
      expect(m1.usage - m0.usage).to.be.within(2500, 3500);
      expect(m1.free).to.equal(5100 - m1.usage);
      expect(vb.evaluate('process.env.BOARD + process.env.VERSION')).to.equal('PICO_R1_32v29');
    });

    it('E.reboot() power-cycles the board', async () => {
      const { vb, text } = make(`
        LoopbackA.setConsole(true); USB.write('up');
        USB.on('data', function () { E.reboot(); USB.write('never'); });
      `);
      vb.start();
      vb.hostWrite('r');
      await tick();
      await tick();
      await tick();
      expect(text()).to.equal('upup');
    });
  });

  describe('expose', () => {
    it('serialport opens the pty and sees bytes both ways', async function () {
      const { vb, text } = make(`
        LoopbackA.setConsole(true);
        USB.on('data', function (d) { USB.write('<' + d + '>'); });
      `, { clock: 'real' });
      vb.start();
      const ex = await exposeBoard(vb, { pty: true, ptyLink: join(dir, 'ttyVB') });
      try {
        expect(ex.ptyPath).to.equal(join(dir, 'ttyVB'));
        const port = new SerialPort({ path: ex.ptyPath!, baudRate: 115200, autoOpen: false });
        await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
        const got: Buffer[] = [];
        port.on('data', (d: Buffer) => got.push(d));
        await new Promise<void>((res, rej) => port.write(Buffer.from('hi'), (e) => (e ? rej(e) : res())));
        for (let i = 0; i < 100 && Buffer.concat(got).toString() !== '<hi>'; i++) await wait(20);
        expect(Buffer.concat(got).toString()).to.equal('<hi>');
        expect(text()).to.equal('<hi>');
        await new Promise<void>((res) => port.close(() => res()));
      } finally {
        await ex.close();
      }
    });
  });
});
