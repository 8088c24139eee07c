// A built firmware image (dist/firmware/<board>.js) as the flasher sees it: its bytes, the build
// hash tools/build.ts embedded, and the build info (board, firmware version) it carries.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** What tools/build.ts hashes in place of the hash (see buildBoard there). */
const HASH_PLACEHOLDER = '@@BUILD_HASH@@';

export interface FirmwareImage {
  file: string;
  code: string;
  bytes: number;
  /** 12 hex digits: sha256 of the image with the hash put back to the placeholder */
  buildHash: string;
  /** the board id and firmware version baked into the image's build info */
  board: string | null;
  firmwareVersion: string | null;
}

/** The build hash h such that sha256(code with h back to the placeholder) starts with h, or null
 * when no candidate verifies (not one of our builds, or edited after the build). */
export function findBuildHash(code: string): string | null {
  const candidates = new Set(code.match(/[0-9a-f]{12}/g) ?? []);
  for (const h of candidates) {
    const original = code.split(h).join(HASH_PLACEHOLDER);
    if (createHash('sha256').update(original).digest('hex').slice(0, 12) === h) return h;
  }
  return null;
}

export class ImageError extends Error {}

export function readImage(file: string): FirmwareImage {
  if (!existsSync(file)) throw new ImageError(`${file} does not exist: run \`npm run build\` first (or give --image)`);
  const code = readFileSync(file, 'utf8');
  const buildHash = findBuildHash(code);
  if (!buildHash) throw new ImageError(`${file} carries no valid build hash: it is not an image \`npm run build\` made, or it was edited afterwards`);
  // The build info object rollup inlines: {board:"pico",firmwareVersion:"0.1.0",buildHash:"<h>",...}
  const info = new RegExp(`board:"([^"]*)",firmwareVersion:"([^"]*)",buildHash:"${buildHash}"`).exec(code);
  return {
    file,
    code,
    bytes: Buffer.byteLength(code),
    buildHash,
    board: info ? info[1] : null,
    firmwareVersion: info ? info[2] : null
  };
}
