// The data port never offers a JavaScript console: REPL text sent to the built image's data
// port is not evaluated, no prompt comes back, and the protocol keeps working. The control
// (an image that leaves the console alone) answers `=3`, so this test can fail.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoards, type BoardDef } from '../board-defs/index.ts';
import { VirtualBoard } from '../kit/vboard/board.ts';
import { FrameDecoder, encodeFrame, RESPONSE_FLAG, type Frame } from '../protocol/frame.ts';
import { Command } from '../protocol/commands.ts';
import { crc32 } from '../protocol/crc32.ts';
import { imagePath } from '../testkit/target.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

// What someone at a terminal would type to get at the interpreter.
const REPL_TEXT = [
  '1+2\r\n',
  '\x03reset()\r\n',
  '\x031+2\r',
  '\x10USB.setConsole()\n',
  'E.setConsole(Serial1)\r\n',
  'LoopbackA.setConsole(false)\r\n',
  '1+2\n'
];

function boot(dir: string, board: BoardDef, source?: string) {
  const logs: string[] = [];
  const vb = new VirtualBoard({
    board,
    ...(source !== undefined ? { image: source } : { imagePath: imagePath(board.id) }),
    flashFile: join(dir, board.id + '.flash'),
    // the Puck.js and MDBT42Q on Espruino's standard firmware: the image does not fit their
    // Storage (psd flash refuses it, test/flash-boards); their console is what is tested here,
    // so they get the lab firmware's Storage (board-defs puckjs-lab, mdbt42q-lab)
    storageBytes: Math.max(board.storageBytes ?? 0, 131072),
    clock: 'real',
    log: (s) => logs.push(s)
  });
  let out = '';
  const frames: Frame[] = [];
  const decoder = new FrameDecoder(crc32, (f) => frames.push(f));
  vb.on('hostData', (b: Buffer) => {
    out += b.toString('latin1');
    decoder.push(b.toString('latin1'));
  });
  vb.start();
  return { vb, logs, frames, out: () => out };
}

describe('console: the data port of the built image offers no REPL', function () {
  this.timeout(20000);
  let dir: string;
  const running: VirtualBoard[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'psd-console-'));
  });
  afterEach(() => {
    while (running.length) {
      const vb = running.pop()!;
      if (vb.running) vb.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const boards = loadBoards().filter((b) => b.dataPort === 'USB' || b.dataPort === 'Serial1');
  it('covers every board whose data port is USB or Serial1', () => {
    expect(boards.map((b) => b.id)).to.have.members(['pico', 'wifi', 'original', 'puckjs', 'puckjs-lab', 'mdbt42q', 'mdbt42q-lab', 'esp32', 'linux']);
  });

  for (const board of boards) {
    it(`${board.id}: REPL text on ${board.dataPort} is not evaluated, and STATUS still answers`, async () => {
      const b = boot(dir, board);
      running.push(b.vb);
      for (const line of REPL_TEXT) {
        b.vb.hostWrite(line);
        await wait(5);
      }
      await wait(100);
      const before = b.out();
      expect(before, 'no value printed').not.to.include('=3');
      expect(before, 'no prompt').not.to.match(/(^|\n)>/);
      expect(before, 'no echo').not.to.include('1+2');
      expect(before, 'no errors printed').not.to.match(/Uncaught|SyntaxError|ReferenceError/);
      expect(b.vb.running && !b.vb.dead, 'board alive').to.equal(true);
      // the protocol still works: one STATUS answer, from the same (not reset) firmware
      b.vb.hostWrite(Buffer.from(encodeFrame(Command.STATUS, 7, '{}', crc32), 'latin1'));
      for (let i = 0; i < 100 && !b.frames.some((f) => f.seq === 7); i++) await wait(10);
      const answer = b.frames.find((f) => f.seq === 7);
      expect(answer, 'STATUS answer').to.exist;
      expect(answer!.type).to.equal(Command.STATUS | RESPONSE_FLAG);
      const s = JSON.parse(answer!.payload);
      expect(s.board).to.equal(board.id);
      // the REPL text reached the firmware as bytes and was dropped as garbage
      expect(s.link.dropped).to.be.at.least(REPL_TEXT.join('').length);
      expect(b.out().slice(before.length)).not.to.include('=3');
    });
  }

  describe('control: an image that leaves the console where it is', () => {
    for (const board of boards.filter((b) => b.consoleDefault === b.dataPort)) {
      it(`${board.id}: answers 1+2 with =3 and a prompt (the check above would catch it)`, async () => {
        const b = boot(dir, board, 'var psd = 1;\n');
        running.push(b.vb);
        b.vb.hostWrite('1+2\r\n');
        await wait(100);
        expect(b.out()).to.include('=3');
        expect(b.out()).to.match(/(^|\n)>/);
      });
    }
  });
});
