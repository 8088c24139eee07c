// require("Storage") backing store: a JSON file {name: base64}. Not part of the PSD data region.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export class StorageError extends Error {}

const HEADER_BYTES = 32; // per-file header on Espruino's Storage (approximate accounting)
const MAX_NAME = 28;

export class StorageSim {
  private files = new Map<string, Buffer>();

  constructor(readonly file: string, readonly capacity: number) {
    if (existsSync(file)) {
      const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(j)) this.files.set(k, Buffer.from(v, 'base64'));
    }
  }

  private persist(): void {
    const j: Record<string, string> = {};
    for (const [k, v] of this.files) j[k] = v.toString('base64');
    writeFileSync(this.file, JSON.stringify(j));
  }

  private used(): number {
    let n = 0;
    for (const v of this.files.values()) n += HEADER_BYTES + ((v.length + 3) & ~3);
    return n;
  }

  free(): number {
    return Math.max(0, this.capacity - this.used());
  }

  stats(): { totalBytes: number; freeBytes: number; fileBytes: number; fileCount: number; trashBytes: number; trashCount: number } {
    let fileBytes = 0;
    for (const v of this.files.values()) fileBytes += v.length;
    return { totalBytes: this.capacity, freeBytes: this.free(), fileBytes, fileCount: this.files.size, trashBytes: 0, trashCount: 0 };
  }

  /** jsfNameFromVar: a name is at most 28 characters, the rest is cut off */
  name(name: string): string {
    return name.slice(0, MAX_NAME);
  }

  /** offset/size -1 = not given (jsfWriteFile) */
  write(name: string, data: Buffer, offset: number, size: number): boolean {
    name = this.name(name);
    if (!(size > 0) && !(offset > 0) && !data.length) throw new StorageError("Can't create zero length file");
    let buf: Buffer;
    if (offset > 0) {
      const cur = this.files.get(name);
      if (!cur) throw new StorageError('Unable to find or create file');
      if (offset + data.length > cur.length) throw new StorageError('Too much data for file size');
      for (let i = 0; i < data.length; i++) if (cur[offset + i] !== 0xff) throw new StorageError('File already written with different data');
      buf = Buffer.from(cur);
      data.copy(buf, offset);
    } else if (size > 0) {
      if (data.length > size) throw new StorageError('Too much data for file size');
      buf = Buffer.alloc(size, 0xff);
      data.copy(buf, 0);
    } else buf = Buffer.from(data);
    const old = this.files.get(name);
    const need = HEADER_BYTES + ((buf.length + 3) & ~3) - (old ? HEADER_BYTES + ((old.length + 3) & ~3) : 0);
    if (need > this.free()) throw new StorageError('Unable to find or create file - not enough Storage space');
    this.files.set(name, buf);
    this.persist();
    return true;
  }

  read(name: string, offset: number, length: number): Buffer | null {
    const f = this.files.get(this.name(name));
    if (!f) return null;
    const start = Math.max(0, offset);
    const end = length < 0 ? f.length : Math.min(f.length, start + length);
    return f.subarray(start, end);
  }

  erase(name: string): void {
    if (this.files.delete(this.name(name))) this.persist();
  }

  eraseAll(): void {
    this.files.clear();
    this.persist();
  }

  list(): string[] {
    // a file whose name is empty is kept but never listed (its name starts with a zero byte)
    return [...this.files.keys()].filter((n) => n.length > 0);
  }
}
