// Per-piece data on the host (`psd config --per-piece on`): the PSD chains every indicium into
// its next sealed block; the host keeps each indicium it franked, with the piece's weight band,
// and uploads the block's list with the block, so the PSS can check it against the chain and
// the records (server/pieces.ts). `psd frank` appends here as the pieces come; `psd upload`
// sends the list before the block (or before a session) and drops the pieces of a confirmed block.
//
// File: <store>/pieces-PSD-<device>.log, one line per piece: "<weight band> <indicium hex>",
// appended and fsync'd before the next FRANK request (a repeated answer may add a line twice:
// the list takes each piece number once).
import fs from 'node:fs';
import path from 'node:path';
import { fromHex } from '../protocol/bytes.ts';
import { parseIndicium } from '../protocol/indicium.ts';
import { PsdError } from './errors.ts';
import { ErrorCode } from '../protocol/errors.ts';

export interface KeptPiece {
  band: number;
  /** hex */
  indicium: string;
  piece: number;
}

export class PieceLog {
  readonly file: string;
  constructor(dir: string, device: number) {
    this.file = path.join(dir, `pieces-PSD-${device}.log`);
  }

  /** Appends pieces durably (the indicia of one FRANK answer, all of one weight band). */
  append(band: number, indicia: string[]): void {
    if (!indicia.length) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(this.file, 'a', 0o600);
    try {
      fs.writeSync(fd, indicia.map((x) => `${band} ${x}\n`).join(''));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Every piece kept, by piece number (each once); test imprints (number 0) are not kept. */
  read(): KeptPiece[] {
    if (!fs.existsSync(this.file)) return [];
    const byNumber = new Map<number, KeptPiece>();
    const lines = fs.readFileSync(this.file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line) continue;
      const m = /^(\d{1,3}) ([0-9a-f]{64,510})$/.exec(line);
      // a line cut by a crash while it was appended is the last one: the piece's indicium is
      // still on the PSD's last answer (psd frank --id resends)
      if (!m) {
        if (i === lines.length - 1 || (i === lines.length - 2 && !lines[i + 1])) continue;
        throw new PsdError(ErrorCode.STORE_DAMAGED, `${this.file} line ${i + 1} is not "<band> <indicium hex>"`);
      }
      const piece = parseIndicium(fromHex(m[2])).piece;
      if (piece) byNumber.set(piece, { band: Number(m[1]), indicium: m[2], piece });
    }
    return [...byNumber.values()].sort((a, b) => a.piece - b.piece);
  }

  /** The pieces numbered after `after` (a block's previous piece counter), up to `through`. */
  since(after: number, through = Infinity): KeptPiece[] {
    return this.read().filter((p) => p.piece > after && p.piece <= through);
  }

  /** The list as the PSS takes it (server/pieces.ts): band u8 | length u8 | indicium. */
  static encode(pieces: KeptPiece[]): string {
    let out = '';
    for (const p of pieces) {
      const b = fromHex(p.indicium);
      out += String.fromCharCode(p.band, b.length) + b;
    }
    return out;
  }

  /** Drops the pieces of confirmed blocks (numbered up to `through`). */
  dropThrough(through: number): void {
    if (!fs.existsSync(this.file)) return;
    const keep = this.read().filter((p) => p.piece > through);
    const tmp = this.file + '.tmp';
    fs.writeFileSync(tmp, keep.map((p) => `${p.band} ${p.indicium}\n`).join(''), { mode: 0o600 });
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
  }
}
