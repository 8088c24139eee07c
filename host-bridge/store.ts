// The host store of sealed statistics blocks: the PSD's blocks wait here, on disk, from
// extraction until the PSS confirms them (a day or more if need be), and confirmed ones stay
// as an audit trail until pruned.
//
// One JSON file per block, `PSD-<device>-<seq, 10 digits>.json` (names sort by seq), holding
// the whole sealed block in hex, its digest, where and when it was read, its upload status
// and a SHA-256 checksum over those fields. Every write is durable: temp file in the same
// directory, fsync, link/rename into place, fsync the directory. A crash leaves at most a
// temp file (`.tmp-*`), which list() ignores and removes once it is an hour old.
//
// What the store can and cannot prove. The host is untrusted and has no device key, so it
// cannot check an HMAC seal: tamper-evidence against a deliberate edit is the PSS's job (it
// authenticates every block). The checksum and the digest re-computation here catch
// accidental or careless edits, truncation and misplaced files, so a damaged file is
// reported and never handed out for upload as good. A block sealed with Ed25519 can be
// checked on the host too, given the device's public key (verifySignature).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nacl from 'tweetnacl';
import { decodeBlock, blockDigest, sealMessage, SEAL_ED25519, type Block } from '../protocol/block.ts';
import { toHex } from '../protocol/bytes.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { PsdError } from './errors.ts';
import { writeDurable, fsyncDir, linkNoClobber, TEMP_PREFIX } from '../kit/durable.ts';

export const STORE_FORMAT = 'psd-block/1';
export type BlockStatus = 'stored' | 'uploaded' | 'confirmed';
const STATUSES: BlockStatus[] = ['stored', 'uploaded', 'confirmed'];
/** Temp files older than this are leftovers of a crash, not a write in progress. */
export const STALE_TEMP_MS = 60 * 60 * 1000;
/** A block holds at most 65,535 records and customers: under 2 MB, 4 MB as hex. Anything
 * far bigger is not a block file, and is not read into memory. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** The file's content, as written. */
export interface BlockFile {
  format: typeof STORE_FORMAT;
  device: number;
  seq: number;
  /** hex of the block's digest (protocol/block.ts blockDigest) */
  digest: string;
  /** hex of the whole sealed block */
  block: string;
  extractedAt: string;
  /** the serial port (or virtual board address) the block was read from */
  port: string;
  status: BlockStatus;
  uploadedAt?: string;
  confirmedAt?: string;
  /** SHA-256 hex over the fields above (contentChecksum) */
  checksum: string;
}

/** A block file that passed every check. */
export interface StoredBlock {
  file: string;
  content: BlockFile;
  /** the sealed block as a byte string */
  bytes: string;
  block: Block;
}

/** One file of the store as list() reports it; `problem` is set for anything not good. */
export interface StoreEntry {
  file: string;
  kind: 'block' | 'conflict' | 'damaged-copy' | 'unknown';
  device?: number;
  seq?: number;
  digest?: string;
  status?: BlockStatus;
  extractedAt?: string;
  uploadedAt?: string;
  confirmedAt?: string;
  recordCount?: number;
  problem?: string;
}

export interface PutMeta {
  port: string;
  extractedAt?: Date;
}

export interface PutResult {
  outcome: 'stored' | 'exists' | 'replaced-damaged';
  file: string;
  device: number;
  seq: number;
  digest: string;
  /** where a damaged file that held this device and seq was moved (outcome replaced-damaged) */
  damagedCopy?: string;
}

/** Store errors reach the CLI user as they are (psd prints code, message, hint). protocol/errors.ts
 * carry STORE_DAMAGED (105) with their own message. */
export class StoreError extends PsdError {
  constructor(message: string, hint?: string) {
    super(ErrorCode.STORE_DAMAGED, undefined, hint);
    this.message = message;
    this.name = 'StoreError';
  }
}

/** Two different blocks claim one device and sequence number: the first stays, the second is set aside. */
export class BlockConflictError extends StoreError {
  constructor(public file: string, public conflictFile: string, detail: string) {
    super(
      `block conflict: ${detail}; kept ${file}, set the new block aside as ${conflictFile}`,
      'the PSD numbers its blocks without gaps or repeats: a device reset or restored, two devices with one number, or a forged block. Report both files to the data center'
    );
    this.name = 'BlockConflictError';
  }
}

export function sha256Bytes(s: string): string {
  return createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
}

export function defaultStoreDir(): string {
  return process.env.PSD_STORE || path.join(os.homedir(), '.psd', 'blocks');
}

export function blockFileName(device: number, seq: number): string {
  return `PSD-${device}-${String(seq).padStart(10, '0')}.json`;
}

const BLOCK_NAME = /^PSD-(0|[1-9]\d{0,9})-(\d{10})\.json$/;
const CONFLICT_NAME = /^PSD-(0|[1-9]\d{0,9})-(\d{10})\.conflict-([0-9a-f]{8})\.json$/;
const DAMAGED_NAME = /^PSD-(0|[1-9]\d{0,9})-(\d{10})\.damaged-(\d{8}T\d{6}Z)(-\d+)?\.json$/;

/** SHA-256 hex over the content fields in a fixed order (everything but the checksum). */
export function contentChecksum(c: Omit<BlockFile, 'checksum'>): string {
  const canonical = JSON.stringify([c.format, c.device, c.seq, c.digest, c.block, c.extractedAt, c.port, c.status, c.uploadedAt ?? null, c.confirmedAt ?? null]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

function serialize(c: Omit<BlockFile, 'checksum'>): string {
  const full: BlockFile = { ...c, checksum: contentChecksum(c) };
  return JSON.stringify(full, null, 2) + '\n';
}

// ---- checking a file -------------------------------------------------------------------

const FIELDS = ['format', 'device', 'seq', 'digest', 'block', 'extractedAt', 'port', 'status', 'uploadedAt', 'confirmedAt', 'checksum'];
const isU32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isHex = (v: unknown, bytes?: number): v is string => typeof v === 'string' && (bytes === undefined ? /^(?:[0-9a-f]{2})*$/.test(v) : v.length === bytes * 2 && /^[0-9a-f]*$/.test(v));
const isIso = (v: unknown): v is string => typeof v === 'string' && !isNaN(Date.parse(v)) && new Date(v).toISOString() === v;

/** The shape of the JSON: a problem string, or null when every field has its type. */
function shapeProblem(j: any): string | null {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return 'not a block file (JSON is not an object)';
  const extra = Object.keys(j).filter((k) => !FIELDS.includes(k));
  if (extra.length) return `unexpected field ${extra.join(', ')}`;
  if (j.format !== STORE_FORMAT) return `format is ${JSON.stringify(j.format)}, expected "${STORE_FORMAT}"`;
  if (!isU32(j.device)) return 'device is not a 32-bit number';
  if (!isU32(j.seq)) return 'seq is not a 32-bit number';
  if (!isHex(j.digest, 32)) return 'digest is not 32 bytes of lowercase hex';
  if (!isHex(j.block)) return 'block is not lowercase hex';
  if (!isIso(j.extractedAt)) return 'extractedAt is not an ISO date';
  if (typeof j.port !== 'string') return 'port is not a string';
  if (!STATUSES.includes(j.status)) return `status ${JSON.stringify(j.status)} is not one of ${STATUSES.join(', ')}`;
  if (j.uploadedAt !== undefined && !isIso(j.uploadedAt)) return 'uploadedAt is not an ISO date';
  if ((j.status === 'confirmed') !== (j.confirmedAt !== undefined)) return 'confirmedAt must be present exactly when the status is confirmed';
  if (j.confirmedAt !== undefined && !isIso(j.confirmedAt)) return 'confirmedAt is not an ISO date';
  if (!isHex(j.checksum, 32)) return 'checksum is not 32 bytes of lowercase hex';
  return null;
}

interface Checked {
  content?: BlockFile;
  bytes?: string;
  block?: Block;
  problems: string[];
}

/** Every check of one file's text; `named` is the device and seq its file name claims. */
function checkText(text: string, named?: { device: number; seq: number }): Checked {
  let j: any;
  try {
    j = JSON.parse(text);
  } catch (e: any) {
    return { problems: [`not valid JSON (truncated, or not a block file): ${e.message}`] };
  }
  const shape = shapeProblem(j);
  if (shape) return { problems: [shape] };
  const content = j as BlockFile;
  const problems: string[] = [];
  if (contentChecksum(content) !== content.checksum) problems.push('checksum mismatch: the file was changed after it was written');
  const bytes = Buffer.from(content.block, 'hex').toString('latin1');
  let block: Block | undefined;
  try {
    block = decodeBlock(bytes);
  } catch (e: any) {
    problems.push(`block does not decode: ${e.message}`);
  }
  if (block) {
    if (toHex(blockDigest(sha256Bytes, block.head, block.recordBytes)) !== content.digest) problems.push('digest does not match the block');
    if (block.header.device !== content.device || block.header.seq !== content.seq)
      problems.push(`the block is device ${block.header.device} seq ${block.header.seq}, the file says device ${content.device} seq ${content.seq}`);
  }
  if (named && (named.device !== content.device || named.seq !== content.seq))
    problems.push(`file name says device ${named.device} seq ${named.seq}, the content is device ${content.device} seq ${content.seq}`);
  return { content, bytes, block, problems };
}

// ---- durable writes --------------------------------------------------------------------

async function unlinkQuietly(file: string): Promise<void> {
  await fs.unlink(file).catch((e) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/** Writes `text` as dir/name durably (kit/durable.ts). `create`: never replaces an existing
 * file (two processes putting one block cannot overwrite each other) and returns false if the
 * name was taken; `replace`: atomic rename over the old version. */
function writeDurably(dir: string, name: string, text: string, mode: 'create' | 'replace'): Promise<boolean> {
  return writeDurable(path.join(dir, name), text, { mode });
}

function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

// ---- the store ---------------------------------------------------------------------------

interface Scanned {
  entry: StoreEntry;
  good?: StoredBlock;
}

export class BlockStore {
  readonly dir: string;
  private ready: Promise<void> | undefined;

  constructor(dir: string = defaultStoreDir()) {
    this.dir = path.resolve(dir);
  }

  private async open(): Promise<void> {
    // 0700: the blocks are the postal authority's statistics, not for other local users
    this.ready ??= fs.mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.ready;
  }

  /** Stores a sealed block (byte string) read from the PSD. Refuses a malformed block. */
  async put(blockBytes: string, meta: PutMeta): Promise<PutResult> {
    await this.open();
    let block: Block;
    try {
      block = decodeBlock(blockBytes);
    } catch (e: any) {
      throw new StoreError(`refusing to store a malformed block: ${e.message}`);
    }
    const { device, seq } = block.header;
    const digest = toHex(blockDigest(sha256Bytes, block.head, block.recordBytes));
    const name = blockFileName(device, seq);
    const text = serialize({
      format: STORE_FORMAT,
      device,
      seq,
      digest,
      block: toHex(blockBytes),
      extractedAt: (meta.extractedAt ?? new Date()).toISOString(),
      port: meta.port,
      status: 'stored'
    });
    const result: PutResult = { outcome: 'stored', file: name, device, seq, digest };
    if (await writeDurably(this.dir, name, text, 'create')) return result;

    const existing = await this.readChecked(name);
    if (existing.problems.length) {
      // the file for this seq is damaged: the PSD re-sends a block until it is confirmed, so a
      // fresh read repairs the store; the damaged file is kept aside as evidence, not deleted
      const aside = await this.setAside(name, device, seq);
      if (!(await writeDurably(this.dir, name, text, 'create'))) throw new StoreError(`${name} reappeared while it was being repaired; run the command again`);
      return { ...result, outcome: 'replaced-damaged', damagedCopy: aside };
    }
    const first = existing.content!;
    if (first.digest === digest) {
      if (first.block === toHex(blockBytes)) return { ...result, outcome: 'exists' };
      // same records, another seal: at most one of the two seals is the device's
      throw new StoreError(`block ${device}/${seq}: same digest as ${name} but a different seal; kept the stored one, refused the new one`, 'one of the two seals is not the device\'s: report it to the data center');
    }
    // Two different blocks claim one (device, seq). The PSD numbers blocks without gaps and
    // re-sends the block awaiting confirmation unchanged, so this is a fault or an attack.
    // Keep the first: it is the one that may already be uploaded or confirmed, and letting a
    // later write replace it would silently swap what the PSS is shown. Keep the second aside
    // rather than drop it: it is evidence too. Neither copy is changed, the conflict is never
    // handed out for upload (pending() skips it), list() reports it, and put throws.
    const conflictName = name.replace(/\.json$/, `.conflict-${digest.slice(0, 8)}.json`);
    await writeDurably(this.dir, conflictName, text, 'create');
    throw new BlockConflictError(name, conflictName, `device ${device} seq ${seq} is stored with digest ${first.digest.slice(0, 16)}..., the new block has ${digest.slice(0, 16)}...`);
  }

  /** Every file in the store, good or not, in device and seq order (others last). Removes
   * temp files older than an hour (leftovers of a crash mid-write). */
  async list(now: number = Date.now()): Promise<StoreEntry[]> {
    return (await this.scan(now)).map((s) => s.entry);
  }

  /** Good blocks not yet confirmed (stored or uploaded), by device and seq: what to upload. */
  async pending(): Promise<StoredBlock[]> {
    return (await this.scan()).filter((s) => s.good && s.good.content.status !== 'confirmed').map((s) => s.good!);
  }

  /** The good block for (device, seq), undefined if there is none; throws if its file is damaged. */
  async get(device: number, seq: number): Promise<StoredBlock | undefined> {
    const name = blockFileName(device, seq);
    const c = await this.readChecked(name).catch((e) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!c) return undefined;
    if (c.problems.length) throw new StoreError(`${name} is damaged: ${c.problems.join('; ')}`, 'the file is kept for inspection; a block not yet confirmed can be read again from the PSD with `psd stats extract`');
    return { file: name, content: c.content!, bytes: c.bytes!, block: c.block! };
  }

  async markUploaded(device: number, seq: number): Promise<StoredBlock> {
    return this.setStatus(device, seq, 'uploaded');
  }

  /** `digestHex`, when given, must be the digest the confirmation was for. */
  async markConfirmed(device: number, seq: number, digestHex?: string): Promise<StoredBlock> {
    return this.setStatus(device, seq, 'confirmed', digestHex);
  }

  /** Deletes good confirmed blocks confirmed more than `days` days before `now`; damaged
   * files and conflicts are never pruned (someone has to look at them). */
  async prune(days: number, now: number = Date.now()): Promise<string[]> {
    const cutoff = now - days * 86400000;
    const removed: string[] = [];
    for (const s of await this.scan(now)) {
      const c = s.good?.content;
      if (c?.status === 'confirmed' && Date.parse(c.confirmedAt!) < cutoff) {
        await unlinkQuietly(path.join(this.dir, s.entry.file));
        removed.push(s.entry.file);
      }
    }
    if (removed.length) await fsyncDir(this.dir);
    return removed;
  }

  private async setStatus(device: number, seq: number, status: 'uploaded' | 'confirmed', digestHex?: string): Promise<StoredBlock> {
    const stored = await this.get(device, seq);
    if (!stored) throw new StoreError(`no block for device ${device} seq ${seq} in ${this.dir}`);
    const c = stored.content;
    if (digestHex !== undefined && digestHex.toLowerCase() !== c.digest) throw new StoreError(`${stored.file}: the confirmation is for digest ${digestHex}, the stored block has ${c.digest}`);
    // status only moves forward: a late "uploaded" must not undo a confirmation
    if (STATUSES.indexOf(c.status) >= STATUSES.indexOf(status)) return stored;
    const { checksum: _old, ...next } = c;
    next.status = status;
    if (status === 'uploaded') next.uploadedAt = new Date().toISOString();
    else next.confirmedAt = new Date().toISOString();
    await writeDurably(this.dir, stored.file, serialize(next), 'replace');
    return { ...stored, content: { ...next, checksum: contentChecksum(next) } };
  }

  private async readChecked(name: string): Promise<Checked> {
    const file = path.join(this.dir, name);
    let st;
    try {
      st = await fs.stat(file);
    } catch (e: any) {
      // nothing under the name is "no file" (ENOENT reaches the caller); an entry that cannot
      // be followed (a symlink loop or to nowhere) is a damaged file, reported like the others
      if (e.code === 'ENOENT' && !(await fs.lstat(file).then(() => true, () => false))) throw e;
      return { problems: [`cannot read: ${e.message}`] };
    }
    if (!st.isFile()) return { problems: ['not a regular file'] };
    if (st.size > MAX_FILE_BYTES) return { problems: [`${st.size} bytes: too large to be a block file`] };
    const m = BLOCK_NAME.exec(name) ?? CONFLICT_NAME.exec(name);
    const named = m ? { device: Number(m[1]), seq: Number(m[2]) } : undefined;
    // a file of arbitrary bytes decodes (lossily) as UTF-8 and then fails JSON.parse
    return checkText(await fs.readFile(file, 'utf8'), named);
  }

  /** Moves a damaged file out of the way under a name list() keeps reporting. */
  private async setAside(name: string, device: number, seq: number): Promise<string> {
    const stamp = compactTime(new Date());
    for (let n = 0; ; n++) {
      const aside = blockFileName(device, seq).replace(/\.json$/, `.damaged-${stamp}${n ? '-' + n : ''}.json`);
      if (!(await linkNoClobber(path.join(this.dir, name), path.join(this.dir, aside)))) continue;
      await unlinkQuietly(path.join(this.dir, name));
      await fsyncDir(this.dir);
      return aside;
    }
  }

  private async scan(now: number = Date.now()): Promise<Scanned[]> {
    // reading does not create the directory: a mistyped --store lists nothing, it makes nothing
    const names = await fs.readdir(this.dir).catch((e) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    const out: Scanned[] = [];
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) {
        const st = await fs.lstat(path.join(this.dir, name)).catch(() => undefined);
        if (st && st.isFile() && now - st.mtimeMs > STALE_TEMP_MS) await unlinkQuietly(path.join(this.dir, name));
        continue;
      }
      out.push(await this.scanOne(name));
    }
    const key = (e: StoreEntry) => [e.device ?? Infinity, e.seq ?? Infinity];
    return out.sort((a, b) => {
      const [da, sa] = key(a.entry);
      const [db, sb] = key(b.entry);
      return da - db || sa - sb || (a.entry.file < b.entry.file ? -1 : a.entry.file > b.entry.file ? 1 : 0);
    });
  }

  private async scanOne(name: string): Promise<Scanned> {
    const kind: StoreEntry['kind'] = BLOCK_NAME.test(name) ? 'block' : CONFLICT_NAME.test(name) ? 'conflict' : DAMAGED_NAME.test(name) ? 'damaged-copy' : 'unknown';
    if (kind === 'unknown') return { entry: { file: name, kind, problem: 'not a block file (unexpected name in the block store)' } };
    let c: Checked;
    try {
      c = await this.readChecked(name);
    } catch (e: any) {
      c = { problems: [`cannot read: ${e.message}`] };
    }
    const m = (BLOCK_NAME.exec(name) ?? CONFLICT_NAME.exec(name) ?? DAMAGED_NAME.exec(name))!;
    const problems = c.problems.slice();
    if (kind === 'conflict') problems.unshift(`conflict: a different block claims device ${m[1]} seq ${Number(m[2])}; kept aside, never uploaded`);
    if (kind === 'damaged-copy') problems.unshift('damaged copy set aside when the block was read again from the PSD');
    const content = c.content;
    const entry: StoreEntry = {
      file: name,
      kind,
      device: content?.device ?? Number(m[1]),
      seq: content?.seq ?? Number(m[2]),
      ...(content ? { digest: content.digest, status: content.status, extractedAt: content.extractedAt, uploadedAt: content.uploadedAt, confirmedAt: content.confirmedAt } : {}),
      ...(c.block ? { recordCount: c.block.header.recordCount } : {}),
      ...(problems.length ? { problem: problems.join('; ') } : {})
    };
    for (const k of Object.keys(entry) as (keyof StoreEntry)[]) if (entry[k] === undefined) delete entry[k];
    const good = problems.length ? undefined : { file: name, content: content!, bytes: c.bytes!, block: c.block! };
    return { entry, good };
  }
}

/** Checks an Ed25519 seal against the device's public key (32 bytes hex). An HMAC seal cannot
 * be checked here: only the PSD and the PSS hold its key. */
export function verifySignature(blockBytes: string, publicKeyHex: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(publicKeyHex)) throw new StoreError('the device public key must be 32 bytes as 64 hex digits');
  const block = decodeBlock(blockBytes);
  if (block.header.algorithm !== SEAL_ED25519)
    throw new StoreError(`block ${block.header.device}/${block.header.seq} is sealed with HMAC-SHA256: only the PSD and the PSS hold its key, the host cannot check it`);
  const message = Buffer.from(sealMessage(blockDigest(sha256Bytes, block.head, block.recordBytes)), 'latin1');
  return nacl.sign.detached.verify(message, Buffer.from(block.seal, 'latin1'), Buffer.from(publicKeyHex, 'hex'));
}
