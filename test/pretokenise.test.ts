// Espruino's pretokenisation of the image's Storage files (kit/flash/pretokenise.ts): the
// tokens are EspruinoTools' own, the build's images are pretokenised and read back to their
// source, and a pretokenised module runs the same on Espruino 2v29 and on the virtual board.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detokenise, isPretokenised, pretokenise } from '../kit/flash/pretokenise.ts';
import { imageFiles, readImage } from '../kit/flash/image.ts';
import { findEspruino, noEspruinoReason } from '../kit/real/binary.ts';
import { runReal, runVboard } from '../tools/fidelity/run.ts';
import { PRETOKENISED_PROBE, PROBE_MODULE, pretokenisedProbeSource } from '../tools/fidelity/pretokenised-probe.ts';

const ROOT = join(import.meta.dirname, '..');

describe('pretokenisation of the Storage files', () => {
  it('makes reserved words and operators one byte each, strings and small integers raw (Espruino 2v29 token numbers)', () => {
    // src/jslex.h: LEX_R_FUNCTION 0xAA, LEX_R_RETURN 0xAB, LEX_R_VAR 0xAC, LEX_TYPEEQUAL 0x8B,
    // LEX_R_TRY 0xB1, LEX_RAW_STRING8 0xD1, LEX_RAW_INT0 0xD3, LEX_RAW_INT8 0xD4, LEX_RAW_INT16 0xD5
    expect(pretokenise('function f(a){return a===0}')).to.equal('\xaaf(a){\xaba\x8b\xd3}');
    expect(pretokenise('var s="abc",n=-5,m=1000;')).to.equal('\xacs=\xd1\x03abc,n=\xd4\xfb,m=\xd5\xe8\x03;');
    // `catch` stays text (espruino/Espruino#1868), as EspruinoTools leaves it
    expect(pretokenise('try{x()}catch(e){}')).to.equal('\xb1{x()}catch(e){}');
  });

  it('reads the tokens back as Espruino\'s lexer does, to the same program', () => {
    const src = 'var a=/x\\//g,b=a.test("q/"),c=10/2/5,d=-1,e=-300,f=x in y,g=typeof z,h=true/2;';
    const back = detokenise(pretokenise(src));
    expect(back).to.equal('var a=/x\\//g,b=a.test("q/"),c=10/2/5,d=-1,e=-300,f=x in y,g=typeof z,h=true/2;');
    expect(isPretokenised(pretokenise(src))).to.equal(true);
    expect(isPretokenised(src)).to.equal(false);
  });

  it('refuses code Espruino would read otherwise than the source says', () => {
    // the tokeniser writes `- -b` as `--b`, which Espruino reads as a decrement
    expect(() => pretokenise('a - -b')).to.throw(/read the pretokenised code differently/);
    // a \u escape of 0x80-0xFF is a UTF-8 string on Espruino's Unicode builds, a raw byte pretokenised
    expect(() => pretokenise('var s="\\u00e9"')).to.throw(/Unicode builds/);
  });

  it('the built images are pretokenised, and read back to the source the build checked', function () {
    const image = join(ROOT, 'dist/firmware/pico.js');
    if (!existsSync(image)) throw new Error(`${image} is missing: run \`npm run build\` first`);
    const files = imageFiles(image);
    for (const [name, code] of files) {
      expect(isPretokenised(code), name).to.equal(true);
      // the build's own check (tools/build.ts): pretokenising the read-back source gives the stored bytes
      expect(pretokenise(detokenise(code)), name).to.equal(code);
    }
    const img = readImage(image);
    expect(img.board).to.equal('pico');
    expect(img.bytes).to.equal(readFileSync(image).length + Object.values(JSON.parse(readFileSync(image.replace(/\.js$/, '.modules.json'), 'utf8')) as string[]).reduce((n, c) => n + c.length, 0));
  });

  describe('a pretokenised module on Espruino 2v29 and on the virtual board (fidelity probe)', function () {
    this.timeout(60000);
    it('the probe file is what tools/fidelity/pretokenised-probe.ts makes today', () => {
      expect(readFileSync(PRETOKENISED_PROBE, 'utf8'), 'stale: node --import tsx tools/fidelity/pretokenised-probe.ts --write').to.equal(pretokenisedProbeSource());
    });

    it('gives the plain module\'s result on both, and the same output on both', async function () {
      const binary = findEspruino();
      if (!binary) {
        console.log(`      skipped: ${noEspruinoReason()}`);
        this.skip();
      }
      const src = pretokenisedProbeSource();
      const real = (await runReal(binary!, src)).out;
      const virtual = await runVboard(src);
      const expected = (() => {
        const m = { exports: {} as { run(): string } };
        new Function('exports', 'module', PROBE_MODULE)(m.exports, m);
        return m.exports.run();
      })();
      const lines = (out: string) => out.split(/\r?\n/).filter((l) => /^(bytes|same|\[)/.test(l));
      const plainBytes = PROBE_MODULE.length;
      const tokenBytes = pretokenise(PROBE_MODULE).length;
      const want = [`bytes ${plainBytes} ${tokenBytes}`, expected, expected, 'same true'];
      expect(lines(real), 'the real interpreter').to.deep.equal(want);
      expect(lines(virtual), 'the virtual board').to.deep.equal(want);
    });
  });
});
