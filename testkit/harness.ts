// One way to talk to a PSD in tests, whatever runs it: the TypeScript core on an in-memory
// board, or the built image in the virtual board.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import { crc32 } from '../protocol/crc32.ts';
import { FrameDecoder, Frame, encodeFrame, ERROR_TYPE, RESPONSE_FLAG } from '../protocol/frame.ts';
import { asciiJson, toHex } from '../protocol/bytes.ts';
import { Command } from '../protocol/commands.ts';
import { confirmMessage } from '../protocol/block.ts';
import { errorText } from '../protocol/errors.ts';
import { fundsMessage } from '../protocol/auth.ts';
import { startPsd } from '../firmware/core/psd.ts';
import { memoryBoard, MemoryBoard } from './memory-board.ts';
import { VirtualBoard } from '../kit/vboard/board.ts';
import { getBoard } from '../board-defs/index.ts';
import { buildInfoFor } from '../kit/build-info.ts';

export interface Answer {
  ok: boolean;
  type: number;
  body: any;
  raw: string;
}

export class DeviceError extends Error {
  constructor(public code: number, message: string) {
    super(message);
  }
}

export abstract class Device {
  private seq = 1;
  abstract send(frame: string): Promise<Frame>;

  async request(type: number, body: object = {}, seq?: number): Promise<Answer> {
    const s = seq ?? (this.seq = (this.seq % 0xffff) + 1);
    const frame = encodeFrame(type, s, asciiJson(body), crc32);
    const f = await this.send(frame);
    const parsed = JSON.parse(f.payload);
    return { ok: f.type === (type | RESPONSE_FLAG), type: f.type, body: parsed, raw: f.payload };
  }

  /** The answer body, or a thrown DeviceError with the device's code. */
  async call(type: number, body: object = {}): Promise<any> {
    const a = await this.request(type, body);
    if (a.type === ERROR_TYPE) throw new DeviceError(a.body.code, errorText(a.body.code, a.body.detail));
    if (!a.ok) throw new Error('unexpected answer type ' + a.type);
    return a.body;
  }
}

/** Frames in, frames out, matched by sequence number. */
function collector() {
  const waiting = new Map<number, (f: Frame) => void>();
  const decoder = new FrameDecoder(crc32, (f) => {
    const w = waiting.get(f.seq);
    if (w) {
      waiting.delete(f.seq);
      w(f);
    }
  });
  return { decoder, waiting };
}

export class CoreDevice extends Device {
  board: MemoryBoard;
  psd: ReturnType<typeof startPsd>;
  constructor(board?: MemoryBoard, capacity = 64) {
    super();
    this.board = board ?? memoryBoard();
    this.psd = startPsd(this.board, () => ({ ...buildInfoFor(getBoard('linux'), null), maxRecords: capacity, buildHash: 'test' }) as any);
  }
  async send(frame: string): Promise<Frame> {
    const before = this.board.sent.length;
    this.board.receive(frame);
    const frames: Frame[] = [];
    new FrameDecoder(crc32, (f) => frames.push(f)).push(this.board.sent.slice(before).join(''));
    if (frames.length !== 1) throw new Error(`expected one answer, got ${frames.length}`);
    return frames[0];
  }
}

export interface ImageOptions {
  board?: string;
  flashFile?: string;
  powerCut?: { atOp: number; mode: 'before' | 'partial' | 'after' };
  log?: (s: string) => void;
}

export class ImageDevice extends Device {
  vb: VirtualBoard;
  flashFile: string;
  private c = collector();
  constructor(opts: ImageOptions = {}) {
    super();
    const board = getBoard(opts.board ?? 'pico');
    this.flashFile = opts.flashFile ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'psd-')), board.id + '.flash');
    this.vb = new VirtualBoard({
      board,
      // PSD_IMAGE_DIR: images built elsewhere (npm run build -- --out <dir>) instead of dist/firmware
      imagePath: path.resolve(process.env.PSD_IMAGE_DIR || 'dist/firmware', board.id + '.js'),
      flashFile: this.flashFile,
      clock: 'manual',
      powerCut: opts.powerCut,
      log: opts.log ?? (() => {})
    });
    this.vb.on('hostData', (b: Buffer) => this.c.decoder.push(b.toString('latin1')));
    this.vb.start();
  }
  send(frame: string, timeoutMs = 5000): Promise<Frame> {
    const seq = (frame.charCodeAt(4) << 8) | frame.charCodeAt(5);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.c.waiting.delete(seq);
        reject(new Error(this.vb.dead ? 'board is dead (power cut)' : 'no answer'));
      }, timeoutMs);
      this.c.waiting.set(seq, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.vb.hostWrite(Buffer.from(frame, 'latin1'));
      if (this.vb.dead) {
        clearTimeout(timer);
        this.c.waiting.delete(seq);
        reject(new Error('board is dead (power cut)'));
      }
    });
  }
  powerCycle() {
    this.c = collector();
    this.vb.removeAllListeners('hostData');
    this.vb.on('hostData', (b: Buffer) => this.c.decoder.push(b.toString('latin1')));
    this.vb.powerCycle();
  }
  close() {
    if (this.vb.running) this.vb.stop();
  }
}

/** What a KMS would hold for a test device. */
export class TestKms {
  deviceKey = nodeCrypto.randomBytes(32);
  kmsKey = nodeCrypto.randomBytes(32);
  constructor(public device = 4711) {}
  provisionBody() {
    return { device: this.device, deviceKey: this.deviceKey.toString('hex'), kmsKey: this.kmsKey.toString('hex') };
  }
  /** The data center's confirmation of a block (protocol/block.ts confirmMessage). */
  confirm(seq: number, digest: string) {
    const mac = nodeCrypto.createHmac('sha256', this.deviceKey).update(Buffer.from(confirmMessage(this.device, seq, digest), 'latin1')).digest('hex');
    return { seq, mac };
  }
  funds(counter: number, amount: number) {
    const mac = nodeCrypto.createHmac('sha256', this.kmsKey).update(Buffer.from(fundsMessage(this.device, counter, amount), 'latin1')).digest('hex');
    return { counter, amount, mac };
  }
}

/** Provision, set the clock and load funds: a device ready to frank. */
export async function readyDevice(d: Device, kms: TestKms, funds = 1_000_000, nowMs = Date.UTC(2026, 10, 24, 9)) {
  await d.call(Command.PROVISION, kms.provisionBody());
  await d.call(Command.CLOCK, { now: nowMs });
  await d.call(Command.FUNDS, kms.funds(1, funds));
}

export { toHex };

/** Awaits a device call that must be refused with this error code. */
export async function expectCode(p: Promise<unknown>, code: number) {
  try {
    await p;
  } catch (e) {
    if ((e as DeviceError).code !== code) throw new Error(`expected error ${code}, got ${(e as DeviceError).code}: ${(e as Error).message}`);
    return;
  }
  throw new Error('expected error code ' + code + ', the call succeeded');
}
