// The PSS: takes a sealed block (plain upload or read from the PSD in a secure session),
// verifies it (server/verify.ts), stores it with its records in one transaction, and returns
// the confirmation the PSD checks before it frees the records. A rejection is recorded in
// the rejections table and changes nothing else.
import { confirmMessage, decodeBlockHead, SEAL_HMAC, SEAL_ED25519, type BlockHeader } from '../protocol/block.ts';
import { hexToString, stringToHex, toBytes } from './bytestrings.ts';
import { hmacSha256 } from './hashes.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { verifyBlock, nodeCryptoPrimitives, type VerifyContext, type SealPrimitives, type PreviousBlock, type Verdict, type SealCheck } from './verify.ts';
import { SealPool, sealThreads } from './seal-pool.ts';
import { SqliteStore, storageError, BUSY_TIMEOUT_MS, type Store } from './db.ts';
import { PgStore, LOCK_TIMEOUT_MS, WRITER_LOCK } from './pg-store.ts';
import type { Kms, DeviceRow } from './kms.ts';
import type { UploadAnswer } from '../protocol/pss-wire.ts';
import { recordAudit, type AuditOutcome } from './audits.ts';
import { IngestWriter, writeError, type WriteItem, type WriteResult } from './ingest-writer.ts';

export type Via = 'plain' | 'session';

/** A block handed to the ingest writer: what the next block of its device is verified against. */
interface PendingBlock extends PreviousBlock {
  digest: string;
  digestHex: string;
}

export interface StoredBlock {
  device: number;
  seq: number;
  recordCount: number;
}

export interface UploadResult extends UploadAnswer {
  recordCount: number;
}

/** Uploads under way at once from which the PSS checks seals in worker threads. */
const POOL_START_UPLOADS = 16;
/** How long a device's seal key read ahead of the transaction is reused for the next blocks. */
const SEAL_KEY_HINT_MS = 1000;

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
      },
      trustedTimeGiven: (device, at) => !!store.get('SELECT 1 AS given FROM trusted_times WHERE device = ? AND at = ?', [device, at])
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
    return this.outcome(this.store.change(() => this.verifyAndStore(raw, via, undefined, pieces)));
  }

  /**
   * The same, committed together with the other uploads of this turn of the event loop (one
   * fsync for them all; each still all or nothing): what the TCP service uses. The uploads
   * join their group in the order of the calls. Once uploads arrive faster than they are
   * stored, their seals are checked ahead in worker threads (server/seal-pool.ts).
   */
  /** `pieces`: the host's list of the block's pieces (server/pieces.ts), for a per-piece device. */
  async uploadGrouped(raw: string, via: Via = 'plain', pieces?: string): Promise<UploadResult> {
    this.grouped++;
    try {
      if (!this.pool && (this.threads !== undefined || this.grouped >= POOL_START_UPLOADS) && this.prims === nodeCryptoPrimitives) {
        const threads = this.threads ?? sealThreads();
        if (threads > 0) this.pool = new SealPool(threads);
      }
      const pre = this.pool ? await this.pool.check(raw, this.sealKeyOf(raw)) : null;
      const writer = this.ingestWriter();
      if (writer) return this.outcome(await this.verifyAndWrite(writer, raw, via, pre ?? undefined, pieces, 1));
      return this.outcome(await this.store.changeGrouped(() => this.verifyAndStore(raw, via, pre ?? undefined, pieces)));
    } finally {
      this.grouped--;
    }
  }

  /** uploads under way in uploadGrouped */
  private grouped = 0;
  private pool: SealPool | null = null;
  /** threads of the seal pool: set, it starts at the first grouped upload (0: never); undefined:
   * sealThreads() (PSS_VERIFY_THREADS or the cores), once POOL_START_UPLOADS are under way */
  threads: number | undefined;

  /**
   * The key a block's seal is checked under, read ahead of its transaction (the HMAC device
   * key or the Ed25519 public key), or null when its head does not say whose it is.
   */
  private sealKeyOf(raw: string): string | null {
    let h: BlockHeader;
    try {
      h = decodeBlockHead(raw);
    } catch {
      return null;
    }
    // a hint, kept a second (a round trip less per block on PostgreSQL): verifyBlock checks
    // the seal again when the key in the upload's transaction is another
    const t = Date.now();
    const known = this.sealKeys.get(h.device);
    if (known && known.seal === h.algorithm && t - known.at < SEAL_KEY_HINT_MS) return known.key;
    const row = this.store.get<DeviceRow>('SELECT status, seal, public_key, key_version FROM devices WHERE device = ?', [h.device]);
    if (!row || row.seal !== h.algorithm) return null;
    const key = h.algorithm === SEAL_HMAC ? this.kms.deviceKey(h.device, row.key_version) : h.algorithm === SEAL_ED25519 && row.public_key ? hexToString(row.public_key) : null;
    if (this.sealKeys.size >= 100_000) this.sealKeys.clear();
    if (key !== null) this.sealKeys.set(h.device, { at: t, seal: row.seal, key });
    return key;
  }

  private sealKeys = new Map<number, { at: number; seal: number; key: string }>();

  /** threads of the seal pool started (0: seals are checked on the event loop) */
  get sealThreadsRunning(): number {
    return this.pool?.threads ?? 0;
  }

  /** Stops the seal pool's and the ingest writer's threads (the data center closes). */
  close(): void {
    this.pool?.close();
    this.pool = null;
    this.writer?.close();
    this.writer = null;
  }

  /** Starts the ingest writer's thread ahead of the first upload (the TCP service does, so that
   * the first upload does not wait for the thread to load). */
  async ingestStarted(): Promise<void> {
    await this.ingestWriter()?.started;
  }

  private writer: IngestWriter | null = null;
  /** the ingest writer thread: false once it could not be had (not SQLite in WAL mode) */
  private writerWanted = true;

  private ingestWriter(): IngestWriter | null {
    if (this.writer || !this.writerWanted) return this.writer;
    this.writerWanted = false;
    if (process.env.PSS_INGEST_WRITER === '0') return null;
    const store = this.store;
    if (store instanceof PgStore) this.writer = new IngestWriter({ postgres: store.url, lockTimeoutMs: LOCK_TIMEOUT_MS, writerLock: WRITER_LOCK });
    else if (store instanceof SqliteStore && store.walFile()) this.writer = new IngestWriter({ sqlite: store.walFile()!, busyMs: BUSY_TIMEOUT_MS }, (bytes) => store.walCommitted(bytes));
    return this.writer;
  }

  /** blocks handed to the ingest writer and not yet answered, per device, in order */
  private pending = new Map<number, PendingBlock[]>();
  /** devices' rows read for the ingest, kept SEAL_KEY_HINT_MS (only active devices whose key is known) */
  private deviceRows = new Map<number, { at: number; row: DeviceRow }>();

  /**
   * The context of a block verified for the ingest writer: what is stored (read outside a
   * transaction) followed by what was handed to the writer and not yet answered. `cached`:
   * a device's row may be the one read within the last SEAL_KEY_HINT_MS (the writer checks
   * that it is still so).
   */
  private pendingContext(cached: boolean): VerifyContext & { keyVersion?: number; row?: DeviceRow; cachedRow?: boolean; prev?: { seq: number; digest: string | null }; repeatsPending?: boolean } {
    const store = this.store;
    const ctx: ReturnType<Pss['pendingContext']> = {
      device: (device) => {
        const t = Date.now();
        const hit = cached ? this.deviceRows.get(device) : undefined;
        let row: DeviceRow | undefined;
        if (hit && t - hit.at < SEAL_KEY_HINT_MS) {
          row = hit.row;
          ctx.cachedRow = true;
        } else {
          row = store.get<DeviceRow>('SELECT status, seal, public_key, key_version FROM devices WHERE device = ?', [device]);
          if (this.deviceRows.size >= 100_000) this.deviceRows.clear();
          if (row && row.status === 'active' && (row.seal === SEAL_HMAC || row.public_key)) this.deviceRows.set(device, { at: t, row });
          else this.deviceRows.delete(device);
        }
        ctx.row = row;
        ctx.keyVersion = row?.key_version;
        return row && { status: row.status, seal: row.seal, publicKey: row.public_key ? hexToString(row.public_key) : null };
      },
      deviceKey: (device) => this.kms.deviceKey(device, ctx.keyVersion),
      lastBlock: (device) => {
        const p = this.pending.get(device);
        if (p?.length) {
          const b = p[p.length - 1];
          ctx.prev = { seq: b.seq, digest: b.digestHex };
          return b;
        }
        const row = store.get<PreviousBlock & { digest: string }>('SELECT seq, to_time AS "to", ascending, pieces, digest FROM blocks WHERE device = ? ORDER BY seq DESC LIMIT 1', [device]);
        ctx.prev = row ? { seq: row.seq, digest: row.digest } : { seq: 0, digest: null };
        return row;
      },
      storedDigest: (device, seq) => {
        const b = this.pending.get(device)?.find((p) => p.seq === seq);
        ctx.repeatsPending = !!b;
        if (b) return b.digest;
        const row = store.get<{ digest: string }>('SELECT digest FROM blocks WHERE device = ? AND seq = ?', [device, seq]);
        return row && hexToString(row.digest);
      },
      trustedTimeGiven: (device, at) => !!store.get('SELECT 1 AS given FROM trusted_times WHERE device = ? AND at = ?', [device, at])
    };
    return ctx;
  }

  /**
   * uploadGrouped with the ingest writer: verified here, stored by the writer thread; resolves
   * once the writer says the block (or its refusal) is on disk. A block whose device or
   * predecessor changed before the writer got to it is verified again (`retries` times).
   */
  private async verifyAndWrite(writer: IngestWriter, raw: string, via: Via, pre: SealCheck | undefined, pieces: string | undefined, retries: number): Promise<Verdict & { keyVersion?: number }> {
    let ctx = this.pendingContext(true);
    let v: Verdict & { keyVersion?: number };
    try {
      v = verifyBlock(raw, ctx, this.prims, pre, pieces);
      // a refusal is decided on the device's row as it is now, never on one kept from before
      if (!v.ok && ctx.cachedRow) v = verifyBlock(raw, (ctx = this.pendingContext(false)), this.prims, pre, pieces);
    } catch (e) {
      throw e instanceof PssError ? e : storageError(e, this.store.file);
    }
    v.keyVersion = ctx.keyVersion;
    (v as { pre?: SealCheck }).pre = pre;
    let item: WriteItem;
    let mine: PendingBlock | undefined;
    if (!v.ok) item = { t: 'rejection', row: [now(), v.device ?? null, v.seq ?? null, v.code, v.reason] };
    // a repeat of a block still waiting for the writer is confirmed only once that block is
    // stored, as it was verified (the writer checks; if it was not, this one is verified again)
    else if (v.repeat) item = ctx.repeatsPending ? { t: 'stored', device: v.block.header.device, seq: v.block.header.seq, digest: stringToHex(v.digest) } : { t: 'none' };
    else {
      const h = v.block.header;
      const row = ctx.row!;
      const digestHex = stringToHex(v.digest);
      // a typed array crosses to the writer thread as one copy of its bytes (an array of numbers
      // is serialised value by value)
      const records = new Float64Array(v.block.records.length * 10);
      let k = 0;
      v.block.records.forEach((r, n) => {
        records[k++] = h.device;
        records[k++] = h.seq;
        records[k++] = n;
        records[k++] = r.customer;
        records[k++] = r.category;
        records[k++] = r.weightBand;
        records[k++] = r.postage;
        records[k++] = r.pieces;
        records[k++] = r.amount;
        records[k++] = r.weight;
      });
      item = {
        t: 'block',
        device: h.device,
        seq: h.seq,
        row: [h.device, h.seq, h.from, h.to, h.ascending, h.descending, h.pieces, h.previousAscending, h.previousPieces, h.fundsTotal, digestHex, raw, via, now()],
        records,
        expect: { status: row.status, seal: row.seal, publicKey: row.public_key ?? null, keyVersion: row.key_version, prevSeq: ctx.prev!.seq, prevDigest: ctx.prev!.digest }
      };
      mine = { seq: h.seq, to: h.to, ascending: h.ascending, pieces: h.pieces, digest: v.digest, digestHex };
      const list = this.pending.get(h.device);
      if (list) list.push(mine);
      else this.pending.set(h.device, [mine]);
    }
    const r: WriteResult = await writer.write(item);
    if (mine && item.t === 'block') this.settled(item.device, mine, 'ok' in r);
    if ('retry' in r) {
      const device = (item as { device: number }).device;
      this.deviceRows.delete(device);
      if (retries > 0) return this.verifyAndWrite(writer, raw, via, pre, pieces, retries - 1);
      throw new PssError('BUSY', `device ${device} changed while its block was being stored; nothing was stored, send it again`);
    }
    if ('error' in r) throw writeError(r);
    return v;
  }

  /** A block the writer answered leaves the pending ones; when it was not stored, so do the
   * device's blocks handed over after it (verified against it: the writer refuses them too). */
  private settled(device: number, block: PendingBlock, stored: boolean): void {
    const list = this.pending.get(device);
    const at = list ? list.indexOf(block) : -1;
    if (at < 0) return;
    list!.splice(at, stored ? 1 : list!.length - at);
    if (!list!.length) this.pending.delete(device);
  }

  private verifyAndStore(raw: string, via: Via, pre?: SealCheck, pieces?: string): Verdict & { keyVersion?: number } {
    const ctx = this.context();
    const v: Verdict & { keyVersion?: number } = verifyBlock(raw, ctx, this.prims, pre, pieces);
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
        'INSERT INTO records(device, seq, n, customer, category, weight_band, postage, pieces, amount, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        v.block.records.map((r, n) => [h.device, h.seq, n, r.customer, r.category, r.weightBand, r.postage, r.pieces, r.amount, r.weight])
      );
    }
    return v;
  }

  private outcome(outcome: Verdict & { keyVersion?: number; pre?: SealCheck }): UploadResult {
    if (!outcome.ok) throw new PssError(outcome.code, outcome.reason);
    const { device, seq } = outcome.block.header;
    return {
      device,
      seq,
      stored: !outcome.repeat,
      digest: stringToHex(outcome.digest),
      // under the key version the block was verified with, read in its transaction
      confirmation: stringToHex(this.confirmationOf(outcome, device, seq)),
      recordCount: outcome.block.records.length
    };
  }

  /** A stored block's confirmation under the key version it was verified with: the one a seal
   * thread computed when it checked the seal under that very key (the device key), else here. */
  private confirmationOf(outcome: Verdict & { ok: true; keyVersion?: number; pre?: SealCheck }, device: number, seq: number): string {
    const key = this.kms.deviceKey(device, outcome.keyVersion);
    const pre = outcome.pre;
    if (pre?.confirmation !== undefined && pre.key === key && pre.digest === outcome.digest) return pre.confirmation;
    return this.prims.hmacSha256(key, confirmMessage(device, seq, outcome.digest));
  }

  /** Notes a trusted time (seconds) a session is about to give the device: written before it
   * leaves, so a block the device starts there is never refused for it. */
  noteTrustedTime(device: number, at: number): void {
    this.store.change(() => this.store.run('INSERT INTO trusted_times(device, at) VALUES (?, ?) ON CONFLICT DO NOTHING', [device, at]));
  }

  /**
   * Verifies, checks and stores one sealed device audit (byte string, protocol/audit.ts):
   * its continuity flags come back (and are stored); throws a PssError for a refusal.
   */
  audit(raw: string, via: Via = 'plain'): AuditOutcome {
    const r = this.store.change(() => recordAudit(this.store, this.kms, this.prims, raw, via));
    if ('refused' in r) throw r.refused;
    return r;
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
