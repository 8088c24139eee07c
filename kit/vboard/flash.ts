// NOR flash with its physics, and a power cut at any operation: the one flash simulator.
// `NorFlash` is a flash region as the firmware core sees it (firmware/board.ts FlashRegion:
// offsets, byte strings), used by the tests of the core (the memory board, the journal
// tests, the model-based power-cut test); `FlashSim` is the same chip behind Espruino's
// `require("Flash")` API (absolute addresses, any alignment, written through to a file),
// used by the virtual board.
//
// The physics of NOR flash:
// - erased bits read 1; a write (program) can only clear bits: the result is old AND new;
//   only an erase of a whole page brings bits back to 1;
// - a write cut by a power loss leaves any subset of the bits it would have cleared cleared
//   (the others still 1): a prefix in address order (word-by-word programming), a scatter,
//   or a mix;
// - an erase cut by a power loss leaves the page partly erased: any subset of its 0 bits
//   back to 1, the others still 0 (a prefix, a suffix, a scatter);
// - a page wears with each erase (counted per page).
// A cut is armed as { atOp, mode, seed }: operations (write or erase calls) are numbered
// from 1 after arming; at op atOp the power goes `before` the op (nothing applied),
// `after` it (all applied) or `partial`ly: a proper subset, drawn from the seed, of the
// bits the op changes (any subset at all when the op changes one bit). A cut without a
// seed draws from atOp, so a cut is always reproducible; `shapes: ['prefix']` restricts
// partial cuts to a chip that programs and erases strictly in address order.
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

export type CutMode = 'before' | 'partial' | 'after';

export interface PowerCut {
  /** flash operation number (1 = first write/erase after the cut was armed) */
  atOp: number;
  mode: CutMode;
  /** draws which bits a `partial` cut leaves changed (default: from atOp) */
  seed?: number;
  /** the shapes a partial cut may take (default all: any subset); ['prefix'] is a chip that
   * programs and erases strictly in address order */
  shapes?: readonly TearShape[];
}

export interface FlashStats {
  /** write + erase calls that reached the flash since it was made (or rebooted) */
  ops: number;
  writes: number;
  erases: number;
  bytesWritten: number;
  /** erase count per page of the region (index 0 = first page) */
  erasesPerPage: number[];
  maxErases: number;
  /** pages whose erase count exceeds the rated eraseCycles */
  wornPages: number[];
}

/** What the last power cut did to the flash (for test messages). */
export interface CutReport {
  op: number;
  kind: 'write' | 'erase';
  mode: CutMode;
  /** bits the operation would have changed, and bits it did change */
  bits: number;
  changed: number;
  /** how the changed bits were chosen (partial cuts) */
  shape: string;
}

export class FlashError extends Error {}

/** Thrown by the op the power was cut at (and, on a region that dies, every op after it). */
export class PowerCutError extends Error {
  constructor(public op: number, message?: string) {
    super(message ?? 'power cut at flash op ' + op);
    this.name = 'PowerCutError';
  }
}

/** mulberry32: small, seedable, good enough to pick bits */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TEAR_SHAPES = ['prefix', 'scatter', 'prefix+scatter', 'suffix'] as const;
export type TearShape = (typeof TEAR_SHAPES)[number];

/**
 * Which of k changing bits (in address order, low bit first) a partial cut leaves changed:
 * a proper subset when k >= 2 (some changed, some not), either when k = 1.
 * Shapes: a prefix (the op went in address order and stopped), a scatter (every bit on its
 * own), a prefix then a scattered stretch (the word in progress), a suffix.
 */
export function tear(k: number, rnd: () => number, shapes: readonly TearShape[] = TEAR_SHAPES): { pick: Uint8Array; shape: string } {
  const pick = new Uint8Array(k);
  const shape = shapes[Math.floor(rnd() * shapes.length)];
  const n = Math.floor(rnd() * (k + 1));
  if (shape === 'prefix') pick.fill(1, 0, n);
  else if (shape === 'suffix') pick.fill(1, k - n);
  else if (shape === 'scatter') {
    const p = 0.05 + 0.9 * rnd();
    for (let i = 0; i < k; i++) pick[i] = rnd() < p ? 1 : 0;
  } else {
    pick.fill(1, 0, n);
    const stretch = 1 + Math.floor(rnd() * 64);
    for (let i = n; i < Math.min(k, n + stretch); i++) pick[i] = rnd() < 0.5 ? 1 : 0;
  }
  if (k >= 2 && shape === 'prefix') {
    // a proper prefix: at least the first bit, not all
    if (n === 0) pick[0] = 1;
    else if (n === k) pick[k - 1] = 0;
  } else if (k >= 2) {
    let on = 0;
    for (let i = 0; i < k; i++) on += pick[i];
    if (on === 0) pick[Math.floor(rnd() * k)] = 1;
    else if (on === k) pick[Math.floor(rnd() * k)] = 0;
  } else if (k === 1) pick[0] = rnd() < 0.5 ? 1 : 0;
  return { pick, shape };
}

export interface NorGeometry {
  pageBytes: number;
  pageCount: number;
  /** smallest write unit: offsets and lengths of region writes are multiples of it */
  writeAlign?: number;
  /** rated erase cycles per page (stats().wornPages) */
  eraseCycles?: number;
}

/**
 * A NOR flash region (firmware/board.ts FlashRegion). After a power cut it is dead: every
 * operation throws PowerCutError until `reboot()` gives the same chip powered up again
 * (unless made with `dieOnCut: false`, for a board that handles its own death).
 */
export class NorFlash {
  readonly pageBytes: number;
  readonly pageCount: number;
  readonly writeAlign: number;
  readonly eraseCycles: number;
  readonly bytes: Uint8Array;
  /** erase count per page, kept across reboots (the same chip) */
  readonly erasesPerPage: number[];
  ops = 0;
  writes = 0;
  erases = 0;
  bytesWritten = 0;
  dead = false;
  lastCut: CutReport | null = null;
  private cut: PowerCut | null = null;
  private cutBase = 0;
  private dieOnCut: boolean;

  constructor(geo: NorGeometry, opts: { bytes?: Uint8Array; erasesPerPage?: number[]; dieOnCut?: boolean } = {}) {
    this.pageBytes = geo.pageBytes;
    this.pageCount = geo.pageCount;
    this.writeAlign = geo.writeAlign ?? 4;
    this.eraseCycles = geo.eraseCycles ?? Infinity;
    this.bytes = opts.bytes ?? new Uint8Array(geo.pageBytes * geo.pageCount).fill(0xff);
    if (this.bytes.length !== this.pageBytes * this.pageCount) throw new Error('flash bytes do not match the geometry');
    this.erasesPerPage = opts.erasesPerPage ?? new Array(geo.pageCount).fill(0);
    this.dieOnCut = opts.dieOnCut ?? true;
  }

  get size(): number {
    return this.bytes.length;
  }

  /** The same chip after a power cycle: same bits and wear, op counter at 0, alive, no cut armed. */
  reboot(): NorFlash {
    return new NorFlash(
      { pageBytes: this.pageBytes, pageCount: this.pageCount, writeAlign: this.writeAlign, eraseCycles: this.eraseCycles },
      { bytes: this.bytes, erasesPerPage: this.erasesPerPage, dieOnCut: this.dieOnCut }
    );
  }

  /** Arm (or disarm with null) a power cut; atOp counts operations from now. */
  armPowerCut(cut: PowerCut | null): void {
    this.cut = cut;
    this.cutBase = this.ops;
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
      wornPages: this.erasesPerPage.flatMap((n, i) => (n > this.eraseCycles ? [i] : []))
    };
  }

  // ---- FlashRegion (firmware/board.ts) ----------------------------------------------------

  read(offset: number, length: number): string {
    this.alive();
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + offset, Math.max(0, Math.min(length, this.size - offset))).toString('latin1');
  }

  write(offset: number, data: string): void {
    if (offset % this.writeAlign || data.length % this.writeAlign) throw new FlashError('unaligned flash write');
    this.program(offset, Buffer.from(data, 'latin1'));
  }

  erase(page: number): void {
    this.erasePage(page);
  }

  // ---- the physics ------------------------------------------------------------------------

  private alive(): void {
    if (this.dead) throw new PowerCutError(this.ops, 'flash has no power (cut at op ' + this.ops + ')');
  }

  /** The armed cut if this op is it (and disarms it), else null. */
  private nextOp(): PowerCut | null {
    this.alive();
    this.ops++;
    const c = this.cut;
    if (!c || this.ops - this.cutBase !== c.atOp) return null;
    this.cut = null;
    if (this.dieOnCut) this.dead = true;
    return c;
  }

  private rnd(c: PowerCut): () => number {
    return prng(c.seed ?? Math.imul(c.atOp, 0x9e3779b1) ^ 0x5eed);
  }

  /** Programs bytes at a region offset (whole write units; any alignment is the caller's
   * business): bits only fall. Throws PowerCutError at the armed cut. */
  program(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.size) throw new FlashError(`flash write outside the region (offset ${offset}, length ${data.length})`);
    const c = this.nextOp();
    const mem = this.bytes;
    if (!c || c.mode === 'after') {
      for (let i = 0; i < data.length; i++) mem[offset + i] &= data[i];
    } else if (c.mode === 'partial') {
      // the bits this write clears, in address order
      const at: number[] = [];
      for (let i = 0; i < data.length; i++) {
        const fall = mem[offset + i] & ~data[i] & 0xff;
        if (fall) for (let b = 0; b < 8; b++) if (fall & (1 << b)) at.push(i * 8 + b);
      }
      const t = tear(at.length, this.rnd(c), c.shapes);
      let changed = 0;
      for (let j = 0; j < at.length; j++)
        if (t.pick[j]) {
          mem[offset + (at[j] >> 3)] &= ~(1 << (at[j] & 7)) & 0xff;
          changed++;
        }
      this.lastCut = { op: this.ops, kind: 'write', mode: c.mode, bits: at.length, changed, shape: t.shape };
    }
    if (c && c.mode !== 'partial') this.lastCut = { op: this.ops, kind: 'write', mode: c.mode, bits: -1, changed: -1, shape: '' };
    if (!c || c.mode !== 'before') {
      this.writes++;
      this.bytesWritten += data.length;
    }
    if (c) throw new PowerCutError(this.ops, `power cut during a flash write (op ${this.ops}, ${c.mode})`);
  }

  /** Erases a page: every bit back to 1. Throws PowerCutError at the armed cut. */
  erasePage(page: number): void {
    if (!Number.isInteger(page) || page < 0 || page >= this.pageCount) throw new FlashError(`no flash page ${page}`);
    const c = this.nextOp();
    const start = page * this.pageBytes;
    const mem = this.bytes;
    if (!c || c.mode === 'after') mem.fill(0xff, start, start + this.pageBytes);
    else if (c.mode === 'partial') {
      const at: number[] = [];
      for (let i = 0; i < this.pageBytes; i++) {
        const rise = ~mem[start + i] & 0xff;
        if (rise) for (let b = 0; b < 8; b++) if (rise & (1 << b)) at.push(i * 8 + b);
      }
      const t = tear(at.length, this.rnd(c), c.shapes);
      let changed = 0;
      for (let j = 0; j < at.length; j++)
        if (t.pick[j]) {
          mem[start + (at[j] >> 3)] |= 1 << (at[j] & 7);
          changed++;
        }
      this.lastCut = { op: this.ops, kind: 'erase', mode: c.mode, bits: at.length, changed, shape: t.shape };
    }
    if (c && c.mode !== 'partial') this.lastCut = { op: this.ops, kind: 'erase', mode: c.mode, bits: -1, changed: -1, shape: '' };
    if (!c || c.mode !== 'before') {
      this.erases++;
      this.erasesPerPage[page]++;
    }
    if (c) throw new PowerCutError(this.ops, `power cut during a flash erase (op ${this.ops}, ${c.mode})`);
  }
}

export interface FlashGeometry {
  dataStart: number;
  /** the region is part of Storage's own flash, which Flash.getFree() does not list */
  inStorage?: boolean;
  pageBytes: number;
  dataPages: number;
  writeAlignBytes: number;
  eraseCycles: number;
}

/**
 * The PSD flash data region behind Espruino's Flash API (the virtual board), persisted to a
 * file: a NorFlash at absolute addresses. The board handles the death after a cut (it stops
 * the interpreter), so the chip itself does not refuse later operations.
 */
export class FlashSim {
  readonly geo: FlashGeometry;
  readonly size: number;
  readonly nor: NorFlash;
  private mem: Buffer;
  private fd: number;

  constructor(geo: FlashGeometry, readonly file: string) {
    this.geo = geo;
    this.size = geo.pageBytes * geo.dataPages;
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
    this.nor = new NorFlash({ pageBytes: geo.pageBytes, pageCount: geo.dataPages, writeAlign: geo.writeAlignBytes, eraseCycles: geo.eraseCycles }, { bytes: this.mem, dieOnCut: false });
  }

  get ops(): number {
    return this.nor.ops;
  }

  /** Arm (or disarm with null) a power cut; atOp counts operations from now. */
  armPowerCut(cut: PowerCut | null): void {
    this.nor.armPowerCut(cut);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  snapshot(): Buffer {
    return Buffer.from(this.mem);
  }

  stats(): FlashStats {
    return this.nor.stats();
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

  /** Espruino lists free flash only: a region inside Storage's own flash (board-defs
   * flash.inStorage, the saved-code area) is not in it */
  getFree(): { addr: number; length: number }[] {
    return this.geo.inStorage ? [] : [{ addr: this.geo.dataStart, length: this.size }];
  }

  read(length: number, addr: number): Buffer {
    if (!this.inRange(addr, length))
      throw new FlashError(`Flash read outside the data region (addr 0x${addr.toString(16)}, length ${length})`);
    const off = addr - this.geo.dataStart;
    return Buffer.from(this.mem.subarray(off, off + length));
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
    try {
      this.nor.program(off, data);
    } finally {
      this.persist(off, data.length);
    }
  }

  erasePage(addr: number): void {
    const page = this.getPage(addr);
    if (!page) throw new FlashError(`Flash erase outside the data region (addr 0x${(addr >>> 0).toString(16)})`);
    const off = page.addr - this.geo.dataStart;
    try {
      this.nor.erasePage(off / this.geo.pageBytes);
    } finally {
      this.persist(off, this.geo.pageBytes);
    }
  }

  private persist(off: number, len: number): void {
    if (this.fd < 0) return;
    writeSync(this.fd, this.mem, off, len, off);
  }
}
