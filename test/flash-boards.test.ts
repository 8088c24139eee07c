// `psd flash --board <each board>` against a stand-in Espruino (testkit/standin-repl.ts) with
// that board's Storage size, flash and Flash.getFree(): where the image fits, the board stores
// it (the Pico and the Original: the boot code in Storage, the rest in their code area) and the
// STATUS read back carries the build hash; where it does not fit yet, psd flash refuses before
// it erases anything. Also: a code area Flash.getFree() does not report is refused before
// anything changes, a Pico whose code area is blank says why on its console, and a module
// whose bytes fail their CRC-32 is refused with the reason.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoards, getBoard, type BoardDef } from '../board-defs/index.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { startStandin } from '../testkit/standin-repl.ts';
import { readImage, storageBytes, modulesFile } from '../kit/flash/image.ts';
import { detokenise } from '../kit/flash/pretokenise.ts';
import { VirtualBoard } from '../kit/vboard/board.ts';
import { runCli, hasSocat, imagePath, imageBuildHash, startTarget } from '../testkit/target.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { openLink } from '../host-bridge/link.ts';
import { Command } from '../protocol/commands.ts';
import { PsdError } from '../host-bridge/errors.ts';

/** The stand-in with its REPL on the port the flasher uses: the data port (a Puck.js, MDBT42Q
 * or Bangle.js keeps its console on Bluetooth or its terminal; a lab wires it to that port). */
function onDataPort(b: BoardDef): BoardDef {
  return { ...b, consoleDefault: b.dataPort };
}

function jsonError(stderr: string): { code: number; message: string } {
  return JSON.parse(stderr.trim().split('\n').pop() ?? '').error;
}

describe('psd flash --board <each board> against a stand-in with that board\'s Storage and flash', function () {
  this.timeout(180000);
  const root = mkdtempSync(join(tmpdir(), 'psd-flash-boards-'));
  before(function () {
    if (!hasSocat()) this.skip(); // the stand-in is offered on a pty (socat)
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** a copy of the built image, so a rebuild meanwhile cannot change it */
  function copyImage(id: string): string {
    const f = join(root, `${id}.js`);
    writeFileSync(f, readFileSync(imagePath(id)));
    writeFileSync(modulesFile(f), readFileSync(modulesFile(imagePath(id))));
    return f;
  }

  for (const board of loadBoards()) {
    const image = readImage(imagePath(board.id));
    const need = storageBytes(image.storageFiles.map((f) => f.code));
    const fitsArea = !board.codeArea || (!!image.codeArea && image.codeArea.bytes.length <= board.codeArea.bytes);
    const fits = need <= board.image.budgetBytes && need <= (board.storageBytes ?? Infinity) && fitsArea;
    const where = board.codeArea ? `the boot code in Storage, ${image.codeArea!.bytes.length} bytes in the code area at 0x${board.codeArea.addr.toString(16)}` : `${need} bytes in Storage`;
    if (fits) {
      it(`${board.id}: stores the image (${where}) and reads back the build hash`, async () => {
        const file = copyImage(board.id);
        const s = await startStandin({ board: onDataPort(board), dir: join(root, board.id) });
        try {
          const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', board.id, '--image', file], { timeoutMs: 170000 });
          expect(r.code, r.stderr).to.equal(0);
          const report = JSON.parse(r.stdout);
          expect(report.readBack).to.include({ board: board.id, buildHash: imageBuildHash(file), matches: true });
          expect(s.storageFiles().sort()).to.deep.equal(image.storageFiles.map((f) => f.name).sort());
          if (board.codeArea) {
            expect(report.codeArea.files).to.have.members(image.codeArea!.directory.map((e) => e[0]));
            // the area holds the code-area image byte for byte
            const stored = s.vb.codeArea!.read(image.codeArea!.bytes.length, board.codeArea.addr);
            expect(stored.equals(image.codeArea!.bytes)).to.equal(true);
          } else expect(report.codeArea).to.equal(null);
        } finally {
          await s.close();
        }
      });
    } else {
      it(`${board.id}: does not fit yet (${where}; budget ${board.image.budgetBytes}, Storage ${board.storageBytes}): psd flash refuses before it erases anything`, async () => {
        const file = copyImage(board.id);
        const s = await startStandin({ board: onDataPort(board), dir: join(root, board.id) });
        try {
          s.vb.evaluate(`require("Flash").write(new Uint8Array([1,2,3,4]), ${board.flash.dataStart})`);
          const budget = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', board.id, '--erase-data', '--image', file], { timeoutMs: 30000 });
          expect(budget.code).to.equal(1);
          expect(jsonError(budget.stderr).message).to.contain('over the').and.contain('image budget');
          if (need > (board.storageBytes ?? Infinity)) {
            // past the budget on purpose: the board's own Storage size refuses it
            const storage = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', board.id, '--erase-data', '--over-budget', '--image', file], { timeoutMs: 30000 });
            expect(storage.code).to.equal(1);
            expect(jsonError(storage.stderr).message).to.contain(`need ${need} bytes`).and.contain('nothing written');
          }
          expect(s.boots(), 'not even reset').to.equal(1);
          expect(s.storageFiles()).to.deep.equal([]);
          expect(Array.from(s.vb.evaluate(`require("Flash").read(4, ${board.flash.dataStart})`) as Uint8Array)).to.deep.equal([1, 2, 3, 4]);
        } finally {
          await s.close();
        }
      });
    }
  }

  it('pico: a board whose Flash.getFree() does not report the code area is refused before anything changes', async () => {
    const pico = getBoard('pico');
    const file = copyImage('pico');
    // the same board without the free flash at 0x08060000 (a part without the hidden sector)
    const s = await startStandin({ board: { ...pico, codeArea: undefined }, dir: join(root, 'pico-nofree') });
    try {
      s.vb.evaluate(`require("Storage").write("keep", "1")`);
      const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'pico', '--image', file], { timeoutMs: 30000 });
      expect(r.code).to.equal(1);
      const e = jsonError(r.stderr);
      expect(e.code).to.equal(ErrorCode.BAD_ARGUMENT);
      expect(e.message).to.contain('code area (0x8060000, 131072 bytes) is not free flash').and.contain('nothing written');
      expect(s.boots(), 'not even reset').to.equal(1);
      expect(s.storageFiles()).to.deep.equal(['keep']);
    } finally {
      await s.close();
    }
  });

  for (const [lab, std] of [['puckjs-lab', 'puckjs'], ['mdbt42q-lab', 'mdbt42q']]) {
    it(`${lab}: a board still on Espruino's standard firmware (the ${std} Storage) is refused before anything changes, naming the lab firmware`, async () => {
      const standard = getBoard(std);
      const file = copyImage(lab);
      // same BOARD in process.env (the lab build keeps it), the standard firmware's Storage
      const s = await startStandin({ board: onDataPort(standard), dir: join(root, `${lab}-on-standard`) });
      try {
        s.vb.evaluate(`require("Storage").write("keep", "1")`);
        const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', lab, '--image', file], { timeoutMs: 30000 });
        expect(r.code).to.equal(1);
        const e = JSON.parse(r.stderr.trim().split('\n').pop() ?? '').error;
        expect(e.message, JSON.stringify(e)).to.contain(`holds ${standard.storageBytes} in all: nothing written`);
        expect(e.hint).to.contain(`board-defs/${lab}.json expects ${getBoard(lab).storageBytes} bytes of Storage`);
        expect(s.boots(), 'not even reset').to.equal(1);
        expect(s.storageFiles()).to.deep.equal(['keep']);
      } finally {
        await s.close();
      }
    });
  }
});

describe('code area: checked at every boot and at every load', () => {
  it('pico: the directory lists the shared chunks each pretokenised module requires (the loader caches them first)', () => {
    const image = readImage(imagePath('pico'));
    const dir = image.codeArea!.directory;
    const names = dir.map((e) => e[0]);
    for (const [name, , , , requires] of dir) {
      const code = detokenise(image.files.find((f) => f.name === name)!.code);
      const wanted = [...code.matchAll(/require\("([\w.]+)"\)/g)].map((m) => m[1]).filter((r) => r !== name && r !== 'psd.core' && names.includes(r));
      expect([...requires].sort(), name).to.deep.equal([...new Set(wanted)].sort());
    }
    expect(dir.find((e) => e[0] === 'psd.admin')![4].length, 'psd.admin needs shared chunks').to.be.greaterThan(0);
  });

  for (const id of ['pico', 'original']) {
    it(`${id}: a blank code area stops the boot with a message on the console that says what to do; the PSD does not start`, async () => {
      const board = getBoard(id);
      const dir = mkdtempSync(join(tmpdir(), 'psd-code-area-'));
      // the image's boot code alone: nothing was written to the code area
      const vb = new VirtualBoard({ board, image: readFileSync(imagePath(id), 'latin1'), modules: {}, flashFile: join(dir, 'flash.bin'), clock: 'manual', log: () => {} });
      let heard = '';
      vb.on('hostData', (b: Buffer) => (heard += b.toString('latin1')));
      try {
        vb.start();
        await new Promise((r) => setTimeout(r, 300));
        expect(vb.codeArea!.read(16, board.codeArea!.addr).equals(Buffer.alloc(16, 0xff))).to.equal(true);
        // the console (on the data port, USB) says why, and stays there for psd flash
        expect(heard).to.contain(`PSD code area 0x${board.codeArea!.addr.toString(16)}: no PSD code there; run psd flash`);
        expect(vb.evaluate('Modules.getCached().indexOf("psd.core")')).to.equal(-1);
      } finally {
        vb.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('pico: an on-demand module whose bytes fail their CRC-32 is not run: each request for it is refused with the reason', async () => {
    const t = await startTarget({ board: 'pico', pty: false });
    try {
      const vb = t.vb!;
      const area = vb.codeArea!;
      const image = readImage(imagePath('pico'));
      const admin = image.codeArea!.directory.find((e) => e[0] === 'psd.admin')!;
      const client = new PsdClient(await openLink(t.port), { timeoutMs: 3000, retries: 1 });
      try {
        expect((await client.request(Command.STATUS)).board).to.equal('pico');
        // one bit of psd.admin's code cleared, as a worn cell would (in a byte that has one set:
        // pretokenised code holds zero bytes too)
        let at = area.geo.addr + admin[1] + 100;
        while (area.read(1, at)[0] === 0) at++;
        const b = area.read(1, at)[0];
        area.write(Buffer.from([b & (b - 1)]), at);
        for (let i = 0; i < 2; i++) {
          // refused with the reason each time: nothing of the module ran, the device answers on
          const err = await client.request(Command.STATUS).then(() => null, (e) => e);
          expect(err).to.be.instanceOf(PsdError);
          expect((err as PsdError).message).to.contain('code area: psd.admin fails its CRC-32; run psd flash');
        }
      } finally {
        await client.close();
      }
    } finally {
      await t.close();
    }
  });
});
