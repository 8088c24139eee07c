// The built image in the virtual board, driven byte by byte for fuzzing: everything the
// device writes is decoded and kept in order, its console (where an uncaught exception would
// show) is watched, and the clock is manual so a case can wait only as long as we say.
import { imageModules } from '../../kit/flash/image.ts';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getBoard } from '../../board-defs/index.ts';
import { VirtualBoard } from '../../kit/vboard/board.ts';
import { FrameDecoder, type Frame } from '../../protocol/frame.ts';
import { crc32 } from '../../protocol/crc32.ts';
import { asciiJson } from '../../protocol/bytes.ts';
import { Command } from '../../protocol/commands.ts';
import { rawFrame } from './wire.ts';
import { PROTOCOL_VERSION } from '../../protocol/frame.ts';

/** The vboard delivers at most 256 bytes per read: writing no more keeps each write one read. */
export const READ_BYTES = 256;
/** firmware/core/device.ts: a partial frame older than this is dropped */
export const STALE_FRAME_S = 1;

export interface Out {
  frame: Frame;
  /** the frame's bytes as the device wrote them */
  bytes: string;
}

/** PSD_IMAGE_DIR: images built elsewhere (npm run build -- --out <dir>) instead of dist/firmware */
export const imagePath = (boardId: string) => resolve(import.meta.dirname, '../..', process.env.PSD_IMAGE_DIR || 'dist/firmware', boardId + '.js');

const immediate = () => new Promise<void>((r) => setImmediate(r));

export class FuzzBoard {
  vb: VirtualBoard;
  out: Out[] = [];
  /** bytes from the device that were not part of a frame */
  junk = 0;
  console: string[] = [];
  rebooted = 0;
  /** board seconds advanced by hand since power-up */
  advanced = 0;
  readonly dir: string;
  readonly flashFile: string;

  /** Boots the built image (or `image`, source text) on a copy of `flashFrom` (or on blank flash). */
  constructor(boardId: string, flashFrom: string | null, image?: string) {
    const board = getBoard(boardId);
    this.dir = mkdtempSync(join(tmpdir(), 'psd-fuzz-'));
    this.flashFile = join(this.dir, 'flash.bin');
    if (flashFrom) {
      copyFileSync(flashFrom, this.flashFile);
      if (existsSync(flashFrom + '.storage.json')) copyFileSync(flashFrom + '.storage.json', this.flashFile + '.storage.json');
    }
    const decoder = new FrameDecoder(
      crc32,
      (f) => this.out.push({ frame: f, bytes: rawFrame(f.version, f.type, f.seq, f.payload) }),
      (_why, n) => (this.junk += n)
    );
    this.vb = new VirtualBoard({
      board,
      // given boot code (a planted bug in front of it) runs with the built image's modules
      ...(image !== undefined ? { image, modules: imageModules(imagePath(board.id)) } : { imagePath: imagePath(board.id) }),
      flashFile: this.flashFile,
      clock: 'manual',
      // the checks judge protocol bytes; the console's own text on the data port at boot
      // (`\r\x1b[J-> LoopbackA`, as the device writes it) is test/console.test.ts's business
      consoleChrome: false,
      log: (s) => this.console.push(s)
    });
    this.vb.on('hostData', (b: Buffer) => decoder.push(b.toString('latin1')));
    this.vb.on('reboot', () => this.rebooted++);
    this.vb.start();
  }

  /** Lets the board run until it has been quiet (no output) for a few macrotasks. */
  async settle(): Promise<void> {
    let quiet = 0;
    let seen = this.out.length + this.junk;
    for (let i = 0; i < 400 && quiet < 4; i++) {
      await immediate();
      const now = this.out.length + this.junk;
      if (now !== seen) {
        seen = now;
        quiet = 0;
      } else quiet++;
    }
  }

  /** Writes bytes as the line would deliver them: one read per write, the board settled after each. */
  async write(bytes: string): Promise<void> {
    for (let at = 0; at < bytes.length; at += READ_BYTES) {
      this.vb.hostWrite(Buffer.from(bytes.substr(at, READ_BYTES), 'latin1'));
      await this.settle();
    }
  }

  /** Moves the manual clock, firing the timers that fall due (the stale-frame timer, a reboot). */
  async advance(seconds: number): Promise<void> {
    this.advanced += seconds;
    this.vb.advanceTime(seconds);
    await this.settle();
  }

  get alive(): boolean {
    return this.vb.running && !this.vb.dead;
  }

  /** One request, one answer (setup only: the fuzz cases check the answers themselves). */
  async call(type: number, body: object, seq: number): Promise<any> {
    const from = this.out.length;
    await this.write(rawFrame(PROTOCOL_VERSION, type, seq, asciiJson(body)));
    const a = this.out.slice(from).find((o) => o.frame.seq === seq);
    if (!a) throw new Error(`no answer to command 0x${type.toString(16)} during fuzz setup`);
    const parsed = JSON.parse(a.frame.payload);
    if (a.frame.type !== (type | 0x80)) throw new Error(`fuzz setup: command 0x${type.toString(16)} ${JSON.stringify(body)} refused: ${a.frame.payload}`);
    return parsed;
  }

  async status(seq: number): Promise<any> {
    return this.call(Command.STATUS, {}, seq);
  }

  close(): void {
    if (this.vb.running) this.vb.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
