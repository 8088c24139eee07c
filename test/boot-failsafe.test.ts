// A PSD that cannot start still answers: a flash layout the board does not have, or an
// exception at boot, leaves it on the wire answering STATUS with code 34 and the reason,
// refusing everything else, and never touching flash.
import { expect } from 'chai';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { FrameDecoder, encodeFrame, type Frame } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { asciiJson } from '../protocol/bytes.ts';
import { startFailsafe } from '../firmware/core/failsafe.ts';
import { getBoard } from '../board-defs/index.ts';
import { buildBoard, buildInfoFor } from '../tools/build.ts';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { PsdError } from '../host-bridge/errors.ts';
import { RealBoard } from '../kit/real/runner.ts';
import { exposeBoard } from '../kit/vboard/expose.ts';
import { CoreDevice, expectCode } from '../testkit/harness.ts';
import { memoryBoard } from '../testkit/memory-board.ts';
import { realTargetUnavailable, sayRealSkipped } from '../testkit/target.ts';

describe('boot: a PSD that cannot start says why on its data port', () => {
  it('a flash region the board does not have: locked with code 34, flash never touched', async () => {
    const board = memoryBoard();
    // what the binding found when it checked the region (firmware/board.ts FlashRegion.problem)
    Object.assign(board.flash, { problem: 'Flash.getPage(0x38000) is undefined' });
    const d = new CoreDevice(board);
    const s = await d.call(Command.STATUS);
    expect(s.lock).to.deep.equal({ code: ErrorCode.BOOT_FAILED, detail: 'Flash.getPage(0x38000) is undefined' });
    const k = crypto.randomBytes(32).toString('hex');
    await expectCode(d.call(Command.PROVISION, { device: 5, deviceKey: k, kmsKey: k }), ErrorCode.BOOT_FAILED);
    expect(board.flashBytes.every((b) => b === 0xff), 'flash untouched').to.equal(true);
  });

  it('an exception at boot: STATUS answers with code 34 and the exception, every other command is refused', () => {
    const board = memoryBoard();
    startFailsafe(board, { ...buildInfoFor(getBoard('linux'), null), buildHash: 'test' } as any, new Error('out of cheese'));
    const answers: Frame[] = [];
    const decoder = new FrameDecoder(crc32, (f) => answers.push(f));
    const ask = (type: number, body: object) => {
      const before = board.sent.length;
      board.receive(encodeFrame(type, answers.length + 1, asciiJson(body), crc32));
      decoder.push(board.sent.slice(before).join(''));
      return JSON.parse(answers[answers.length - 1].payload);
    };
    const s = ask(Command.STATUS, {});
    expect(s.lock).to.deep.equal({ code: ErrorCode.BOOT_FAILED, detail: 'boot: out of cheese' });
    expect(s.buildHash).to.equal('test');
    expect(ask(Command.FRANK, { id: 1, customer: 1, category: 1, weight: 1, postage: 1 })).to.deep.equal({ code: ErrorCode.BOOT_FAILED, detail: 'boot: out of cheese' });
    expect(board.flashBytes.every((b) => b === 0xff), 'flash untouched').to.equal(true);
  });

  sayRealSkipped();
  (realTargetUnavailable() ? describe.skip : describe)('on the real interpreter', function () {
    this.timeout(120000);
    it('the linux image built with a wrong flash layout (0x38000, 4 KB pages) boots, stays on the wire, and reports the mismatch', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'psd-layout-'));
      const linux = getBoard('linux');
      const wrong = { ...linux, flash: { ...linux.flash, dataStart: 0x38000, pageBytes: 4096, dataPages: 8 } };
      const img = await buildBoard(wrong, { outDir: dir });
      const rb = new RealBoard({ imagePath: img.file, dir: join(dir, 'board') });
      let ex: Awaited<ReturnType<typeof exposeBoard>> | null = null;
      let c: PsdClient | null = null;
      try {
        await rb.start();
        ex = await exposeBoard(rb, {});
        c = new PsdClient(await openLink(ex.tcpUrl!), { timeoutMs: 3000 });
        const s = await c.request(Command.STATUS);
        expect(s.lock!.code).to.equal(ErrorCode.BOOT_FAILED);
        expect(s.lock!.detail).to.contain('0x38000').and.to.contain('Flash.getFree');
        const k = crypto.randomBytes(32).toString('hex');
        const err = await c.request(Command.PROVISION, { device: 5, deviceKey: k, kmsKey: k }).catch((e) => e);
        expect(err).to.be.instanceOf(PsdError);
        expect((err as PsdError).code).to.equal(ErrorCode.BOOT_FAILED);
        expect(rb.running, 'the interpreter is still running').to.equal(true);
      } finally {
        await c?.close();
        await ex?.close();
        await rb.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
