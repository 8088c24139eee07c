// The memory peak of a working day on the real interpreter (issue 10's peak budget): the
// linux image built with a board's profile runs on the fixed-variable Espruino build; it is
// provisioned, funded, franks one distinct record per piece until the record table is full
// (the linux build's 128 KB of statistics flash holds the largest profile's table), then the
// whole table is extracted, read and confirmed. The PSD's own STATUS memory.peak (sampled after every sealing, block-read and
// session request) is the reading. Used by test/real-memory-budget.test.ts and
// `npm run bench -- boards`.
import nodeCrypto from 'node:crypto';
import { openLink } from '../../host-bridge/link.ts';
import { PsdClient } from '../../host-bridge/client.ts';
import { extractBlock } from '../../host-bridge/extract.ts';
import { PsdError } from '../../host-bridge/errors.ts';
import { Command } from '../../protocol/commands.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { WEIGHT_BANDS_G } from '../../protocol/records.ts';
import type { EspruinoMemory } from '../../kit/real/binary.ts';
import { TestKms } from '../../testkit/harness.ts';
import { startTarget } from '../../testkit/target.ts';


export interface PeakDay {
  /** records franked, then extracted, read and confirmed (when not outOfVariables) */
  franked: number;
  /** the image's record capacity (STATUS storage.recordCapacity) */
  capacity: number;
  /** STATUS memory.peak and memory.total after the confirmation (null when out of variables) */
  peak: number | null;
  total: number | null;
  /** the image failed before the table was full with an error other than STORAGE_FULL (on a
   * small build: the interpreter ran out of variables); its message */
  outOfVariables: string | null;
}

/** Runs the day on image `imagePath` with the interpreter of `memory` variables. Throws on
 * anything but the known failures (STORAGE_FULL ends franking; another franking error is
 * reported as outOfVariables). Needs socat and the interpreter (testkit/target.ts). */
export async function peakDay(memory: EspruinoMemory, imagePath: string): Promise<PeakDay> {
  const t = await startTarget({ kind: 'real', memory, imagePath });
  const client = new PsdClient(await openLink(t.port), { timeoutMs: 20000, retries: 1 });
  try {
    const call = (type: number, body: object = {}) => client.request(type, body);
    const kms = new TestKms(nodeCrypto.randomInt(100000, 999999));
    await call(Command.PROVISION, kms.provisionBody());
    await call(Command.CLOCK, { now: Date.now() });
    await call(Command.FUNDS, kms.funds(1, 100_000_000));
    const capacity: number = (await call(Command.STATUS)).storage.recordCapacity;
    // one record per piece (distinct customer, category and weight band), flushed often, until
    // the table is full (the linux build's 128 KB of statistics takes a Pico's whole table)
    let franked = 0;
    await call(Command.CONFIG, { flushEveryPieces: 16 });
    try {
      for (; franked < capacity; franked++) {
        await call(Command.FRANK, { id: franked + 1, customer: 1 + (franked % 7), category: Math.floor(franked / 7) % 120, weight: WEIGHT_BANDS_G[Math.floor(franked / 840) % WEIGHT_BANDS_G.length], postage: 85 });
      }
    } catch (e) {
      const err = e as PsdError;
      if (err.code !== ErrorCode.STORAGE_FULL) return { franked, capacity, peak: null, total: null, outOfVariables: err.message };
      // STORAGE_FULL: the records so far are the table this flash holds
    }
    if (franked === 0) throw new Error('no record franked');
    let x: Awaited<ReturnType<typeof extractBlock>>;
    try {
      x = await extractBlock(call);
    } catch (e) {
      // the device failed while sealing or reading out the table (on a small build: out of
      // variables, then no answer)
      if (e instanceof PsdError) return { franked, capacity, peak: null, total: null, outOfVariables: `extracting the ${franked} records: ${e.message}` };
      throw e;
    }
    if (x.block.records.length !== franked) throw new Error(`extracted ${x.block.records.length} records of ${franked}`);
    await call(Command.CONFIRM, kms.confirm(x.block.header.seq, x.digest));
    const s = await call(Command.STATUS);
    if (s.lock !== null) throw new Error(`the PSD locked: ${JSON.stringify(s.lock)}`);
    return { franked, capacity, peak: s.memory.peak, total: s.memory.total, outOfVariables: null };
  } finally {
    await client.close();
    await t.close();
  }
}
