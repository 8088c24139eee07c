// Reading a Data Matrix (ECC 200) from a scanned or printed indicium, as it arrives: a PNG,
// JPEG, TIFF, WebP or GIF at any scanner resolution, or the SVG `psd frank --print` writes.
// sharp (libvips) decodes the image (an SVG is rendered at 300 dpi), flattened over white (a
// transparent background is paper); zxing-wasm (ZXing-C++ in WebAssembly) finds and decodes
// the symbol at any rotation, blurred or noisy, and gives its bytes exactly (Base 256 content
// is raw bytes, no character set applied). @zxing/library, used before, found a symbol only
// within a few degrees of upright or at 180 (issue 13).
//
// zxing-wasm loads its WebAssembly from a CDN by default; here it is always the copy in
// node_modules (zxing-wasm/reader/zxing_reader.wasm), so verifying needs no network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { prepareZXingModule, readBarcodes, type ReaderOptions } from 'zxing-wasm/reader';

export class UnreadableBarcode extends Error {}

let prepared = false;
function prepare(): void {
  if (prepared) return;
  const wasm = readFileSync(createRequire(import.meta.url).resolve('zxing-wasm/reader/zxing_reader.wasm'));
  prepareZXingModule({ overrides: { wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer }, fireImmediately: false });
  prepared = true;
}

const OPTIONS: ReaderOptions = {
  formats: ['DataMatrix'],
  tryHarder: true,
  tryRotate: true,
  tryInvert: true,
  tryDownscale: true,
  maxNumberOfSymbols: 1
};

/** An image as RGBA pixels over white: any format sharp reads; an SVG at 300 dpi. */
async function pixels(image: Buffer): Promise<{ data: Uint8ClampedArray; width: number; height: number; format: string }> {
  try {
    const { data, info } = await sharp(image, { density: 300, limitInputPixels: 400e6 }).flatten({ background: '#ffffff' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const meta = await sharp(image, { density: 300 }).metadata();
    return { data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, format: meta.format ?? 'image' };
  } catch (e: any) {
    throw new UnreadableBarcode(`not an image this reader knows (PNG, JPEG, TIFF, WebP, GIF, SVG): ${e.message}`);
  }
}

/** The bytes of the Data Matrix symbol in the image, as a byte string (one char per byte). */
export async function readDataMatrix(image: Buffer): Promise<string> {
  prepare();
  const img = await pixels(image);
  const found = await readBarcodes({ data: img.data, width: img.width, height: img.height, colorSpace: 'srgb' } as ImageData, OPTIONS);
  const ok = found.find((r) => r.isValid && r.format === 'DataMatrix');
  if (!ok) {
    const why = found.find((r) => r.error)?.error;
    throw new UnreadableBarcode(`no readable Data Matrix symbol in the ${img.width}x${img.height} ${img.format.toUpperCase()} image${why ? ` (a symbol was found but not decoded: ${why})` : ''}`);
  }
  return Buffer.from(ok.bytes).toString('latin1');
}
