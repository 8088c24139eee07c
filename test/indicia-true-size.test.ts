// Indicia at their true size, and read back as a scanner gives them (issue 13): the PNG records
// its resolution (pHYs, 300 and 600 dpi) and draws whole dots per module, the SVG is in mm,
// the amounts carry their currency; `pss verify-indicium` reads scans at any rotation and at
// scanner resolutions, SVGs too, and tells UNREADABLE (exit 3) from NOT AUTHENTIC (exit 1).
// Scans are made with sharp (libvips): rotation on white, Gaussian blur, resampling, JPEG.
import { expect } from 'chai';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PNG } from 'pngjs';
import { indiciumBody, type IndiciumFields } from '../protocol/indicium.ts';
import { hmac } from '../protocol/hmac.ts';
import { indiciumPng, indiciumSvg, printIndicium, printSizes } from '../host-bridge/print.ts';
import { readDataMatrix, UnreadableBarcode } from '../server/datamatrix.ts';
import { ROOT } from '../testkit/target.ts';

const sha256 = (s: string) => crypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
const KEY = crypto.randomBytes(32);
const FIELDS: IndiciumFields = { device: 4711, day: 20787, postage: 85, ascending: 51000, descending: 949000, piece: 600, category: 3, customer: 1001 };
function indicium(f: IndiciumFields = FIELDS, key = KEY): string {
  const body = indiciumBody(f);
  return body + hmac(sha256, key.toString('latin1'), body).substr(0, 8);
}

function pss(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/pss.js'), 'verify-indicium', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pHYs chunk of a PNG: pixels per unit x, y and the unit (1 = metre). */
function phys(png: Buffer): { x: number; y: number; unit: number } | null {
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'pHYs') return { x: png.readUInt32BE(at + 8), y: png.readUInt32BE(at + 12), unit: png[at + 16] };
    if (type === 'IDAT') return null; // pHYs must come before the image data
    at += 12 + len;
  }
  return null;
}

/** The dark symbol's bounding box in the left part of the label (the text is to its right). */
function symbolBox(png: Buffer): { x0: number; y0: number; x1: number; y1: number } {
  const img = PNG.sync.read(png);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  // scan columns until the first all-white column after the symbol
  let seen = false;
  for (let x = 0; x < img.width; x++) {
    let dark = false;
    for (let y = 0; y < img.height; y++)
      if (img.data[(y * img.width + x) * 4] < 128) {
        dark = true;
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    if (dark) {
      seen = true;
      x0 = Math.min(x0, x);
      x1 = x;
    } else if (seen) break;
  }
  return { x0, y0, x1, y1 };
}

describe('indicia at true size; verify-indicium reads scans at any rotation and resolution', function () {
  this.timeout(120000);
  let dir: string;
  const keyHex = KEY.toString('hex');
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'psd-true-size-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('PNG at 300 and 600 dpi: the resolution is recorded (pHYs), a 0.5 mm module is 6 and 12 whole dots (0.508 mm), the symbol 26 modules', async () => {
    const bytes = indicium();
    for (const [dpi, dots, ppm] of [[300, 6, 11811], [600, 12, 23622]]) {
      const png = await indiciumPng(bytes, { dpi });
      expect(phys(png), `${dpi} dpi`).to.deep.equal({ x: ppm, y: ppm, unit: 1 });
      expect((await sharp(png).metadata()).density, 'what another reader (libvips) takes from the file').to.equal(dpi);
      const box = symbolBox(png);
      expect(box.x1 - box.x0 + 1, 'symbol width in dots').to.equal(26 * dots);
      expect(box.y1 - box.y0 + 1, 'symbol height in dots').to.equal(26 * dots);
      const sizes = printSizes(bytes, { dpi });
      expect(sizes.moduleMm.png).to.equal(Math.round((dots * 25.4 * 1000) / dpi) / 1000);
      expect(sizes.moduleMm.png).to.equal(0.508);
      expect(sizes.symbolMm.png).to.equal(13.208);
      const meta = await sharp(png).metadata();
      expect(sizes.labelMm.png[0]).to.be.closeTo((meta.width! * 25.4) / dpi, 0.001);
      expect(await readDataMatrix(png)).to.equal(bytes);
    }
    // another module size: 0.42 mm at 600 dpi is 10 dots (0.423 mm)
    expect(printSizes(bytes, { dpi: 600, moduleMm: 0.42 }).moduleMm.png).to.equal(0.423);
    const box = symbolBox(await indiciumPng(bytes, { dpi: 600, moduleMm: 0.42 }));
    expect(box.x1 - box.x0 + 1).to.equal(260);
  });

  it('SVG in millimetres with the module exactly as asked; it reads back; amounts carry the currency', async () => {
    const bytes = indicium();
    const svg = indiciumSvg(bytes, { moduleMm: 0.5, currency: 'CHF' });
    const root = /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="([\d.]+)mm" height="([\d.]+)mm" viewBox="0 0 ([\d.]+) ([\d.]+)">/.exec(svg);
    expect(root, svg.slice(0, 200)).to.not.equal(null);
    expect(root![1]).to.equal(root![3]);
    expect(root![2]).to.equal(root![4]);
    expect(/<svg x="[\d.]+" y="[\d.]+" width="13" height="13" viewBox="0 0 26 26"/.test(svg), 'the symbol: 26 modules in 13 mm').to.equal(true);
    expect(svg).to.include('26x26 modules of 0.5 mm (13 mm square); amounts in CHF');
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).to.deep.equal(['DEVICE', 'PSD-4711', 'DATE', '2026-11-30', 'POSTAGE', '0.85 CHF', 'PIECE', '600', 'AR', '510.00 CHF', 'DR', '9490.00 CHF', 'CATEGORY', '3', 'CUSTOMER', '1001']);
    // rendered (librsvg, at 300 dpi) and read back
    expect(await readDataMatrix(Buffer.from(svg))).to.equal(bytes);
    const sizes = printSizes(bytes, { moduleMm: 0.5 });
    expect(sizes.labelMm.svg).to.deep.equal([Number(root![1]), Number(root![2])]);
    expect(indiciumSvg(bytes)).to.include('0.85 EUR');
  });

  it('refuses a resolution, module size or currency that is no such thing', () => {
    const bytes = indicium();
    expect(() => printSizes(bytes, { dpi: 50 })).to.throw(/--dpi 50/);
    expect(() => printSizes(bytes, { moduleMm: 5 })).to.throw(/--module-mm 5/);
    expect(() => printSizes(bytes, { currency: 'euro' })).to.throw(/ISO 4217/);
  });

  it('a 300 dpi print rotated by 10, 33, 90 and 200 degrees and blurred slightly verifies; at 200, 600 and 1200 dpi scans too', async () => {
    const bytes = indicium();
    const p = await printIndicium(bytes, dir, { dpi: 300 });
    const png = readFileSync(p.png);
    const cases: [string, Buffer][] = [];
    for (const angle of [10, 33, 90, 200]) {
      const rotated = await sharp(png).rotate(angle, { background: '#ffffff' }).png().toBuffer();
      cases.push([`rotated ${angle}, blurred`, await sharp(rotated).blur(1.2).png().toBuffer()]);
    }
    const meta = await sharp(png).metadata();
    for (const dpi of [200, 600, 1200]) {
      const k = dpi / 300;
      // resampled, on a wider sheet of paper, tilted 4 degrees, as JPEG
      const scan = await sharp(png)
        .resize(Math.round(meta.width! * k), Math.round(meta.height! * k), { kernel: 'cubic' })
        .extend({ top: Math.round(60 * k), bottom: Math.round(200 * k), left: Math.round(80 * k), right: Math.round(300 * k), background: '#ffffff' })
        .rotate(-4, { background: '#ffffff' })
        .blur(0.6 * k)
        .jpeg({ quality: 80 })
        .withMetadata({ density: dpi })
        .toBuffer();
      cases.push([`${dpi} dpi JPEG scan`, scan]);
    }
    for (const [what, image] of cases) {
      const file = join(dir, what.replace(/\W+/g, '-') + (what.includes('JPEG') ? '.jpg' : '.png'));
      writeFileSync(file, image);
      const r = await pss([file, '--device-key', keyHex, '--json']);
      expect(r.code, `${what}: ${r.stdout} ${r.stderr}`).to.equal(0);
      const v = JSON.parse(r.stdout);
      expect(v, what).to.include({ ok: true });
      expect(v.fields, what).to.include({ device: 4711, piece: 600, postage: 85 });
    }
    // the SVG as written verifies too
    const svg = await pss([p.svg, '--device-key', keyHex]);
    expect(svg.code, svg.stderr).to.equal(0);
    expect(svg.stdout).to.match(/^authentic: indicium of PSD-4711, MAC verified/);
  });

  it('a blank PNG says UNREADABLE (exit 3), not NOT AUTHENTIC; so does a file that is no image; a forged one is NOT AUTHENTIC (exit 1)', async () => {
    const blank = join(dir, 'blank.png');
    writeFileSync(blank, await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#ffffff' } }).png().withMetadata({ density: 300 }).toBuffer());
    const r = await pss([blank, '--device-key', keyHex]);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.match(/^UNREADABLE: unreadable barcode: no readable Data Matrix symbol in the 1200x800 PNG image \(nothing is known about its authenticity: scan it again\)/);
    expect(r.stderr).not.to.match(/NOT AUTHENTIC/);
    const j = await pss([blank, '--device-key', keyHex, '--json']);
    expect(j.code).to.equal(3);
    expect(JSON.parse(j.stdout)).to.include({ ok: false, code: 'UNREADABLE', source: 'png' });
    const junk = join(dir, 'junk.png');
    writeFileSync(junk, 'not an image at all');
    const k = await pss([junk, '--device-key', keyHex]);
    expect(k.code).to.equal(3);
    expect(k.stderr).to.match(/^UNREADABLE: unreadable barcode: not an image this reader knows/);
    await expectRejects(readDataMatrix(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10mm" height="10mm"/>')));
    // a mistyped path is a usage error (exit 2) naming it, not an UNREADABLE indicium
    const missing = join(dir, 'scan-that-is-not-there.png');
    const m = await pss([missing, '--device-key', keyHex]);
    expect(m.code).to.equal(2);
    expect(m.stderr).to.equal(`pss verify-indicium: error: no such file: ${missing}\n`);
    const mj = await pss([missing, '--device-key', keyHex, '--json']);
    expect(mj.code).to.equal(2);
    expect(JSON.parse(mj.stderr).error.message).to.equal(`no such file: ${missing}`);
    // the right symbol under another key: read fine, not authentic
    const forged = await printIndicium(indicium({ ...FIELDS, piece: 601 }, crypto.randomBytes(32)), dir);
    const f = await pss([forged.png, '--device-key', keyHex]);
    expect(f.code).to.equal(1);
    expect(f.stderr).to.match(/^NOT AUTHENTIC: .*MAC does not match/);
  });
});

async function expectRejects(p: Promise<unknown>) {
  let err: unknown = null;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).to.be.instanceOf(UnreadableBarcode);
}
