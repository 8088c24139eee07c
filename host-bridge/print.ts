// Indicia on paper: each indicium as an ECC 200 Data Matrix (the symbology postal indicia use)
// carrying its 40 raw bytes, with the human-readable fields beside it, as PNG and SVG.
//
// Encoding choice: the symbol carries the 40 bytes themselves, not their hex. bwip-js takes
// them as a latin1 string with `binarytext: true` (without it, bwip-js would UTF-8-encode every
// byte >= 0x80 and change the data); BWIPP then picks Base 256 encodation, which fits in a
// 26x26 symbol (hex text would need 32x32). Read back with @zxing/library, 500 random
// indicia and all-0x00/all-0xff ones gave every byte back (test/indicia-print.test.ts keeps
// edge cases and a sample) once server/datamatrix.ts works around zxing's Node decoding of
// Base 256 as ISO-8859-1, which throws on bytes >= 0x80 (see there).
//
// The text in the PNG is drawn with the OCR-B font that bwip-js ships, rasterised by bwip-js's
// own font library (FontLib.getglyph); only the alpha blit into the pngjs image is done here,
// since no canvas library is installed.
import { mkdir, rename, writeFile, access, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, resolve } from 'node:path';
import crypto from 'node:crypto';
import bwipjs from 'bwip-js';
import { PNG } from 'pngjs';
import { parseIndicium, INDICIUM_BYTES, type IndiciumFields } from '../protocol/indicium.ts';
import { fromHex } from '../protocol/bytes.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { PsdError } from './errors.ts';
import { money } from './output.ts';

/** bwip-js scale: 4 gives 8 px per module (BWIPP draws a module as 2 units), 208 px for 26x26. */
const BARCODE_SCALE = 4;
/** Quiet zone and outer margin, px: 2 modules, twice the 1 module ECC 200 asks for. */
const MARGIN = 16;
const GAP = 24; // between the symbol and the text
const FONT = 'OCR-B';
const FONT_PX = 20; // bwip-js font cell; OCR-B capitals come out 14-15 px tall
const LINE_PX = 26;
const BASELINE_PX = 19; // from the top of a line box: OCR-B capitals centred in it
const LABEL_GAP = 16; // px between the longest label and the values

export interface PrintedIndicium {
  device: number;
  piece: number;
  png: string;
  svg: string;
}

/** 80 hex digits (the wire form) to the 40-byte string, with a clear error otherwise. */
export function indiciumFromHex(hex: string): string {
  if (!new RegExp(`^[0-9a-fA-F]{${INDICIUM_BYTES * 2}}$`).test(hex)) throw new PsdError(ErrorCode.BAD_ARGUMENT, `an indicium is ${INDICIUM_BYTES} bytes (${INDICIUM_BYTES * 2} hex digits), got ${JSON.stringify(hex.slice(0, 100))}`);
  return fromHex(hex);
}

/** Days since 1970-01-01 (UTC) as YYYY-MM-DD. */
export function formatDay(day: number): string {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

/** The human-readable fields, in print order: [label, value]. */
export function indiciumLines(f: IndiciumFields): [string, string][] {
  return [
    ['DEVICE', `PSD-${f.device}`],
    ['DATE', formatDay(f.day)],
    ['POSTAGE', money(f.postage)],
    ['PIECE', String(f.piece)],
    ['AR', money(f.ascending)],
    ['DR', money(f.descending)],
    ['CATEGORY', String(f.category)],
    ['CUSTOMER', String(f.customer)]
  ];
}

function barcodeOptions(bytes: string) {
  if (bytes.length !== INDICIUM_BYTES) throw new PsdError(ErrorCode.BAD_ARGUMENT, `an indicium is ${INDICIUM_BYTES} bytes, got ${bytes.length}`);
  return { bcid: 'datamatrix', text: bytes, binarytext: true, scale: BARCODE_SCALE, padding: 0 };
}

/** Width in px of a line of OCR-B at FONT_PX (its space is wider than its letters, so columns
 * are placed by x, not padded with spaces). */
function advance(text: string): number {
  const id = bwipjs.FontLib.lookup(FONT);
  let x = 0;
  for (let i = 0; i < text.length; i++) x += bwipjs.FontLib.getglyph(id, text.charCodeAt(i), FONT_PX, FONT_PX).advance;
  return x;
}

interface Layout {
  width: number;
  height: number;
  /** symbol top-left and size, px */
  bx: number;
  by: number;
  bw: number;
  bh: number;
  /** label and value columns and the baseline of the first line, px */
  lx: number;
  vx: number;
  ty: number;
  lines: [string, string][];
}

function layout(f: IndiciumFields, bw: number, bh: number): Layout {
  const lines = indiciumLines(f);
  const th = lines.length * LINE_PX;
  const labels = Math.max(...lines.map(([k]) => advance(k))) + LABEL_GAP;
  const values = Math.max(...lines.map(([, v]) => advance(v)));
  const inner = Math.max(bh, th);
  return {
    width: MARGIN + bw + GAP + labels + values + MARGIN,
    height: MARGIN + inner + MARGIN,
    bx: MARGIN,
    by: MARGIN + Math.floor((inner - bh) / 2),
    bw,
    bh,
    lx: MARGIN + bw + GAP,
    vx: MARGIN + bw + GAP + labels,
    ty: MARGIN + Math.floor((inner - th) / 2) + BASELINE_PX,
    lines
  };
}

/** Black OCR-B text on the image, left end of its baseline at (x, baseline). */
function drawText(img: PNG, text: string, x: number, baseline: number): void {
  const id = bwipjs.FontLib.lookup(FONT);
  for (let i = 0; i < text.length; i++) {
    const g = bwipjs.FontLib.getglyph(id, text.charCodeAt(i), FONT_PX, FONT_PX);
    // glyph bytes are coverage (alpha) per pixel, rows top-down from `top` above the baseline
    for (let gy = 0; gy < g.height; gy++) {
      for (let gx = 0; gx < g.width; gx++) {
        const a = g.bytes[g.offset + gy * g.width + gx];
        if (!a) continue;
        const p = ((baseline - g.top + gy) * img.width + x + g.left + gx) * 4;
        const v = Math.round(img.data[p] * (1 - a / 255)); // black over what is there
        img.data[p] = img.data[p + 1] = img.data[p + 2] = v;
      }
    }
    x += g.advance;
  }
}

/** The indicium as a PNG: white background, the symbol on the left, the fields on the right. */
export async function indiciumPng(bytes: string): Promise<Buffer> {
  const f = parseIndicium(bytes);
  const symbol = PNG.sync.read(await bwipjs.toBuffer({ ...barcodeOptions(bytes), backgroundcolor: 'FFFFFF' }));
  const L = layout(f, symbol.width, symbol.height);
  const out = new PNG({ width: L.width, height: L.height, colorType: 0, inputColorType: 6 });
  out.data.fill(255);
  PNG.bitblt(symbol, out, 0, 0, symbol.width, symbol.height, L.bx, L.by);
  L.lines.forEach(([label, value], n) => {
    drawText(out, label, L.lx, L.ty + n * LINE_PX);
    drawText(out, value, L.vx, L.ty + n * LINE_PX);
  });
  return PNG.sync.write(out, { colorType: 0 });
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The same layout as SVG: bwip-js's symbol nested in place, the fields as <text>. */
export function indiciumSvg(bytes: string): string {
  const f = parseIndicium(bytes);
  const symbol = bwipjs.toSVG({ ...barcodeOptions(bytes), backgroundcolor: 'FFFFFF' });
  const box = /^<svg viewBox="0 0 (\d+) (\d+)"/.exec(symbol);
  if (!box) throw new Error('bwip-js SVG output changed: no leading <svg viewBox="0 0 w h">');
  const L = layout(f, Number(box[1]), Number(box[2]));
  const nested = symbol.replace(/^<svg /, `<svg x="${L.bx}" y="${L.by}" width="${L.bw}" height="${L.bh}" `).trim();
  const texts = L.lines.flatMap(([label, value], n) => [
    `<text x="${L.lx}" y="${L.ty + n * LINE_PX}">${xmlText(label)}</text>`,
    `<text x="${L.vx}" y="${L.ty + n * LINE_PX}">${xmlText(value)}</text>`
  ]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    nested,
    `<g font-family="OCR-B, 'OCR B', monospace" font-size="${FONT_PX - 2}" fill="#000">`,
    ...texts,
    '</g>',
    '</svg>',
    ''
  ].join('\n');
}

/** Writes via a temp file in the same directory and a rename, so a reader never sees half a file. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** Creates the directory and checks it is writable: call it before franking, so a bad
 * --print directory fails before any piece is charged. */
export async function preparePrintDir(dir: string): Promise<string> {
  const abs = resolve(dir);
  try {
    await mkdir(abs, { recursive: true });
    await access(abs, constants.W_OK);
  } catch (e: any) {
    throw new PsdError(ErrorCode.BAD_ARGUMENT, `--print ${dir}: cannot write there (${e.code ?? e.message})`);
  }
  return abs;
}

/** Writes <dir>/PSD-<device>-<piece>.png and .svg for one indicium (40-byte string). */
export async function printIndicium(bytes: string, dir: string): Promise<PrintedIndicium> {
  const f = parseIndicium(bytes);
  const base = join(dir, `PSD-${f.device}-${f.piece}`);
  const printed = { device: f.device, piece: f.piece, png: base + '.png', svg: base + '.svg' };
  await writeAtomic(printed.png, await indiciumPng(bytes));
  await writeAtomic(printed.svg, indiciumSvg(bytes));
  return printed;
}

/** Prints every indicium (hex, as the device sends them) into dir. The pieces are already
 * charged when this runs, so a failure names the indicia it did not print: they are the only copy. */
export async function printIndicia(hexes: string[], dir: string): Promise<PrintedIndicium[]> {
  const out: PrintedIndicium[] = [];
  for (const h of hexes) {
    try {
      out.push(await printIndicium(indiciumFromHex(h), dir));
    } catch (e: any) {
      const left = hexes.slice(out.length);
      throw new PsdError(ErrorCode.INTERNAL, `franked, but printing into ${dir} failed after ${out.length} of ${hexes.length} indicia (${e.message}); the ${left.length} not printed: ${left.join(' ')}`);
    }
  }
  return out;
}
