// Reading a Data Matrix (ECC 200) from a PNG, as a scanned indicium arrives: pngjs gives the
// pixels, @zxing/library finds and decodes the symbol. Returns the symbol's bytes exactly.
import { PNG } from 'pngjs';
import { BinaryBitmap, DataMatrixReader, DecodeHintType, GlobalHistogramBinarizer, HybridBinarizer, RGBLuminanceSource, ZXingStringEncoding, type Binarizer, type LuminanceSource } from '@zxing/library';

export class UnreadableBarcode extends Error {}

/** Grey levels of the image, alpha composited over white (a transparent background is paper). */
function luminance(png: PNG): Uint8ClampedArray {
  const { width, height, data } = png;
  const lum = new Uint8ClampedArray(width * height);
  for (let i = 0; i < lum.length; i++) {
    const a = data[i * 4 + 3] / 255;
    const y = (data[i * 4] * 299 + data[i * 4 + 1] * 587 + data[i * 4 + 2] * 114) / 1000;
    lum[i] = y * a + 255 * (1 - a);
  }
  return lum;
}

/** zxing hands Base 256 segments to StringEncoding.decode as ISO-8859-1, and under Node
 * (no `window`) routes that to a decodeURIComponent fallback that throws on any byte >= 0x80.
 * (TextDecoder would not do either: WHATWG maps 'iso-8859-1' to windows-1252, which changes
 * 0x80..0x9f.) So for the duration of one decode, ISO-8859-1 is decoded as Node's exact latin1,
 * one char per byte; decode is synchronous, so nothing else runs meanwhile. */
function withLatin1<T>(fn: () => T): T {
  const enc = ZXingStringEncoding as unknown as { customDecoder?: (b: Uint8Array, e: string) => string };
  const before = enc.customDecoder;
  enc.customDecoder = (bytes, name) => {
    if (name !== 'ISO-8859-1') throw new UnreadableBarcode(`symbol uses character set ${name}, an indicium is raw bytes`);
    return Buffer.from(bytes).toString('latin1');
  };
  try {
    return fn();
  } finally {
    enc.customDecoder = before;
  }
}

function decodeIn(source: LuminanceSource): string {
  const hints = new Map([[DecodeHintType.TRY_HARDER, true]]);
  // Hybrid thresholds locally (scans with uneven light); the global one copes with small images.
  const binarizers: Binarizer[] = [new HybridBinarizer(source), new GlobalHistogramBinarizer(source)];
  let last: unknown;
  for (const b of binarizers) {
    try {
      return withLatin1(() => new DataMatrixReader().decode(new BinaryBitmap(b), hints).getText());
    } catch (e) {
      if (e instanceof UnreadableBarcode) throw e;
      last = e;
    }
  }
  throw last;
}

/** Windows to look in: the whole image, then squares and 3:2 boxes of the short side sliding
 * along the long side by a quarter of it. zxing's detector grows a white rectangle outward
 * from the image centre to find the symbol's border, so on a label with text beside the
 * symbol (as host-bridge/print.ts lays it out) it only finds the symbol in a window around it. */
function windows(width: number, height: number): [number, number, number, number][] {
  const out: [number, number, number, number][] = [[0, 0, width, height]];
  const side = Math.min(width, height);
  const long = Math.max(width, height);
  for (const len of [side, Math.round(side * 1.5)]) {
    if (len >= long) continue;
    const step = Math.max(1, Math.floor(side / 4));
    for (let at = 0; ; at += step) {
      const a = Math.min(at, long - len);
      out.push(width >= height ? [a, 0, len, height] : [0, a, width, len]);
      if (a === long - len) break;
    }
  }
  return out;
}

/** The bytes of the Data Matrix symbol in the image, as a byte string (one char per byte). */
export function readDataMatrix(image: Buffer): string {
  let png: PNG;
  try {
    png = PNG.sync.read(image);
  } catch (e: any) {
    throw new UnreadableBarcode(`not a PNG image (${e.message})`);
  }
  const whole = new RGBLuminanceSource(luminance(png), png.width, png.height);
  let last: any;
  for (const [left, top, w, h] of windows(png.width, png.height)) {
    try {
      return decodeIn(w === png.width && h === png.height ? whole : whole.crop(left, top, w, h));
    } catch (e) {
      if (e instanceof UnreadableBarcode) throw e;
      last = e;
    }
  }
  throw new UnreadableBarcode(`no readable Data Matrix symbol in the ${png.width}x${png.height} image (zxing: ${last?.constructor?.name ?? last})`);
}
