// The PSS: takes a sealed block (plain upload or read from the PSD in a secure session),
// verifies it (server/verify.ts), stores it with its records in one transaction, and returns
// the confirmation the PSD checks before it frees the records. A rejection is recorded in
// the rejections table and changes nothing else.
import { confirmMessage } from '../protocol/block.ts';
import { hexToString, stringToHex, toBytes } from './bytestrings.ts';
import { hmacSha256 } from './hashes.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { verifyBlock, nodeCryptoPrimitives, type VerifyContext, type SealPrimitives, type PreviousBlock, type Verdict } from './verify.ts';
import type { Store } from './db.ts';
import type { Kms, DeviceRow } from './kms.ts';
import type { UploadAnswer } from '../protocol/pss-wire.ts';

export type Via = 'plain' | 'session';

export interface StoredBlock {
  device: number;
  seq: number;
  recordCount: number;
}

export interface UploadResult extends UploadAnswer {
  recordCount: number;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

export class Pss {
  constructor(
    readonly store: Store,
    readonly kms: Kms,
    private prims: SealPrimitives = nodeCryptoPrimitives
  ) {}

  /** What verify.ts needs, read from this store (inside the caller's transaction). */
  private context(): VerifyContext & { keyVersion?: number } {
    const store = this.store;
    const ctx: VerifyContext & { keyVersion?: number } = {
      device: (device) => {
        const row = store.get<DeviceRow>('SELECT status, seal, public_key, key_version FROM devices WHERE device = ?', [device]);
        ctx.keyVersion = row?.key_version;
        return row && { status: row.status, seal: row.seal, publicKey: row.public_key ? hexToString(row.public_key) : null };
      },
      // the key version of the row just read: no second look-up of the device
      deviceKey: (device) => this.kms.deviceKey(device, ctx.keyVersion),
      lastBlock: (device) =>
        store.get<PreviousBlock>('SELECT seq, to_time AS "to", ascending, pieces FROM blocks WHERE device = ? ORDER BY seq DESC LIMIT 1', [device]),
      storedDigest: (device, seq) => {
        const row = store.get<{ digest: string }>('SELECT digest FROM blocks WHERE device = ? AND seq = ?', [device, seq]);
        return row && hexToString(row.digest);
      }
    };
    return ctx;
  }

  /** HMAC-SHA256(device key, "PSD-CONFIRM" || device || seq || digest), byte string. */
  confirmation(device: number, seq: number, digest: string): string {
    return hmacSha256(this.kms.deviceKey(device), confirmMessage(device, seq, digest));
  }

  /**
   * Verifies and stores one sealed block (byte string). Resolves with the confirmation (also
   * for a repeat of a block already stored); throws a PssError with the rejection's code.
   */
  upload(raw: string, via: Via = 'plain', pieces?: string): UploadResult {
    return this.outcome(this.store.change(() => this.verifyAndStore(raw, via, pieces)));
  }

  /**
   * The same, committed together with the other uploads of this turn of the event loop (one
   * fsync for them all; each still all or nothing): what the TCP service uses.
   */
  async uploadGrouped(raw: string, via: Via = 'plain', pieces?: string): Promise<UploadResult> {
    return this.outcome(await this.store.changeGrouped(() => this.verifyAndStore(raw, via, pieces)));
  }

  /** `pieces`: the host's list of the block's pieces (server/pieces.ts), for a per-piece device. */
  private verifyAndStore(raw: string, via: Via, pieces?: string): Verdict & { keyVersion?: number } {
    const ctx = this.context();
    const v: Verdict & { keyVersion?: number } = verifyBlock(raw, ctx, this.prims, pieces);
    v.keyVersion = ctx.keyVersion;
    if (!v.ok) {
      this.store.run('INSERT INTO rejections(at, device, seq, code, reason) VALUES (?, ?, ?, ?, ?)', [now(), v.device ?? null, v.seq ?? null, v.code, v.reason]);
      return v;
    }
    if (!v.repeat) {
      const h = v.block.header;
      this.store.run(
        'INSERT INTO blocks(device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, raw, via, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [h.device, h.seq, h.from, h.to, h.ascending, h.descending, h.pieces, h.previousAscending, h.previousPieces, h.fundsTotal, stringToHex(v.digest), toBytes(raw), via, now()]
      );
      this.store.runMany(
        'INSERT INTO records(device, seq, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        v.block.records.map((r) => [h.device, h.seq, r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight])
      );
    }
    return v;
  }

  private outcome(outcome: Verdict & { keyVersion?: number }): UploadResult {
    if (!outcome.ok) throw new PssError(outcome.code, outcome.reason);
    const { device, seq } = outcome.block.header;
    return {
      device,
      seq,
      stored: !outcome.repeat,
      digest: stringToHex(outcome.digest),
      // under the key version the block was verified with, read in its transaction
      confirmation: stringToHex(this.prims.hmacSha256(this.kms.deviceKey(device, outcome.keyVersion), confirmMessage(device, seq, outcome.digest))),
      recordCount: outcome.block.records.length
    };
  }

  /** The last stored sequence number of a device (0: none yet). */
  lastSeq(device: number): number {
    return this.store.read(() => this.store.get<{ s: number | null }>('SELECT MAX(seq) AS s FROM blocks WHERE device = ?', [device])!.s ?? 0);
  }

  counts(): { devices: number; blocks: number; records: number; rejections: number } {
    return this.store.read(() => {
      const n = (table: string) => this.store.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)!.n;
      return { devices: n('devices'), blocks: n('blocks'), records: n('records'), rejections: n('rejections') };
    });
  }
}
