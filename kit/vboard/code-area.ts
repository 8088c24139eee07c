// The code area of a board that has one (board-defs codeArea: free flash Flash.getFree() hands
// out, where `psd flash` writes the code): NOR flash behind the same Flash API as the data
// region, readable as memory (E.memoryArea). Only `psd flash` writes and erases it, never the
// firmware, so it takes no part in power cuts; it lives in memory for the board's lifetime
// (power cycles keep it) and a board made with an image's modules starts with them there, as
// a flashed board would (kit/flash/code-area.ts lays them out).
import { FlashError } from './flash.ts';

export interface CodeAreaGeometry {
  addr: number;
  bytes: number;
  pageBytes: number;
}

export class CodeAreaSim {
  private mem: Buffer;

  constructor(readonly geo: CodeAreaGeometry) {
    this.mem = Buffer.alloc(geo.bytes, 0xff);
  }

  /** true when [addr, addr + length) lies in the area */
  covers(addr: number, length = 1): boolean {
    return Number.isInteger(addr) && addr >= this.geo.addr && addr + Math.max(length, 1) <= this.geo.addr + this.geo.bytes;
  }

  getPage(addr: number): { addr: number; length: number } | undefined {
    if (!this.covers(addr)) return undefined;
    const page = Math.floor((addr - this.geo.addr) / this.geo.pageBytes);
    return { addr: this.geo.addr + page * this.geo.pageBytes, length: this.geo.pageBytes };
  }

  read(length: number, addr: number): Buffer {
    if (!this.covers(addr, length)) throw new FlashError(`read outside the code area (addr 0x${addr.toString(16)}, length ${length})`);
    const off = addr - this.geo.addr;
    return Buffer.from(this.mem.subarray(off, off + length));
  }

  /** programs bytes: old AND new, as NOR flash does */
  write(data: Buffer, addr: number): void {
    if (!this.covers(addr, data.length)) throw new FlashError(`Flash write outside the code area (addr 0x${addr.toString(16)}, length ${data.length})`);
    const off = addr - this.geo.addr;
    for (let i = 0; i < data.length; i++) this.mem[off + i] &= data[i];
  }

  erasePage(addr: number): void {
    const page = this.getPage(addr);
    if (!page) throw new FlashError(`Flash erase outside the code area (addr 0x${(addr >>> 0).toString(16)})`);
    this.mem.fill(0xff, page.addr - this.geo.addr, page.addr - this.geo.addr + page.length);
  }

  /** what `psd flash` leaves: the area erased, then `image` at its start */
  flashWith(image: Buffer): void {
    if (image.length > this.geo.bytes) throw new FlashError(`code-area image of ${image.length} bytes is larger than the area (${this.geo.bytes})`);
    this.mem.fill(0xff);
    image.copy(this.mem, 0);
  }
}
