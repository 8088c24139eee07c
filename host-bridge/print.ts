// Indicia on paper, at their true size: each indicium as an ECC 200 Data Matrix (the
// symbology postal indicia use) carrying its 40 raw bytes, with the human-readable fields
// beside it (amounts with their currency), as PNG and SVG.
//
// Size: the lab states the module (cell) size a postal operator specifies (default 0.5 mm) and
// the printer's resolution (300 or 600 dpi). The PNG draws each module as a whole number of
// dots (the nearest to the asked size: 6 dots = 0.508 mm at 300 dpi, 12 at 600) and records
// its resolution in a pHYs chunk, so it prints at its true size; the SVG is in millimetres
// (width/height in mm, one user unit = 1 mm) with the module exactly as asked. printSizes()
// states the sizes that result; `psd frank --print` reports them.
//
// Encoding choice: the symbol carries the 40 bytes themselves, not their hex. bwip-js takes
// them as a latin1 string with `binarytext: true` (without it, bwip-js would UTF-8-encode every
// byte >= 0x80 and change the data); BWIPP then picks Base 256 encodation, which fits in a
// 26x26 symbol (hex text would need 32x32). bwip-js gives the module matrix (raw()); the
// modules are drawn here at the chosen size. server/datamatrix.ts reads them back.
//
// The text in the PNG is drawn with the OCR-B font that bwip-js ships, rasterised by bwip-js's
// own font library (FontLib.getglyph); only the alpha blit into the pngjs image is done here,
// since no canvas library is installed.
import { mkdir, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import bwipjs from 'bwip-js';
import { PNG } from 'pngjs';
import { parseIndicium, indiciumVersion, indiciumBytesOf, INDICIUM_BYTES, type IndiciumFields } from '../protocol/indicium.ts';
import { fromHex } from '../protocol/bytes.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { PsdError } from './errors.ts';
import { writeDurable } from '../kit/durable.ts';
import { money } from '../kit/output.ts';

/** How an indicium is printed: resolution, module size and currency. */
export interface PrintOptions {
  /** PNG resolution, dots per inch, recorded in the PNG (pHYs); default 300 (600 for fine printers) */
  dpi?: number;
  /** the Data Matrix module (cell) size asked for, mm; default 0.5. The PNG uses the nearest
   * whole number of dots (at least 1) and states the size that gives; the SVG uses it exactly */
  moduleMm?: number;
  /** ISO 4217 code printed with the amounts; default PSD_CURRENCY or EUR */
  currency?: string;
}

export const DEFAULT_DPI = 300;
export const DEFAULT_MODULE_MM = 0.5;
const MM_PER_INCH = 25.4;
/** Quiet zone round the symbol: 2 modules, twice the 1 module ECC 200 asks for; the label's
 * outer margin is at least MARGIN_MM. */
const QUIET_MODULES = 2;
const MARGIN_MM = 1.5;
const GAP_MM = 2; // between the symbol and the text
const FONT = 'OCR-B';
const FONT_MM = 2.8; // em of the OCR-B text: capitals about 2 mm tall
const LINE_EM = 1.3;
const BASELINE_EM = 0.95; // from the top of a line box: OCR-B capitals centred in it
const LABEL_GAP_MM = 1.5; // between the longest label and the values

export interface PrintedIndicium {
  device: number;
  piece: number;
  png: string;
  svg: string;
  /** the PNG's resolution and the true sizes the label prints at */
  dpi: number;
  currency: string;
  modules: number;
  /** module size as printed: in the PNG (whole dots) and in the SVG (as asked) */
  moduleMm: { png: number; svg: number };
  symbolMm: { png: number; svg: number };
  labelMm: { png: [number, number]; svg: [number, number] };
}

/** An indicium's hex (the wire form: 84 digits, 80 for a layout-1 indicium) to its byte string, with a clear error otherwise. */
export function indiciumFromHex(hex: string): string {
  const size = /^[0-9a-fA-F]{2,}$/.test(hex) ? indiciumBytesOf(indiciumVersion(fromHex(hex.slice(0, 2)))) : -1;
  if (size < 0 || hex.length !== size * 2 || !/^[0-9a-fA-F]*$/.test(hex))
    throw new PsdError(ErrorCode.BAD_ARGUMENT, `an indicium is ${size < 0 ? INDICIUM_BYTES : size} bytes (${(size < 0 ? INDICIUM_BYTES : size) * 2} hex digits), got ${JSON.stringify(hex.slice(0, 100))}`);
  return fromHex(hex);
}

/** Days since 1970-01-01 (UTC) as YYYY-MM-DD. */
export function formatDay(day: number): string {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

function options(o: PrintOptions = {}): Required<PrintOptions> {
  const dpi = o.dpi ?? DEFAULT_DPI;
  const moduleMm = o.moduleMm ?? DEFAULT_MODULE_MM;
  const currency = o.currency ?? process.env.PSD_CURRENCY ?? 'EUR';
  if (!Number.isInteger(dpi) || dpi < 72 || dpi > 2400) throw new PsdError(ErrorCode.BAD_ARGUMENT, `--dpi ${dpi}: a whole number of dots per inch, 72..2400 (300 or 600 for indicia)`);
  if (!(moduleMm >= 0.2 && moduleMm <= 2)) throw new PsdError(ErrorCode.BAD_ARGUMENT, `--module-mm ${moduleMm}: a module of 0.2..2 mm`);
  if (!/^[A-Z]{3}$/.test(currency)) throw new PsdError(ErrorCode.BAD_ARGUMENT, `--currency ${currency}: an ISO 4217 code, three capital letters (EUR, CHF, GBP, USD...)`);
  return { dpi, moduleMm, currency };
}

/** The human-readable fields, in print order: [label, value]. */
export function indiciumLines(f: IndiciumFields, currency = 'EUR'): [string, string][] {
  return [
    // a test imprint says so first: it is not postage
    ...(f.test ? ([['TEST', 'NOT POSTAGE']] as [string, string][]) : []),
    ['DEVICE', `PSD-${f.device}`],
    ['DATE', formatDay(f.day)],
    ['POSTAGE', `${money(f.postage)} ${currency}`],
    ['PIECE', String(f.piece)],
    ['AR', `${money(f.ascending)} ${currency}`],
    ['DR', `${money(f.descending)} ${currency}`],
    ['CATEGORY', String(f.category)],
    // the rate-table version travels in the symbol only (pss verify-indicium shows it): a
    // ninth text line beside the symbol made a tilted, blurred scan of the label unreadable
    ['CUSTOMER', String(f.customer)]
  ];
}

/** The symbol's modules (ECC 200, the indicium's bytes as Base 256): rows of 0/1. */
function symbolMatrix(bytes: string): { n: number; dark: (x: number, y: number) => boolean } {
  const size = bytes.length ? indiciumBytesOf(indiciumVersion(bytes)) : INDICIUM_BYTES;
  if (bytes.length !== size) throw new PsdError(ErrorCode.BAD_ARGUMENT, `an indicium is ${size < 0 ? INDICIUM_BYTES : size} bytes, got ${bytes.length}`);
  const r = (bwipjs as any).raw({ bcid: 'datamatrix', text: bytes, binarytext: true })[0] as { pixs: number[]; pixx: number; pixy: number };
  if (r.pixx !== r.pixy) throw new Error(`bwip-js made a ${r.pixx}x${r.pixy} symbol; an indicium's is square`);
  return { n: r.pixx, dark: (x, y) => r.pixs[y * r.pixx + x] === 1 };
}

/** Width of a line of OCR-B at `size` px (its space is wider than its letters, so columns
 * are placed by x, not padded with spaces). */
function advance(text: string, size: number): number {
  const id = bwipjs.FontLib.lookup(FONT);
  let x = 0;
  for (let i = 0; i < text.length; i++) x += bwipjs.FontLib.getglyph(id, text.charCodeAt(i), size, size).advance;
  return x;
}

interface Layout {
  width: number;
  height: number;
  /** symbol top-left, module size and side, in the layout's unit */
  bx: number;
  by: number;
  module: number;
  side: number;
  /** label and value columns, the baseline of the first line, the line pitch and the font size */
  lx: number;
  vx: number;
  ty: number;
  line: number;
  font: number;
  lines: [string, string][];
}

/** The label laid out in some unit (`perMm` of them to a millimetre): PNG dots, or SVG mm. */
function layout(lines: [string, string][], modules: number, module: number, perMm: number, round: (v: number) => number, width: (text: string, font: number) => number): Layout {
  const font = round(FONT_MM * perMm);
  const line = round(font * LINE_EM);
  const quiet = Math.max(QUIET_MODULES * module, round(MARGIN_MM * perMm));
  const side = modules * module;
  const th = lines.length * line;
  const labels = Math.max(...lines.map(([k]) => width(k, font))) + round(LABEL_GAP_MM * perMm);
  const values = Math.max(...lines.map(([, v]) => width(v, font)));
  const inner = Math.max(side, th);
  const gap = round(GAP_MM * perMm);
  return {
    width: quiet + side + gap + labels + values + quiet,
    height: quiet + inner + quiet,
    bx: quiet,
    by: quiet + round((inner - side) / 2),
    module,
    side,
    lx: quiet + side + gap,
    vx: quiet + side + gap + labels,
    ty: quiet + round((inner - th) / 2) + round(font * BASELINE_EM),
    line,
    font,
    lines
  };
}

/** The PNG's module in dots: the whole number nearest the asked size, at least 1. */
function modulePx(o: Required<PrintOptions>): number {
  return Math.max(1, Math.round((o.moduleMm * o.dpi) / MM_PER_INCH));
}

const mm3 = (v: number) => Math.round(v * 1000) / 1000;

/** The true sizes of a label printed with these options (what `psd frank --print` reports). */
export function printSizes(bytes: string, opts: PrintOptions = {}): Omit<PrintedIndicium, 'device' | 'piece' | 'png' | 'svg'> {
  const o = options(opts);
  const f = parseIndicium(bytes);
  const { n } = symbolMatrix(bytes);
  const lines = indiciumLines(f, o.currency);
  const px = modulePx(o);
  const L = layout(lines, n, px, o.dpi / MM_PER_INCH, Math.round, advance);
  const S = svgLayout(lines, n, o.moduleMm);
  const toMm = (v: number) => mm3((v * MM_PER_INCH) / o.dpi);
  return {
    dpi: o.dpi,
    currency: o.currency,
    modules: n,
    moduleMm: { png: toMm(px), svg: o.moduleMm },
    symbolMm: { png: toMm(n * px), svg: mm3(n * o.moduleMm) },
    labelMm: { png: [toMm(L.width), toMm(L.height)], svg: [mm3(S.width), mm3(S.height)] }
  };
}

/** Black OCR-B text on the image, left end of its baseline at (x, baseline). */
function drawText(img: PNG, text: string, x: number, baseline: number, size: number): void {
  const id = bwipjs.FontLib.lookup(FONT);
  for (let i = 0; i < text.length; i++) {
    const g = bwipjs.FontLib.getglyph(id, text.charCodeAt(i), size, size);
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

/** A PNG chunk: length, type, data, CRC-32 over type and data (PNG spec 5.3). */
function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Records the resolution in the PNG: a pHYs chunk (pixels per metre, unit 1 = metre) right
 * after IHDR, where the PNG spec wants it (before IDAT). pngjs writes none. */
export function withDpi(png: Buffer, dpi: number): Buffer {
  const ihdrEnd = 8 + 8 + 13 + 4; // signature, IHDR length+type, IHDR data, CRC
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG with IHDR first');
  const ppm = Math.round(dpi / 0.0254);
  const data = Buffer.alloc(9);
  data.writeUInt32BE(ppm, 0);
  data.writeUInt32BE(ppm, 4);
  data[8] = 1;
  return Buffer.concat([png.subarray(0, ihdrEnd), pngChunk('pHYs', data), png.subarray(ihdrEnd)]);
}

/** The indicium as a PNG at its true size: white background, the symbol on the left (whole
 * dots per module), the fields on the right, the resolution recorded (pHYs). */
export async function indiciumPng(bytes: string, opts: PrintOptions = {}): Promise<Buffer> {
  const o = options(opts);
  const f = parseIndicium(bytes);
  const m = symbolMatrix(bytes);
  const px = modulePx(o);
  const L = layout(indiciumLines(f, o.currency), m.n, px, o.dpi / MM_PER_INCH, Math.round, advance);
  const out = new PNG({ width: L.width, height: L.height, colorType: 0, inputColorType: 6 });
  out.data.fill(255);
  for (let y = 0; y < m.n; y++)
    for (let x = 0; x < m.n; x++) {
      if (!m.dark(x, y)) continue;
      for (let dy = 0; dy < px; dy++)
        for (let dx = 0; dx < px; dx++) {
          const p = ((L.by + y * px + dy) * L.width + L.bx + x * px + dx) * 4;
          out.data[p] = out.data[p + 1] = out.data[p + 2] = 0;
        }
    }
  L.lines.forEach(([label, value], n) => {
    drawText(out, label, L.lx, L.ty + n * L.line, L.font);
    drawText(out, value, L.vx, L.ty + n * L.line, L.font);
  });
  return withDpi(PNG.sync.write(out, { colorType: 0 }), o.dpi);
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** OCR-B widths in mm: the glyph advances at a 1,000 px em, scaled. */
function advanceMm(text: string, fontMm: number): number {
  return (advance(text, 1000) * fontMm) / 1000;
}

function svgLayout(lines: [string, string][], modules: number, moduleMm: number): Layout {
  return layout(lines, modules, moduleMm, 1, mm3, advanceMm);
}

const num = (v: number) => String(mm3(v));

/** The same label as SVG in millimetres (width and height in mm, one user unit = 1 mm): the
 * symbol as one path of module squares at exactly the asked module size, the fields as <text>. */
export function indiciumSvg(bytes: string, opts: PrintOptions = {}): string {
  const o = options(opts);
  const f = parseIndicium(bytes);
  const m = symbolMatrix(bytes);
  const L = svgLayout(indiciumLines(f, o.currency), m.n, o.moduleMm);
  let d = '';
  for (let y = 0; y < m.n; y++) for (let x = 0; x < m.n; x++) if (m.dark(x, y)) d += `M${x} ${y}h1v1h-1z`;
  const texts = L.lines.flatMap(([label, value], n) => [
    `<text x="${num(L.lx)}" y="${num(L.ty + n * L.line)}">${xmlText(label)}</text>`,
    `<text x="${num(L.vx)}" y="${num(L.ty + n * L.line)}">${xmlText(value)}</text>`
  ]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(L.width)}mm" height="${num(L.height)}mm" viewBox="0 0 ${num(L.width)} ${num(L.height)}">`,
    `<desc>PSD indicium: Data Matrix ECC 200, ${m.n}x${m.n} modules of ${o.moduleMm} mm (${num(m.n * o.moduleMm)} mm square); amounts in ${o.currency}</desc>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<svg x="${num(L.bx)}" y="${num(L.by)}" width="${num(L.side)}" height="${num(L.side)}" viewBox="0 0 ${m.n} ${m.n}" shape-rendering="crispEdges"><path d="${d}" fill="#000"/></svg>`,
    `<g font-family="OCR-B, 'OCR B', monospace" font-size="${num(L.font)}" fill="#000">`,
    ...texts,
    '</g>',
    '</svg>',
    ''
  ].join('\n');
}

/** Writes via a temp file in the same directory and a rename, so a reader never sees half a file (kit/durable.ts). */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  await writeDurable(path, data, { fileMode: 0o644 });
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

/** Writes <dir>/PSD-<device>-<piece>.png and .svg for one indicium (byte string). */
export async function printIndicium(bytes: string, dir: string, opts: PrintOptions = {}): Promise<PrintedIndicium> {
  const f = parseIndicium(bytes);
  // (test imprints all carry piece 0: named by their MAC instead, so none overwrites another)
  const base = join(dir, f.test ? `PSD-${f.device}-TEST-${Buffer.from(bytes.substr(32, 4), 'latin1').toString('hex')}` : `PSD-${f.device}-${f.piece}`);
  const printed: PrintedIndicium = { device: f.device, piece: f.piece, png: base + '.png', svg: base + '.svg', ...printSizes(bytes, opts) };
  await writeAtomic(printed.png, await indiciumPng(bytes, opts));
  await writeAtomic(printed.svg, indiciumSvg(bytes, opts));
  return printed;
}

/** Prints every indicium (hex, as the device sends them) into dir. The pieces are already
 * charged when this runs, so a failure names the indicia it did not print: they are the only copy. */
export async function printIndicia(hexes: string[], dir: string, opts: PrintOptions = {}): Promise<PrintedIndicium[]> {
  const out: PrintedIndicium[] = [];
  for (const h of hexes) {
    try {
      out.push(await printIndicium(indiciumFromHex(h), dir, opts));
    } catch (e: any) {
      const left = hexes.slice(out.length);
      throw new PsdError(ErrorCode.INTERNAL, `franked, but printing into ${dir} failed after ${out.length} of ${hexes.length} indicia (${e.message}); the ${left.length} not printed: ${left.join(' ')}`);
    }
  }
  return out;
}
