// process.memory() of the virtual board against the real interpreter: the linux image booted
// from Storage (as a board boots its saved code) on Espruino 2v29's Linux build with 5,100
// variables (a Pico's) and on the virtual board modelling that build (kit/vboard/memory.ts),
// read the same way on both (tools/real/memory.ts). Within 15 % right after boot and after a
// franking workload (frames handed to the firmware's Serial1 listener from inside the program).
// Also on the resizable build when it is there. Needs the interpreter (ESPRUINO_BIN): without it
// the suite says why and skips.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { getBoard } from '../board-defs/index.ts';
import { findEspruino, noEspruinoReason, type EspruinoMemory } from '../kit/real/binary.ts';
import { imageModules } from '../kit/flash/image.ts';
import { frankingWorkload, realMemory, virtualMemory } from '../tools/real/memory.ts';
import { varLayout } from '../kit/vboard/memory.ts';
import { FrameDecoder } from '../protocol/frame.ts';
import { crc32 } from '../protocol/crc32.ts';
import { Command } from '../protocol/commands.ts';
import { imagePath } from '../testkit/target.ts';

const TOLERANCE = 0.15;

describe('memory fidelity: the virtual board counts variables as Espruino 2v29 does', function () {
  this.timeout(180000);
  const image = imagePath('linux');

  it('models the variable layout of each build (blocksize, characters per variable)', () => {
    expect(varLayout('LINUX', 5100)).to.include({ blocksize: 17, nameChars: 8, stringChars: 12, extChars: 13, inlineMax: 4095 });
    expect(varLayout('LINUX', 65535)).to.include({ blocksize: 27, stringChars: 20, extChars: 21, inlineMax: 2147483647 });
    expect(varLayout('LINUX', 2630)).to.include({ blocksize: 17, stringChars: 12, extChars: 13, inlineMax: 2047 });
  });

  const builds: [EspruinoMemory, number][] = [
    ['5100', 5100],
    ['resizable', 65535]
  ];
  for (const [memory, variables] of builds) {
    describe(`the linux image on the ${memory === 'resizable' ? 'resizable' : memory + '-variable'} build`, () => {
      const binary = findEspruino(memory);
      const board = { ...getBoard('linux'), variables };
      before(function () {
        if (!binary) {
          console.log(`      skipped: ${noEspruinoReason(memory)}`);
          this.skip();
        }
        if (!existsSync(image)) throw new Error(`${image} is missing: run \`npm run build\` first (npm test does)`);
      });

      async function compare(what: string, code: string, check?: (answers: { type: number; body: any }[]) => void) {
        const modules = imageModules(image);
        const real = (await realMemory(binary!, code, { modules })).usage;
        // the virtual board's answers show the workload ran (the interpreter's are not read)
        const answers: { type: number; body: any }[] = [];
        const dec = new FrameDecoder(crc32, (f) => answers.push({ type: f.type, body: JSON.parse(f.payload || '{}') }));
        const virt = (await virtualMemory(board, code, { modules, before: (vb) => void vb.on('hostData', (d: Buffer) => dec.push(d.toString('latin1'))) })).usage;
        check?.(answers);
        const diff = (virt - real) / real;
        console.log(`      ${what}: real ${real}, virtual ${virt} variables (${diff >= 0 ? '+' : ''}${(100 * diff).toFixed(1)} %)`);
        expect(Math.abs(diff), `virtual ${virt} vs real ${real}`).to.be.at.most(TOLERANCE);
      }

      it('right after boot: within 15 %', async () => {
        await compare('after boot', readFileSync(image, 'latin1'));
      });

      it('after a franking workload (provision, funds, single/batch/dynamic franking, flush): within 15 %', async () => {
        await compare('after the workload', readFileSync(image, 'latin1') + frankingWorkload({ pieces: 40 }), (answers) => {
          const status = answers.filter((a) => a.type === (Command.STATUS | 0x80)).pop();
          expect(status, 'the workload ends with a STATUS answer').to.not.equal(undefined);
          // 40 single pieces, a batch of 50, 6 dynamic, 20 after the flush
          expect(status!.body.registers.pieces).to.equal(116);
        });
      });
    });
  }
});
