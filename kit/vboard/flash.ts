// Byte-exact emulation of the PSD flash data region, persisted to a file.
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

export interface FlashGeometry {
  dataStart: number;
  pageBytes: number;
  dataPages: number;
  writeAlignBytes: number;
  eraseCycles: number;
}

export interface PowerCut {
  /** flash operation number (1 = first write()/erasePage() after the cut was armed) */
  atOp: number;
  mode: 'before' | 'partial' | 'after';
}

export interface FlashStats {
  /** write() + erasePage() calls that reached the flash since the board object was created */
  ops: number;
  writes: number;
  erases: number;
  bytesWritten: number;
  /** erase count per page of the region (index 0 = page at dataStart) */
  erasesPerPage: number[];
  maxErases: number;
  /** pages whose erase count exceeds the rated eraseCycles */
  wornPages: number[];
}

export class FlashError extends Error {}
export class PowerCutError extends Error {}

export class FlashSim {
  readonly geo: FlashGeometry;
  readonly size: number;
  private mem: Buffer;
  private fd: number;
  ops = 0;
  private writes = 0;
  private erases = 0;
  private bytesWritten = 0;
  private erasesPerPage: number[];
  private cut: PowerCut | null = null;
  private cutBase = 0;

  constructor(geo: FlashGeometry, readonly file: string) {
    this.geo = geo;
    this.size = geo.pageBytes * geo.dataPages;
    this.erasesPerPage = new Array(geo.dataPages).fill(0);
    this.mem = Buffer.alloc(this.size, 0xff);
    const fresh = !existsSync(file);
    this.fd = openSync(file, fresh ? 'w+' : 'r+');
    const st = fstatSync(this.fd);
    if (fresh || st.size === 0) {
      writeSync(this.fd, this.mem, 0, this.size, 0);
    } else {
      readSync(this.fd, this.mem, 0, Math.min(this.size, st.size), 0);
      if (st.size < this.size) writeSync(this.fd, this.mem, st.size, this.size - st.size, st.size);
    }
  }

  /** Arm (or disarm with null) a power cut; atOp counts operations from now. */
  armPowerCut(cut: PowerCut | null): void {
    this.cut = cut;
    this.cutBase = this.ops;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  snapshot(): Buffer {
    return Buffer.from(this.mem);
  }

  stats(): FlashStats {
    const maxErases = Math.max(0, ...this.erasesPerPage);
    return {
      ops: this.ops,
      writes: this.writes,
      erases: this.erases,
      bytesWritten: this.bytesWritten,
      erasesPerPage: this.erasesPerPage.slice(),
      maxErases,
      wornPages: this.erasesPerPage.flatMap((n, i) => (n > this.geo.eraseCycles ? [i] : []))
    };
  }

  private inRange(addr: number, len: number): boolean {
    const off = addr - this.geo.dataStart;
    return Number.isInteger(addr) && off >= 0 && off + len <= this.size;
  }

  getPage(addr: number): { addr: number; length: number } | undefined {
    if (!this.inRange(addr, 1)) return undefined;
    const page = Math.floor((addr - this.geo.dataStart) / this.geo.pageBytes);
    return { addr: this.geo.dataStart + page * this.geo.pageBytes, length: this.geo.pageBytes };
  }

  getFree(): { addr: number; length: number }[] {
    return [{ addr: this.geo.dataStart, length: this.size }];
  }

  read(length: number, addr: number): Buffer {
    if (!this.inRange(addr, length))
      throw new FlashError(`Flash read outside the data region (addr 0x${addr.toString(16)}, length ${length})`);
    const off = addr - this.geo.dataStart;
    return Buffer.from(this.mem.subarray(off, off + length));
  }

  /** Returns the op's cut mode if this op is the armed power cut, else null. */
  private nextOp(): PowerCut['mode'] | null {
    this.ops++;
    if (this.cut && this.ops - this.cutBase === this.cut.atOp) return this.cut.mode;
    return null;
  }

  /**
   * Espruino 2v29 takes any address and length (jshFlashWriteAligned reads the partial words
   * at either end and writes them back whole), so alignment is only what a power cut tears.
   */
  write(data: Buffer, addr: number): void {
    const a = this.geo.writeAlignBytes;
    if (!this.inRange(addr, data.length))
      throw new FlashError(`Flash write outside the data region (addr 0x${addr.toString(16)}, length ${data.length})`);
    // widen to whole write units: the bytes around the data are written with what they hold
    const lead = (addr - this.geo.dataStart) % a;
    if (lead || data.length % a) {
      const start = addr - lead;
      const len = Math.ceil((lead + data.length) / a) * a;
      const wide = Buffer.alloc(len, 0xff);
      data.copy(wide, lead);
      data = wide;
      addr = start;
      if (!this.inRange(addr, data.length)) data = data.subarray(0, this.size - (addr - this.geo.dataStart));
    }
    const off = addr - this.geo.dataStart;
    const cut = this.nextOp();
    let n = data.length;
    if (cut === 'before') n = 0;
    if (cut === 'partial') {
      const words = data.length / a;
      const full = Math.floor(words / 2);
      n = full * a;
      // the next word is partly programmed: some (about half), not all, of the bits it clears
      if (full < words) this.programPartly(off + n, data.subarray(n, n + a));
    }
    for (let i = 0; i < n; i++) this.mem[off + i] &= data[i];
    this.writes++;
    this.bytesWritten += n;
    this.persist(off, data.length);
    if (cut) throw new PowerCutError(`power cut during Flash.write (op ${this.ops}, ${cut})`);
  }

  /**
   * Program a word partly: of the k bits the write would clear, clear the first floor(k/2)
   * (in address order, low bit first). k = 1 leaves the word as it was.
   */
  private programPartly(off: number, want: Buffer): void {
    const bits: [number, number][] = [];
    for (let i = 0; i < want.length; i++) {
      const diff = this.mem[off + i] & ~want[i] & 0xff;
      for (let b = 0; b < 8; b++) if (diff & (1 << b)) bits.push([i, b]);
    }
    const k = Math.floor(bits.length / 2);
    for (let j = 0; j < k; j++) this.mem[off + bits[j][0]] &= ~(1 << bits[j][1]) & 0xff;
  }

  erasePage(addr: number): void {
    const page = this.getPage(addr);
    if (!page) throw new FlashError(`Flash erase outside the data region (addr 0x${(addr >>> 0).toString(16)})`);
    const idx = (page.addr - this.geo.dataStart) / this.geo.pageBytes;
    const off = page.addr - this.geo.dataStart;
    const cut = this.nextOp();
    if (cut === 'before') {
      // nothing applied
    } else if (cut === 'partial') {
      this.mem.fill(0xff, off, off + Math.floor(this.geo.pageBytes / 2));
      this.erasesPerPage[idx]++;
    } else {
      this.mem.fill(0xff, off, off + this.geo.pageBytes);
      this.erasesPerPage[idx]++;
    }
    if (cut !== 'before') this.erases++;
    this.persist(off, this.geo.pageBytes);
    if (cut) throw new PowerCutError(`power cut during Flash.erasePage (op ${this.ops}, ${cut})`);
  }

  private persist(off: number, len: number): void {
    if (this.fd < 0) return;
    writeSync(this.fd, this.mem, off, len, off);
  }
}

