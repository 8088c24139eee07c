// The PSS's files for the postal authority (`pss export`): one period's statistics and
// discounts, a manifest of the files (name, bytes, SHA-256) and the manifest's Ed25519
// signature under the PSS's signing key, so the authority can check that nothing was
// changed, added or left out after the PSS wrote them.
//
//   statistics.csv   one row per device / block / record (RFC 4180: CRLF, header row)
//   statistics.json  the same, one object per block with its registers and records
//   discounts.csv    one row per customer / rule (server/discounts.ts)
//   discounts.json   the discount report with per-customer and overall totals
//   manifest.json    {format, pss, period, from, to, timeFilter, generatedAt, files[]}
//   manifest.sig     Ed25519 signature of manifest.json's bytes: 128 hex digits, newline
//   pss-signing.pub  the PSS's public key, 64 hex digits (the authority should pin it, not
//                    trust the copy beside the export)
//
// The period selects blocks by their sealing time (blocks.to_time, UTC), as reports do.
// Every file is written atomically (temp file, fsync, rename); data files first, then the
// manifest, then its signature, so a crash part way leaves an export that fails verification
// rather than one that verifies with old or missing data.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import type { Queryable as Database } from './db.ts';
import { WEIGHT_BANDS_G } from '../protocol/records.ts';
import { loadOrCreateKeyFile } from './keyfiles.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { writeDurableSync, fsyncDirSync as fsyncDir } from '../kit/durable.ts';
import { queryAll, whereClause, RECORDS_OF_BLOCKS, isoTime } from './report.ts';
import { computeDiscounts, type DiscountConfig, type DiscountReport, type Period } from './discounts.ts';

export const SIGNING_KEY_FILE = 'pss-signing.key';
export const PUBLIC_KEY_FILE = 'pss-signing.pub';
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const EXPORT_FORMAT = 'pss-export/1';
export const TIME_FILTER = 'blocks sealed (blocks.to_time, UTC) in [from, to)';

export interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: string;
  pss: { id: string; signingKey: string };
  period: string;
  from: string;
  to: string;
  timeFilter: string;
  generatedAt: string;
  files: ManifestFile[];
}

export interface ExportOptions {
  period: Period;
  rules: DiscountConfig;
  outDir: string;
  /** the PSS data directory: holds pss-signing.key */
  dataDir: string;
  /** the PSS's name in the manifest (default: this host's name) */
  pssId?: string;
  /** generation time (default: now) */
  now?: Date;
}

export interface ExportResult {
  dir: string;
  manifest: Manifest;
  publicKey: string;
  keyCreated: boolean;
  blocks: number;
  records: number;
  discounts: DiscountReport;
}

// ---------------------------------------------------------------------------------------
// The signing key: a 32-byte Ed25519 seed, created on first use

export interface SigningKey {
  keyPair: nacl.SignKeyPair;
  publicKeyHex: string;
  created: boolean;
}

export function loadOrCreateSigningKey(dataDir: string): SigningKey {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  const { key: seed, created } = loadOrCreateKeyFile(file, 'Ed25519 seed');
  const keyPair = nacl.sign.keyPair.fromSeed(new Uint8Array(seed));
  return { keyPair, publicKeyHex: Buffer.from(keyPair.publicKey).toString('hex'), created };
}

export function signBytes(keyPair: nacl.SignKeyPair, message: Uint8Array): Uint8Array {
  return nacl.sign.detached(message, keyPair.secretKey);
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------
// Files

/** temp + fsync + rename (kit/durable.ts); the caller fsyncs the directory to make the renames durable */
export function writeFileAtomic(dir: string, name: string, data: Uint8Array | string): void {
  writeDurableSync(path.join(dir, name), data, { fileMode: 0o644, syncDir: false });
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv(header: string[], rows: (string | number | null)[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',') + '\r\n').join('');
}

// ---------------------------------------------------------------------------------------
// Contents

interface BlockRow {
  device: number;
  seq: number;
  from_time: number;
  to_time: number;
  ascending: number;
  descending: number;
  pieces: number;
  previous_ascending: number;
  previous_pieces: number;
  funds_total: number;
  digest: string;
  via: string;
  received_at: number;
}

interface RecordRow {
  device: number;
  seq: number;
  customer: number;
  category: number;
  weight_band: number;
  postage: number;
  pieces: number;
  amount: number;
  weight: number;
}

function statistics(db: Database, period: Period) {
  const blocks = queryAll<BlockRow>(
    db,
    `SELECT device, seq, from_time, to_time, ascending, descending, pieces, previous_ascending, previous_pieces, funds_total, digest, via, received_at
     FROM blocks b WHERE b.to_time >= ? AND b.to_time < ? ORDER BY device, seq`,
    [period.from, period.to]
  );
  const where = whereClause({ from: period.from, to: period.to });
  const records = queryAll<RecordRow>(
    db,
    `SELECT r.device AS device, r.seq AS seq, r.customer AS customer, r.category AS category, r.weight_band AS weight_band,
            r.postage AS postage, r.pieces AS pieces, r.amount AS amount, r.weight AS weight
     ${RECORDS_OF_BLOCKS} ${where.sql} ORDER BY r.device, r.seq, r.customer, r.category, r.weight_band, r.postage`,
    where.params
  );
  return { blocks, records };
}

function statisticsCsv(blocks: BlockRow[], records: RecordRow[]): string {
  const byBlock = new Map(blocks.map((b) => [`${b.device}:${b.seq}`, b]));
  const header = ['device', 'seq', 'block_from', 'block_to', 'customer', 'class', 'weight_band', 'weight_band_max_g', 'postage', 'pieces', 'amount', 'weight_g', 'block_digest'];
  return csv(
    header,
    records.map((r) => {
      const b = byBlock.get(`${r.device}:${r.seq}`)!;
      return [r.device, r.seq, isoTime(b.from_time), isoTime(b.to_time), r.customer, r.category, r.weight_band, WEIGHT_BANDS_G[r.weight_band] ?? null, r.postage, r.pieces, r.amount, r.weight, b.digest];
    })
  );
}

function statisticsJson(period: Period, blocks: BlockRow[], records: RecordRow[]): string {
  const recordsOf = new Map<string, RecordRow[]>();
  for (const r of records) {
    const k = `${r.device}:${r.seq}`;
    recordsOf.set(k, [...(recordsOf.get(k) ?? []), r]);
  }
  const total = (k: 'pieces' | 'amount' | 'weight') => records.reduce((a, r) => a + r[k], 0);
  const doc = {
    format: 'pss-statistics/1',
    period: period.label,
    from: isoTime(period.from),
    to: isoTime(period.to),
    timeFilter: TIME_FILTER,
    blocks: blocks.map((b) => ({
      device: b.device,
      seq: b.seq,
      from: isoTime(b.from_time),
      to: isoTime(b.to_time),
      ascending: b.ascending,
      descending: b.descending,
      pieces: b.pieces,
      previousAscending: b.previous_ascending,
      previousPieces: b.previous_pieces,
      fundsTotal: b.funds_total,
      digest: b.digest,
      via: b.via,
      receivedAt: isoTime(b.received_at),
      records: (recordsOf.get(`${b.device}:${b.seq}`) ?? []).map((r) => ({
        customer: r.customer,
        class: r.category,
        weightBand: r.weight_band,
        weightBandMaxG: WEIGHT_BANDS_G[r.weight_band] ?? null,
        postage: r.postage,
        pieces: r.pieces,
        amount: r.amount,
        weight: r.weight
      }))
    })),
    totals: { blocks: blocks.length, records: records.length, pieces: total('pieces'), amount: total('amount'), weight: total('weight') }
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

function discountsCsv(d: DiscountReport): string {
  const header = ['period', 'customer', 'rule', 'classes', 'pieces', 'amount', 'tier', 'tier_min_pieces', 'percent', 'discount', 'settlement'];
  return csv(
    header,
    d.customers.flatMap((c) => c.lines.map((l) => [l.period, l.customer, l.rule, l.classes.join(' '), l.pieces, l.amount, l.tier, l.tierMinPieces, l.percent, l.discount, l.settlement]))
  );
}

/** Every movement of the customer accounts in the period: deposits, funds resets issued, withdrawals. */
function ledgerCsv(db: Database, period: Period): string {
  const rows = queryAll<{ entry: number; account: number; name: string; at: number; kind: string; amount: number; balance: number; device: number | null; counter: number | null; reference: string | null }>(
    db,
    'SELECT l.entry, l.account, a.name, l.at, l.kind, l.amount, l.balance, l.device, l.counter, l.reference FROM ledger l JOIN accounts a ON a.account = l.account WHERE l.at >= ? AND l.at < ? ORDER BY l.entry',
    [period.from, period.to]
  );
  return csv(
    ['entry', 'account', 'account_name', 'at', 'kind', 'amount', 'balance_after', 'device', 'funds_counter', 'reference'],
    rows.map((r) => [r.entry, r.account, r.name, isoTime(r.at), r.kind, r.amount, r.balance, r.device, r.counter, r.reference])
  );
}

// ---------------------------------------------------------------------------------------
// Export and verification

/** An export made in memory: the files in the order they are written (data files, public key,
 * manifest, signature), so the PSS can hand it to an auditor over TLS as well as write it. */
export type BuiltExport = Omit<ExportResult, 'dir'> & { files: { name: string; bytes: Buffer }[] };

/** Makes a period's export (statistics, discounts, funds ledger, manifest, signature); writes nothing but a new signing key. */
export function buildExport(db: Database, opts: Omit<ExportOptions, 'outDir'>): BuiltExport {
  const key = loadOrCreateSigningKey(opts.dataDir);
  const { blocks, records } = statistics(db, opts.period);
  const discounts = computeDiscounts(db, opts.rules, opts.period);
  const data: [string, string][] = [
    ['statistics.csv', statisticsCsv(blocks, records)],
    ['statistics.json', statisticsJson(opts.period, blocks, records)],
    ['discounts.csv', discountsCsv(discounts)],
    ['discounts.json', JSON.stringify(discounts, null, 2) + '\n'],
    ['funds-ledger.csv', ledgerCsv(db, opts.period)]
  ];
  const files = data.map(([name, text]) => ({ name, bytes: Buffer.from(text, 'utf8') }));
  const listed: ManifestFile[] = files.map((f) => ({ name: f.name, bytes: f.bytes.length, sha256: sha256Hex(f.bytes) }));
  const manifest: Manifest = {
    format: EXPORT_FORMAT,
    pss: { id: opts.pssId ?? os.hostname(), signingKey: key.publicKeyHex },
    period: opts.period.label,
    from: isoTime(opts.period.from),
    to: isoTime(opts.period.to),
    timeFilter: TIME_FILTER,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    files: listed
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
  files.push({ name: PUBLIC_KEY_FILE, bytes: Buffer.from(key.publicKeyHex + '\n', 'utf8') });
  files.push({ name: MANIFEST_FILE, bytes: manifestBytes });
  files.push({ name: SIGNATURE_FILE, bytes: Buffer.from(Buffer.from(signBytes(key.keyPair, manifestBytes)).toString('hex') + '\n', 'utf8') });
  return { files, manifest, publicKey: key.publicKeyHex, keyCreated: key.created, blocks: blocks.length, records: records.length, discounts };
}

/** The names an export's files may have: what an auditor's client writes, and nothing else. */
export function exportFileNames(): string[] {
  return ['statistics.csv', 'statistics.json', 'discounts.csv', 'discounts.json', 'funds-ledger.csv', PUBLIC_KEY_FILE, MANIFEST_FILE, SIGNATURE_FILE];
}

/**
 * Writes an export's files into `outDir` (made if missing) in their order, each atomically:
 * data files first, the manifest and its signature last, so a crash part way leaves an export
 * that fails verification. Only the names an export has are written (exportFileNames).
 */
export function writeExport(outDir: string, files: { name: string; bytes: Uint8Array }[]): string {
  const dir = path.resolve(outDir);
  const allowed = exportFileNames();
  for (const f of files) if (!allowed.includes(f.name)) throw new PssError('BAD_ARGUMENT', `an export has no file named ${JSON.stringify(f.name)}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) {
    if (f.name === MANIFEST_FILE) fsyncDir(dir);
    writeFileAtomic(dir, f.name, f.bytes);
  }
  fsyncDir(dir);
  return dir;
}

export function exportPeriod(db: Database, opts: ExportOptions): ExportResult {
  // refused before the signing key or anything else is made
  if (path.resolve(opts.outDir) === path.resolve(opts.dataDir)) throw new PssError('BAD_ARGUMENT', `--out ${opts.outDir} is the data directory: export to a directory of its own`);
  const { files, ...built } = buildExport(db, opts);
  return { dir: writeExport(opts.outDir, files), ...built };
}

export interface ExportVerification {
  valid: boolean;
  /** what is wrong, one line each; empty when valid */
  problems: string[];
  manifest: Manifest | null;
}

/**
 * Checks an export against the PSS's public key (64 hex digits, obtained from the PSS, not
 * from the export): the signature over manifest.json, then every listed file's size and
 * SHA-256, and that the directory holds no file the manifest does not cover.
 */
export function verifyExport(dir: string, publicKeyHex: string): ExportVerification {
  const problems: string[] = [];
  const key = publicKeyHex.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(key)) return { valid: false, problems: ['the public key must be 32 bytes as 64 hex digits'], manifest: null };
  let manifestBytes: Buffer, sigText: string;
  try {
    manifestBytes = fs.readFileSync(path.join(dir, MANIFEST_FILE));
    sigText = fs.readFileSync(path.join(dir, SIGNATURE_FILE), 'utf8').trim();
  } catch (e) {
    return { valid: false, problems: [`cannot read the manifest or its signature: ${(e as Error).message}`], manifest: null };
  }
  if (!/^[0-9a-fA-F]{128}$/.test(sigText)) return { valid: false, problems: [`${SIGNATURE_FILE} is not an Ed25519 signature (128 hex digits)`], manifest: null };
  if (!nacl.sign.detached.verify(new Uint8Array(manifestBytes), new Uint8Array(Buffer.from(sigText, 'hex')), new Uint8Array(Buffer.from(key, 'hex')))) {
    return { valid: false, problems: [`${SIGNATURE_FILE}: the signature of ${MANIFEST_FILE} does not verify under key ${key.toLowerCase()}`], manifest: null };
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
    if (manifest.format !== EXPORT_FORMAT || !Array.isArray(manifest.files)) throw new Error(`not a ${EXPORT_FORMAT} manifest`);
  } catch (e) {
    return { valid: false, problems: [`${MANIFEST_FILE}: ${(e as Error).message}`], manifest: null };
  }
  const covered = new Set([MANIFEST_FILE, SIGNATURE_FILE, PUBLIC_KEY_FILE]);
  for (const f of manifest.files) {
    // a signed manifest could still name "../x": never read outside the export
    if (typeof f?.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f.name)) {
      problems.push(`${MANIFEST_FILE}: bad file name ${JSON.stringify(f?.name)}`);
      continue;
    }
    covered.add(f.name);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(dir, f.name));
    } catch (e) {
      problems.push(`${f.name}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message}`);
      continue;
    }
    if (bytes.length !== f.bytes) problems.push(`${f.name}: ${bytes.length} bytes, the manifest says ${f.bytes}`);
    const digest = sha256Hex(bytes);
    if (digest !== f.sha256) problems.push(`${f.name}: SHA-256 ${digest} differs from the manifest's ${f.sha256}`);
  }
  for (const name of fs.readdirSync(dir)) if (!covered.has(name)) problems.push(`${name}: not covered by the manifest`);
  return { valid: problems.length === 0, problems, manifest };
}
