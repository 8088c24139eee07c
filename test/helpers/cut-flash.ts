// A flash region that loses power at its k-th operation (write or erase), before, during
// or after it: the OpenSK way of testing a flash store.
import type { FlashRegion } from '../../firmware/board.ts';

export type CutMode = 'before' | 'partial' | 'after';

export class PowerCut extends Error {
  constructor(public op: number) {
    super('power cut at flash op ' + op);
  }
}

export class CutFlash implements FlashRegion {
  ops = 0;
  bytes: Uint8Array;
  cutAt = 0;
  mode: CutMode = 'partial';
  dead = false;
  erases: number[];
  constructor(public pageBytes = 1024, public pageCount = 4, public writeAlign = 4, bytes?: Uint8Array) {
    this.bytes = bytes ?? new Uint8Array(pageBytes * pageCount).fill(0xff);
    this.erases = new Array(pageCount).fill(0);
  }
  /** the same chip after a power cycle: same bytes, counters reset, alive */
  reboot(): CutFlash {
    const f = new CutFlash(this.pageBytes, this.pageCount, this.writeAlign, this.bytes);
    f.erases = this.erases;
    return f;
  }
  private op(apply: (fraction: number) => void) {
    if (this.dead) throw new PowerCut(this.ops);
    this.ops++;
    if (this.cutAt && this.ops === this.cutAt) {
      this.dead = true;
      if (this.mode === 'after') apply(1);
      else if (this.mode === 'partial') apply(0.5);
      throw new PowerCut(this.ops);
    }
    apply(1);
  }
  read(offset: number, length: number): string {
    if (this.dead) throw new PowerCut(this.ops);
    return Buffer.from(this.bytes.subarray(offset, offset + length)).toString('latin1');
  }
  write(offset: number, data: string): void {
    if (offset % this.writeAlign || data.length % this.writeAlign) throw new Error('unaligned write');
    this.op((fraction) => {
      const n = fraction === 1 ? data.length : Math.floor((data.length * fraction) / 4) * 4;
      for (let i = 0; i < n; i++) this.bytes[offset + i] &= data.charCodeAt(i);
      if (fraction < 1 && n < data.length) {
        // the next word is partly programmed: some of its bits cleared, not all
        for (let i = n; i < n + 4 && i < data.length; i++) this.bytes[offset + i] &= data.charCodeAt(i) | 0x55;
      }
    });
  }
  erase(page: number): void {
    this.op((fraction) => {
      const start = page * this.pageBytes;
      const n = Math.floor(this.pageBytes * fraction);
      // a cut erase leaves the page's tail erased and its head as it was (the header may survive)
      this.bytes.fill(0xff, start + this.pageBytes - n, start + this.pageBytes);
      if (fraction === 1) this.erases[page]++;
    });
  }
}
