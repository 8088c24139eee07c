/**
 * Power cuts on the real interpreter: the linux image franks, seals and confirms while the
 * interpreter is killed (SIGKILL) at random moments, then boots again on the same flash file.
 * After every cut the device must come back unlocked, its registers must equal what the host
 * knows was loaded and franked (the request in flight, resent with its id, is answered as
 * committed or franked now, never twice), and its records plus the confirmed blocks must sum
 * to the registers. Used by `npm test` (test/real-powercut.test.ts) and by the soak command
 * `npm run soak:real -- --cuts 1000`.
 */
import nodeCrypto from 'node:crypto';
import { openLink } from '../../host-bridge/link.ts';
import { PsdClient } from '../../host-bridge/client.ts';
import { extractBlock, type ExtractedBlock } from '../../host-bridge/extract.ts';
import { Command } from '../../protocol/commands.ts';
import { fundsMessage } from '../../protocol/auth.ts';
import { confirmMessage } from '../../protocol/block.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { MIXED_BAND } from '../../protocol/records.ts';
import { decodeRecord } from '../../protocol/record-codec.ts';
import { prng } from '../../server/sample-blocks.ts';
import type { RealBoard } from '../../kit/real/runner.ts';

export type Operation = 'frank' | 'extract' | 'confirm';

export interface PowerCutOptions {
  board: RealBoard;
  /** where the host reaches the board's Serial1 (pty or tcp://) */
  port: string;
  cuts: number;
  /** seed of the schedule (operations, counts, moments), so a failing run can be repeated */
  seed?: number;
  /** longest wait before the cut, ms (default 5000) */
  maxDelayMs?: number;
  onCut?: (n: number, info: CutInfo) => void;
}

export interface CutInfo {
  operation: Operation;
  delayMs: number;
  /** the operation finished before the cut */
  completed: boolean;
  pieces: number;
  ascending: number;
}

export interface PowerCutResult {
  cuts: number;
  byOperation: Record<Operation, number>;
  /** cuts that landed before the operation answered */
  interrupted: number;
  pieces: number;
  blocksConfirmed: number;
  /** what went wrong, one line each (empty when every invariant held) */
  violations: string[];
  seed: number;
}

const hmacHex = (key: Buffer, msg: string) => nodeCrypto.createHmac('sha256', key).update(Buffer.from(msg, 'latin1')).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runPowerCuts(o: PowerCutOptions): Promise<PowerCutResult> {
  const seed = o.seed ?? nodeCrypto.randomInt(1, 2 ** 31);
  const random = prng(seed); // a schedule replays from its seed
  const maxDelay = o.maxDelayMs ?? 5000;
  const result: PowerCutResult = { cuts: 0, byOperation: { frank: 0, extract: 0, confirm: 0 }, interrupted: 0, pieces: 0, blocksConfirmed: 0, violations: [], seed };
  const deviceKey = nodeCrypto.randomBytes(32);
  const kmsKey = nodeCrypto.randomBytes(32);
  const device = 700000 + Math.floor(random() * 99999);
  let client = await connect(o.port);
  // how long each operation takes here, ms (learnt from those that ran to their answer)
  const typical: Record<Operation, number> = { frank: 300, extract: 800, confirm: 1000 };
  const call = (type: number, body: object = {}) => client.request(type, body);

  // the host's own books: what it loaded, and every piece the device acknowledged
  let loaded = 0;
  let pieces = 0;
  let ascending = 0;
  await call(Command.PROVISION, { device, deviceKey: deviceKey.toString('hex'), kmsKey: kmsKey.toString('hex') });
  const loadFunds = async (amount: number) => {
    const counter = (await call(Command.STATUS)).fundsCounter + 1;
    await call(Command.FUNDS, { counter, amount, mac: hmacHex(kmsKey, fundsMessage(device, counter, amount)) });
    loaded += amount;
  };
  await loadFunds(10_000_000);

  for (let n = 1; n <= o.cuts; n++) {
    await call(Command.CLOCK, { now: Date.now() });
    const s = await call(Command.STATUS);
    if (s.registers.descending < 1_000_000) await loadFunds(10_000_000);
    const pick = random();
    const operation: Operation = s.block.awaitingConfirmation ? (pick < 0.5 ? 'confirm' : 'frank') : pick < 0.75 ? 'frank' : 'extract';
    result.byOperation[operation]++;
    const postage = 50 + Math.floor(random() * 10) * 5;
    const count = 1 + Math.floor(random() * 400);
    const id = nodeCrypto.randomInt(1, 2 ** 31);
    let pending: Promise<unknown>;
    if (operation === 'frank') {
      if (!s.batch) await call(Command.BATCH_START, { customer: 1 + Math.floor(random() * 3), mode: 'batch', category: 1 + Math.floor(random() * 5), weight: 20, postage });
      pending = call(Command.FRANK, { id, count });
    } else if (operation === 'extract') {
      pending = extractBlock(call);
    } else {
      pending = extractBlock(call).then((x: ExtractedBlock) =>
        call(Command.CONFIRM, { seq: x.block.header.seq, mac: hmacHex(deviceKey, confirmMessage(device, x.block.header.seq, x.digest)) }).then(() => 'confirmed')
      );
    }
    let settled: 'ok' | 'failed' | null = null;
    let answer: any;
    pending.then(
      (a) => ((settled = 'ok'), (answer = a)),
      () => (settled = 'failed')
    );
    // a fifth of the operations run to their answer (the cut then finds the board idle, and
    // blocks get confirmed); the others are cut within their measured duration
    const t0 = Date.now();
    const toAnswer = random() < 0.2;
    const delayMs = toAnswer ? 0 : Math.floor(random() * Math.min(maxDelay, typical[operation] * 1.2));
    if (toAnswer) await pending.catch(() => {});
    else await sleep(delayMs);
    if (settled === 'ok') typical[operation] = Math.round(0.7 * typical[operation] + 0.3 * (Date.now() - t0));
    await o.board.powerCut();
    await sleep(10);
    const completed = settled === 'ok';
    if (!completed) result.interrupted++;
    await client.close().catch(() => {});
    await o.board.start();
    client = await connect(o.port);

    if (operation === 'frank') {
      let answered = completed ? answer : null;
      if (!answered) {
        // resend the request in flight with its id: committed before the cut, it is answered
        // as a repeat and charges nothing; otherwise it franks now, once
        await call(Command.CLOCK, { now: Date.now() });
        answered = await call(Command.FRANK, { id, count });
      }
      pieces += answered.count;
      ascending += answered.amount;
    }
    if (operation === 'confirm' && completed) result.blocksConfirmed++;

    const after = await call(Command.STATUS);
    const where = `cut ${n} (seed ${seed}, ${operation}, ${delayMs} ms${completed ? ', after the answer' : ''})`;
    if (after.lock) {
      result.violations.push(`${where}: device locked ${after.lock.code}: ${after.lock.detail}`);
      break;
    }
    const r = after.registers;
    if (r.ascending + r.descending !== loaded) result.violations.push(`${where}: AR ${r.ascending} + DR ${r.descending} != funds loaded ${loaded}`);
    if (r.pieces !== pieces) result.violations.push(`${where}: piece counter ${r.pieces} != pieces acknowledged ${pieces}`);
    if (r.ascending !== ascending) result.violations.push(`${where}: ascending register ${r.ascending} != postage acknowledged ${ascending}`);
    const sums = await recordSums(call);
    if (sums.pieces + after.block.confirmedPieces !== r.pieces) result.violations.push(`${where}: records ${sums.pieces} + confirmed ${after.block.confirmedPieces} pieces != counter ${r.pieces}`);
    if (sums.amount + after.block.confirmedAscending !== r.ascending) result.violations.push(`${where}: records ${sums.amount} + confirmed ${after.block.confirmedAscending} != ascending ${r.ascending}`);
    result.cuts = n;
    o.onCut?.(n, { operation, delayMs, completed, pieces: r.pieces, ascending: r.ascending });
    if (result.violations.length) break;
  }
  result.pieces = pieces;
  await client.close().catch(() => {});
  return result;
}

async function connect(port: string): Promise<PsdClient> {
  return new PsdClient(await openLink(port), { timeoutMs: 3000, retries: 3 });
}

/** Pieces and amount over every record on the device (flash and RAM tiers). */
async function recordSums(call: (type: number, body?: object) => Promise<any>): Promise<{ pieces: number; amount: number }> {
  let pieces = 0;
  let amount = 0;
  for (const tier of ['flash', 'ram']) {
    for (let from = 0; ; ) {
      const page = await call(Command.STATS_LIST, { tier, from });
      for (const h of page.records) {
        const rec = decodeRecord(fromHex(h), 0);
        if (rec.weightBand !== MIXED_BAND && rec.amount !== rec.pieces * rec.postage) throw new Error(`record amount ${rec.amount} != ${rec.pieces} x ${rec.postage}`);
        pieces += rec.pieces;
        amount += rec.amount;
      }
      from += page.records.length;
      if (from >= page.total || !page.records.length) break;
    }
  }
  return { pieces, amount };
}
