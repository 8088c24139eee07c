// Fuzz target `store`: the host store reader (host-bridge/store.ts BlockStore). Each case
// fills a store directory with hostile files (random bytes, random JSON, good block files
// mutated by byte flips, truncation, field edits, renamed to another seq, duplicated under
// other names, garbage names, directories, broken symlinks, oversized files, crash-leftover
// temp files), runs list(), pending() and get() of every block name, and in some cases
// put() of a good block over whatever is there. Its verdicts:
//   crash       list() or pending() threw; get() threw anything but a StoreError; put() of a
//               good block threw
//   hang        over the bound
//   state       a file handed out as good (no `problem`, in pending(), from get()) that is
//               not a known good block under its own name: its block bytes, digest, device
//               and seq must be those of the good block, and unless the case recomputed the
//               checksum (a deliberate edit, which the host cannot detect by design, see
//               store.ts) its whole JSON too; or the store wrote, changed or deleted files
//               while reading (stale `.tmp-*` leftovers excepted), or put() did more than
//               repair (set the damaged file aside intact, write the block)
//   unanswered  a file list() does not report exactly once, an entry for no file, a good
//               unconfirmed block pending() does not hand out
// The good blocks are built here as the PSD seals them (encodeBlock + blockDigest + HMAC with
// node:crypto), and their files as put() writes them; open() checks that put() agrees.
import fc from 'fast-check';
import nodeCrypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { encodeBlock, encodeBlockHead, blockDigest, sealMessage, SEAL_HMAC, type BlockHeader } from '../../protocol/block.ts';
import { encodeRecord, RECORD_BYTES, type CumulativeRecord } from '../../protocol/records.ts';
import { BlockStore, StoreError, blockFileName, contentChecksum, STALE_TEMP_MS, STORE_FORMAT, type BlockFile, type StoreEntry } from '../../host-bridge/store.ts';
import type { FuzzTarget, Finding } from './framework.ts';
import { byteString, hex } from './wire.ts';

const sha256 = (s: string) => nodeCrypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
const DEVICE_KEY = sha256('psd fuzz store device key');
const DEVICE = 7;

/** A block the fuzzer sealed, and its file as put() writes it. */
interface Known {
  device: number;
  seq: number;
  bytes: string;
  blockHex: string;
  digest: string;
  /** where the seal starts, in bytes: edits before it change the digest */
  sealAt: number;
  name: string;
  content: BlockFile;
  text: string;
  port: string;
  extractedAt: Date;
}

function knownBlock(seq: number): Known {
  const records: CumulativeRecord[] = [
    { customer: 1001, category: 3, weightBand: 0, postage: 85, pieces: 10 * seq, amount: 850 * seq, weight: 180 * seq },
    { customer: 1002, category: 7, weightBand: 2, postage: 160, pieces: 4, amount: 640, weight: 360 }
  ];
  const pieces = records.reduce((n, r) => n + r.pieces, 0);
  const amount = records.reduce((n, r) => n + r.amount, 0);
  const header: BlockHeader = {
    algorithm: SEAL_HMAC,
    recordCount: records.length,
    device: DEVICE,
    seq,
    from: 1780000000 + 86400 * (seq - 1),
    to: 1780000000 + 86400 * seq,
    ascending: 100000 + amount,
    descending: 50000,
    pieces: 1000 + pieces,
    previousAscending: 100000,
    previousPieces: 1000,
    fundsTotal: 150000 + amount,
    customers: [1001, 1002]
  };
  const head = encodeBlockHead(header);
  const digest = blockDigest(sha256, head, records.map(encodeRecord).join(''));
  const seal = nodeCrypto.createHmac('sha256', Buffer.from(DEVICE_KEY, 'latin1')).update(Buffer.from(sealMessage(digest), 'latin1')).digest().toString('latin1');
  const bytes = encodeBlock(header, records, seal);
  const port = '/dev/ttyACM0';
  const extractedAt = new Date(Date.UTC(2026, 4, 28, 10, 0, seq));
  const fields: Omit<BlockFile, 'checksum'> = {
    format: STORE_FORMAT,
    device: DEVICE,
    seq,
    digest: Buffer.from(digest, 'latin1').toString('hex'),
    block: Buffer.from(bytes, 'latin1').toString('hex'),
    extractedAt: extractedAt.toISOString(),
    port,
    status: 'stored'
  };
  const content: BlockFile = { ...fields, checksum: contentChecksum(fields) };
  return {
    device: DEVICE,
    seq,
    bytes,
    blockHex: fields.block,
    digest: fields.digest,
    sealAt: head.length + records.length * RECORD_BYTES,
    name: blockFileName(DEVICE, seq),
    content,
    text: JSON.stringify(content, null, 2) + '\n',
    port,
    extractedAt
  };
}

const KNOWN = [knownBlock(1), knownBlock(2)];
const knownByName = new Map(KNOWN.map((k) => [k.name, k]));

// ---- inputs ------------------------------------------------------------------------------

export type StoreFile =
  /** bytes: latin1 (the file's raw bytes); how: what made them; deliberate: the checksum was
   * recomputed after an edit (undetectable on the host unless the block itself changed) */
  | { name: string; kind: 'file'; bytes: string; how: string; deliberate: boolean; ageMs: number }
  | { name: string; kind: 'dir' }
  /** a symlink that leads to no readable block file: a loop, nowhere, a device */
  | { name: string; kind: 'symlink'; target: string }
  /** a sparse file larger than any block file */
  | { name: string; kind: 'sparse'; size: number };

export interface StoreCase {
  files: StoreFile[];
  /** then put() the first good block */
  put: boolean;
}

const HOUR = 3600 * 1000;
const known = fc.constantFrom(0, 1);
const hex8 = fc.integer({ min: 0, max: 0xffffffff }).map((n) => n.toString(16).padStart(8, '0'));
const compactTime = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

const fileName: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: known.map((i) => KNOWN[i].name) },
  {
    weight: 2,
    arbitrary: fc
      .record({ d: fc.oneof(fc.constant(DEVICE), fc.integer({ min: 0, max: 0xffffffff })), s: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 0xffffffff })) })
      .map(({ d, s }) => blockFileName(d, s))
  },
  { weight: 2, arbitrary: fc.tuple(known, hex8).map(([i, h]) => KNOWN[i].name.replace(/\.json$/, `.conflict-${h}.json`)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(known, fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), fc.option(fc.nat(12), { nil: undefined }))
      .map(([i, d, n]) => KNOWN[i].name.replace(/\.json$/, `.damaged-${compactTime(d)}${n === undefined ? '' : '-' + n}.json`))
  },
  { weight: 2, arbitrary: fc.tuple(known, fc.nat(99999), hex8).map(([i, pid, r]) => `.tmp-${KNOWN[i].name}-${pid}-${r}`) },
  // names that almost are block names
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'PSD-7-1.json',
      'PSD-07-0000000001.json',
      'PSD-7-00000000001.json',
      'PSD-7-000000001.json',
      'PSD-7-0000000001.JSON',
      'psd-7-0000000001.json',
      'PSD-7-0000000001.json.bak',
      'PSD-7-0000000001.json~',
      ' PSD-7-0000000001.json',
      'PSD-9999999999-0000000001.json',
      'PSD-4294967296-9999999999.json',
      'PSD--1-0000000001.json',
      'PSD-7-0000000001.conflict-ABCDEF12.json',
      'PSD-7-0000000001.damaged-20260528T100000Z-.json',
      '.tmp-',
      '.tmp',
      'notes.txt'
    )
  },
  // anything a directory entry can be called (well-formed Unicode, no '/' or NUL)
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..' && Buffer.byteLength(s) <= 255)
  }
);

/** Changes one field of a good file, to something plausible or not; `reseal` recomputes the checksum. */
type FieldEdit = { field: string; value: unknown | undefined; what: string };

function fieldEdit(k: Known): fc.Arbitrary<FieldEdit> {
  const other = KNOWN.find((x) => x !== k)!;
  const digit = (h: string, at: number) => h.slice(0, at) + (h[at] === '0' ? '1' : '0') + h.slice(at + 1);
  const anyJson = fc.jsonValue({ maxDepth: 2 });
  const iso = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
  const edits: fc.Arbitrary<FieldEdit>[] = [
    fc.oneof(fc.constantFrom(0, 1, 2, 3, 8, -1, 1.5, 4294967295, 4294967296), anyJson).map((v) => ({ field: 'seq', value: v, what: `seq := ${JSON.stringify(v)}` })),
    fc.oneof(fc.constantFrom(0, 6, 8, -7, 7.5, 4294967296), anyJson).map((v) => ({ field: 'device', value: v, what: `device := ${JSON.stringify(v)}` })),
    fc.oneof(fc.constant(other.digest), fc.constant(k.digest.toUpperCase()), fc.constant(k.digest.slice(2)), fc.nat(63).map((at) => digit(k.digest, at)), anyJson).map((v) => ({ field: 'digest', value: v, what: `digest := ${JSON.stringify(v)}` })),
    // block edits inside the digested part (head + records), or anywhere when the checksum is not recomputed
    fc.nat(k.sealAt * 2 - 1).map((at) => ({ field: 'block', value: digit(k.blockHex, at), what: `block hex digit ${at} changed (digested part)` })),
    fc.constantFrom(
      { field: 'block', value: other.blockHex, what: 'block := the other good block' },
      { field: 'block', value: k.blockHex.toUpperCase(), what: 'block in upper case' },
      { field: 'block', value: k.blockHex.slice(0, -2), what: 'block hex one byte short' },
      { field: 'block', value: k.blockHex + '00', what: 'block hex one byte long' },
      { field: 'block', value: k.blockHex.slice(0, -1), what: 'block hex odd length' },
      { field: 'block', value: '', what: 'block empty' }
    ),
    fc.oneof(iso, fc.constantFrom('2026-05-28T10:00:01Z', '2026-05-28', 'yesterday', ''), anyJson).map((v) => ({ field: 'extractedAt', value: v, what: `extractedAt := ${JSON.stringify(v)}` })),
    fc.oneof(fc.string({ maxLength: 30 }), anyJson).map((v) => ({ field: 'port', value: v, what: `port := ${JSON.stringify(v)}` })),
    fc.oneof(fc.constantFrom('stored', 'uploaded', 'confirmed', 'STORED', 'sent', ''), anyJson).map((v) => ({ field: 'status', value: v, what: `status := ${JSON.stringify(v)}` })),
    fc.oneof(iso, anyJson).map((v) => ({ field: 'uploadedAt', value: v, what: `uploadedAt := ${JSON.stringify(v)}` })),
    fc.oneof(iso, anyJson).map((v) => ({ field: 'confirmedAt', value: v, what: `confirmedAt := ${JSON.stringify(v)}` })),
    fc.oneof(fc.constantFrom('psd-block/2', 'psd-block/1 ', 'PSD-BLOCK/1'), anyJson).map((v) => ({ field: 'format', value: v, what: `format := ${JSON.stringify(v)}` })),
    fc.oneof(fc.constant(k.content.checksum.toUpperCase()), fc.constant(other.content.checksum), anyJson).map((v) => ({ field: 'checksum', value: v, what: `checksum := ${JSON.stringify(v)}` })),
    fc.constantFrom(...Object.keys(k.content)).map((f) => ({ field: f, value: undefined, what: `${f} deleted` })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), anyJson).map(([f, v]) => ({ field: f, value: v, what: `field ${JSON.stringify(f)} := ${JSON.stringify(v)}` }))
  ];
  return fc.oneof(...edits);
}

function applyEdits(k: Known, edits: FieldEdit[], reseal: boolean): StoreFile & { kind: 'file' } {
  const j: Record<string, unknown> = JSON.parse(k.text);
  for (const e of edits) {
    if (e.value === undefined) delete j[e.field];
    else j[e.field] = e.value;
  }
  if (reseal) {
    const { checksum: _old, ...rest } = j;
    j.checksum = contentChecksum(rest as Omit<BlockFile, 'checksum'>);
  }
  return { name: k.name, kind: 'file', bytes: Buffer.from(JSON.stringify(j, null, 2) + '\n', 'utf8').toString('latin1'), how: `K${k.seq} with ${edits.map((e) => e.what).join(', ')}${reseal ? ', checksum recomputed' : ''}`, deliberate: reseal, ageMs: 0 };
}

/** A good file whose status moved on, as markUploaded/markConfirmed write it (good by design). */
function statusMoved(k: Known, status: 'uploaded' | 'confirmed'): StoreFile & { kind: 'file' } {
  const edits: FieldEdit[] = [
    { field: 'status', value: status, what: `status ${status}` },
    { field: 'uploadedAt', value: '2026-05-29T08:00:00.000Z', what: 'uploadedAt set' }
  ];
  if (status === 'confirmed') edits.push({ field: 'confirmedAt', value: '2026-05-29T08:00:05.000Z', what: 'confirmedAt set' });
  return applyEdits(k, edits, true);
}

const setByte = (s: string, at: number, v: number) => s.slice(0, at) + String.fromCharCode(v & 0xff) + s.slice(at + 1);

type Content = Omit<StoreFile & { kind: 'file' }, 'name' | 'ageMs'>;
const file = (bytes: string, how: string, deliberate = false): Content => ({ kind: 'file', bytes, how, deliberate });

const content: fc.Arbitrary<Content | { kind: 'dir' } | { kind: 'symlink'; target: string } | { kind: 'sparse'; size: number }> = fc.oneof(
  { weight: 4, arbitrary: known.map((i) => file(KNOWN[i].text, `good K${KNOWN[i].seq}`)) },
  { weight: 1, arbitrary: fc.tuple(known, fc.constantFrom<'uploaded' | 'confirmed'>('uploaded', 'confirmed')).map(([i, s]) => statusMoved(KNOWN[i], s)) },
  // byte flips (1..3 bytes), no checksum recomputed
  {
    weight: 4,
    arbitrary: fc.tuple(known, fc.array(fc.record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 3 })).map(([i, flips]) => {
      let t = KNOWN[i].text;
      for (const f of flips) t = setByte(t, f.at % t.length, t.charCodeAt(f.at % t.length) ^ f.mask);
      return file(t, `K${KNOWN[i].seq} with bytes flipped ${flips.map((f) => `@${f.at % t.length}^0x${f.mask.toString(16)}`).join(' ')}`);
    })
  },
  { weight: 2, arbitrary: fc.tuple(known, fc.nat()).map(([i, n]) => file(KNOWN[i].text.slice(0, n % KNOWN[i].text.length), `K${KNOWN[i].seq} truncated to ${n % KNOWN[i].text.length} bytes`)) },
  {
    weight: 1,
    arbitrary: fc.tuple(known, fc.nat(), byteString(16)).map(([i, at, b]) => {
      const t = KNOWN[i].text;
      const p = at % (t.length + 1);
      return file(t.slice(0, p) + b + t.slice(p), `K${KNOWN[i].seq} with ${b.length} bytes inserted at ${p}`);
    })
  },
  { weight: 5, arbitrary: known.chain((i) => fc.tuple(fc.array(fieldEdit(KNOWN[i]), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([edits, reseal]) => applyEdits(KNOWN[i], edits, reseal))) },
  { weight: 2, arbitrary: byteString(3000).map((b) => file(b, 'random bytes')) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => file(Buffer.from(JSON.stringify(v) ?? '', 'utf8').toString('latin1'), 'random JSON')) },
  // every field present with any value, checksum recomputed: deep in the shape checks
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.constantFrom('format', 'device', 'seq', 'digest', 'block', 'extractedAt', 'port', 'status', 'uploadedAt', 'confirmedAt'), fc.jsonValue({ maxDepth: 1 })).map((j) => {
      const full = { format: STORE_FORMAT, ...j } as Record<string, unknown>;
      full.checksum = contentChecksum(full as Omit<BlockFile, 'checksum'>);
      return file(Buffer.from(JSON.stringify(full), 'utf8').toString('latin1'), 'random fields, checksum recomputed', true);
    })
  },
  { weight: 1, arbitrary: fc.constant(file('', 'empty')) },
  { weight: 1, arbitrary: fc.constant({ kind: 'dir' as const }) },
  { weight: 1, arbitrary: fc.constantFrom('/dev/null', 'no-such-file', '.').map((target) => ({ kind: 'symlink' as const, target })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'symlink' as const, target: '' }) }, // '' = a link to itself: a loop
  { weight: 1, arbitrary: fc.constant({ kind: 'sparse' as const, size: 9 * 1024 * 1024 }) }
);

/** Temp files: a write in progress (young) or a crash leftover (older than an hour). */
const age = fc.oneof(fc.integer({ min: 0, max: 30 * 60 * 1000 }), fc.integer({ min: HOUR + 60000, max: 30 * 24 * HOUR }));

const storeFile: fc.Arbitrary<StoreFile> = fc.tuple(fileName, content, age).map(([name, c, ageMs]) => {
  if (c.kind === 'symlink') return { name, kind: 'symlink', target: c.target || name };
  if (c.kind === 'file') return { ...c, name, ageMs };
  return { ...c, name } as StoreFile;
});

export const storeCase: fc.Arbitrary<StoreCase> = fc.record({
  // a store usually holds good files beside the hostile ones
  files: fc.tuple(fc.subarray(KNOWN), fc.array(storeFile, { maxLength: 4 })).map(([good, hostile]) => [
    ...good.map((k): StoreFile => ({ name: k.name, kind: 'file', bytes: k.text, how: `good K${k.seq}`, deliberate: false, ageMs: 0 })),
    ...hostile
  ]),
  put: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
});

/** The files a case leaves in the directory (a later file of the same name replaces an earlier one). */
function effectiveFiles(c: StoreCase): StoreFile[] {
  const byName = new Map<string, StoreFile>();
  for (const f of c.files) {
    byName.delete(f.name);
    byName.set(f.name, f);
  }
  return [...byName.values()];
}

const isTemp = (name: string) => name.startsWith('.tmp-');

function showFile(f: StoreFile): string {
  if (f.kind === 'dir') return `${JSON.stringify(f.name)}: a directory`;
  if (f.kind === 'symlink') return `${JSON.stringify(f.name)}: a symlink to ${JSON.stringify(f.target)}`;
  if (f.kind === 'sparse') return `${JSON.stringify(f.name)}: a sparse file of ${f.size} bytes`;
  const printable = /^[\x09\x0a\x0d\x20-\x7e]*$/.test(f.bytes);
  const body = printable ? JSON.stringify(f.bytes.length > 3000 ? f.bytes.slice(0, 3000) + '...' : f.bytes) : 'hex ' + hex(f.bytes, 3000);
  return `${JSON.stringify(f.name)}${isTemp(f.name) ? ` (${Math.round(f.ageMs / 60000)} min old)` : ''}: ${f.how}, ${f.bytes.length} bytes: ${body}`;
}

/** A coverage label: what kind of file a case wrote. */
function label(f: StoreFile): string {
  if (f.kind !== 'file') return f.kind === 'symlink' ? `symlink to ${f.target === f.name ? 'itself' : f.target}` : f.kind;
  if (isTemp(f.name)) return f.ageMs > STALE_TEMP_MS ? 'stale temp file' : 'young temp file';
  const kinds: [RegExp, string][] = [
    [/^good/, 'good'],
    [/flipped/, 'bytes flipped'],
    [/truncated/, 'truncated'],
    [/inserted/, 'bytes inserted'],
    [/status (uploaded|confirmed)/, 'status moved on'],
    [/random fields/, 'random fields, checksum recomputed'],
    [/ with .*checksum recomputed$/, 'fields edited, checksum recomputed'],
    [/ with /, 'fields edited']
  ];
  return kinds.find(([re]) => re.test(f.how))?.[1] ?? f.how;
}

// ---- running a case ----------------------------------------------------------------------

async function writeFiles(dir: string, files: StoreFile[]): Promise<void> {
  for (const f of files) {
    const p = path.join(dir, f.name);
    if (f.kind === 'file') {
      await fs.writeFile(p, Buffer.from(f.bytes, 'latin1'));
      if (f.ageMs) {
        const t = (Date.now() - f.ageMs) / 1000;
        await fs.utimes(p, t, t);
      }
    } else if (f.kind === 'dir') await fs.mkdir(p);
    else if (f.kind === 'symlink') await fs.symlink(f.target, p);
    else {
      await fs.writeFile(p, '');
      await fs.truncate(p, f.size);
    }
  }
}

/** What each directory entry is and holds (to see what the store wrote, changed or removed). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const names = await fs.readdir(dir).catch((e) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (!names) return out;
  for (const name of names) {
    const p = path.join(dir, name);
    const st = await fs.lstat(p);
    if (st.isSymbolicLink()) out.set(name, 'symlink ' + (await fs.readlink(p)));
    else if (st.isDirectory()) out.set(name, 'directory');
    else if (st.size > 1024 * 1024) out.set(name, `file of ${st.size} bytes`);
    else out.set(name, 'file ' + nodeCrypto.createHash('sha256').update(await fs.readFile(p)).digest('hex'));
  }
  return out;
}

/** What changed between two snapshots, except stale temp files removed (list() cleans them). */
function changes(before: Map<string, string>, after: Map<string, string>, files: StoreFile[], allowed: (name: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const spec = new Map(files.map((f) => [f.name, f]));
  for (const [name, sig] of before) {
    if (allowed(name)) continue;
    const f = spec.get(name);
    const staleTemp = isTemp(name) && f?.kind === 'file' && f.ageMs > STALE_TEMP_MS;
    if (!after.has(name)) {
      if (!staleTemp) out.push(`${name} was removed`);
    } else if (after.get(name) !== sig) out.push(`${name} was changed (${sig} -> ${after.get(name)})`);
  }
  for (const name of after.keys()) if (!before.has(name) && !allowed(name)) out.push(`${name} was created`);
  return out;
}

type Counter = (what: string, n?: number) => void;

/** The first problem of an entry without its values, for the coverage counts. */
function problemKind(problem: string): string {
  const first = problem.split('; ')[0];
  if (/^unexpected field /.test(first)) return 'unexpected field';
  if (/^status /.test(first)) return 'status is not one of stored, uploaded, confirmed';
  if (/^\d+ bytes: too large/.test(first)) return 'too large to be a block file';
  const m = /^(\w+) is /.exec(first);
  if (m && m[1] !== 'block') return `${m[1]} is malformed`;
  return first.split(/[:(]/)[0].replace(/\d+/g, 'N').trim();
}

/** Every check of list(), pending() and get() on the files of one case. */
async function checkReading(store: BlockStore, files: StoreFile[], count: Counter): Promise<{ finding: Finding | null; list: StoreEntry[] }> {
  const spec = new Map(files.map((f) => [f.name, f]));
  let list: StoreEntry[];
  let pending: Awaited<ReturnType<BlockStore['pending']>>;
  try {
    list = await store.list();
  } catch (e) {
    return { finding: { kind: 'crash', detail: `list() threw: ${(e as Error)?.stack ?? e}` }, list: [] };
  }
  try {
    pending = await store.pending();
  } catch (e) {
    return { finding: { kind: 'crash', detail: `pending() threw: ${(e as Error)?.stack ?? e}` }, list };
  }
  const found = (finding: Finding) => ({ finding, list });

  // every file reported exactly once, nothing else reported (temp files are not listed)
  const listed = new Map<string, StoreEntry>();
  for (const e of list) {
    if (listed.has(e.file)) return found({ kind: 'unanswered', detail: `list() reports ${e.file} twice` });
    if (!spec.has(e.file)) return found({ kind: 'unanswered', detail: `list() reports ${JSON.stringify(e.file)}, which is not in the store` });
    listed.set(e.file, e);
  }
  for (const f of files) {
    if (isTemp(f.name)) {
      if (listed.has(f.name)) return found({ kind: 'unanswered', detail: `list() reports the temp file ${f.name} as an entry` });
    } else if (!listed.has(f.name)) return found({ kind: 'unanswered', detail: `list() does not report ${showFile(f)}` });
  }

  // a good entry is a known block under its own name, its content what the fuzzer wrote
  const good = new Map<string, Known>();
  for (const e of list) {
    if (e.problem !== undefined) {
      if (typeof e.problem !== 'string' || !e.problem) return found({ kind: 'unanswered', detail: `${e.file}: the problem is ${JSON.stringify(e.problem)}, not a message` });
      count(`problem: ${problemKind(e.problem)}`);
      continue;
    }
    const f = spec.get(e.file)!;
    const k = knownByName.get(e.file);
    const shown = showFile(f);
    if (!k || f.kind !== 'file') return found({ kind: 'state', detail: `list() reports ${shown} as good (kind ${e.kind}, device ${e.device} seq ${e.seq})` });
    let j: any;
    try {
      j = JSON.parse(Buffer.from(f.bytes, 'latin1').toString('utf8'));
    } catch {
      return found({ kind: 'state', detail: `list() reports a file that is not JSON as good: ${shown}` });
    }
    if (j.block !== k.blockHex || j.digest !== k.digest || j.device !== k.device || j.seq !== k.seq)
      return found({ kind: 'state', detail: `list() reports ${shown} as good, but its block, digest, device or seq are not those of the block sealed as ${k.name}` });
    if (!f.deliberate && !isDeepStrictEqual(j, k.content)) return found({ kind: 'state', detail: `list() reports ${shown} as good, though its content was changed without a new checksum` });
    if (e.kind !== 'block' || e.device !== k.device || e.seq !== k.seq || e.digest !== k.digest || e.status !== j.status)
      return found({ kind: 'state', detail: `list() reports ${e.file} with ${JSON.stringify(e)}, the file holds device ${k.device} seq ${k.seq} digest ${k.digest} status ${j.status}` });
    good.set(e.file, k);
    count('good entries');
  }

  // pending(): exactly the good entries not yet confirmed, with the sealed bytes
  for (const p of pending) {
    const k = good.get(p.file);
    if (!k) return found({ kind: 'state', detail: `pending() hands out ${p.file}, which list() does not report as good` });
    if (p.bytes !== k.bytes || p.content.block !== k.blockHex || p.content.status === 'confirmed')
      return found({ kind: 'state', detail: `pending() hands out ${p.file} with ${p.content.status} content that is not the sealed block ${k.name}` });
  }
  for (const [name] of good) {
    const confirmed = listed.get(name)!.status === 'confirmed';
    const handed = pending.some((p) => p.file === name);
    if (!confirmed && !handed) return found({ kind: 'unanswered', detail: `pending() does not hand out the good block ${name}` });
    if (confirmed && handed) return found({ kind: 'state', detail: `pending() hands out the confirmed block ${name}` });
  }
  count('blocks pending', pending.length);

  // get() of every name a (device, seq) makes, and of the known blocks
  const asked = new Map<string, [number, number]>();
  for (const k of KNOWN) asked.set(k.name, [k.device, k.seq]);
  for (const f of files) {
    const m = /^PSD-(0|[1-9]\d{0,9})-(\d{10})\.json$/.exec(f.name);
    if (m && Number(m[1]) <= 0xffffffff && Number(m[2]) <= 0xffffffff && blockFileName(Number(m[1]), Number(m[2])) === f.name) asked.set(f.name, [Number(m[1]), Number(m[2])]);
  }
  for (const [name, [device, seq]] of asked) {
    const f = spec.get(name);
    const entry = listed.get(name);
    let got;
    try {
      got = await store.get(device, seq);
    } catch (e) {
      if (!(e instanceof StoreError)) return found({ kind: 'crash', detail: `get(${device}, ${seq}) threw ${(e as Error)?.name}, not a StoreError, for ${f ? showFile(f) : 'no file'}: ${(e as Error)?.stack ?? e}` });
      if (!entry?.problem) return found({ kind: 'state', detail: `get(${device}, ${seq}) refused ${f ? showFile(f) : 'no file'}, which list() reports as good: ${e.message}` });
      count('get: StoreError for a damaged file');
      continue;
    }
    if (got === undefined) {
      // a symlink to nowhere is no file; anything else there must be reported
      if (f && !(f.kind === 'symlink' && entry?.problem)) return found({ kind: entry?.problem ? 'state' : 'unanswered', detail: `get(${device}, ${seq}) says there is no block, but the store holds ${showFile(f)}${entry?.problem ? ' (damaged: ' + entry.problem + ')' : ''}` });
      count('get: no block');
      continue;
    }
    const k = good.get(name);
    if (!k || got.bytes !== k.bytes || got.file !== name) return found({ kind: 'state', detail: `get(${device}, ${seq}) hands out ${f ? showFile(f) : 'no file'} as good${entry?.problem ? ', though list() reports: ' + entry.problem : ''}` });
    count('get: good block');
  }
  return { finding: null, list };
}

/** put() of the first good block over whatever the case left: stored, exists or repaired. */
async function checkPut(store: BlockStore, files: StoreFile[], list: StoreEntry[], count: Counter, dir: string): Promise<Finding | null> {
  const k = KNOWN[0];
  const spec = files.find((f) => f.name === k.name);
  const entry = list.find((e) => e.file === k.name);
  const before = await snapshot(dir);
  let r;
  try {
    r = await store.put(k.bytes, { port: k.port, extractedAt: k.extractedAt });
  } catch (e) {
    return { kind: 'crash', detail: `put() of the good block ${k.name} threw over ${spec ? showFile(spec) : 'no file'}: ${(e as Error)?.stack ?? e}` };
  }
  count(`put: ${r.outcome}`);
  const expected = !spec || !entry ? 'stored' : entry.problem ? 'replaced-damaged' : 'exists';
  if (r.outcome !== expected)
    return { kind: 'state', detail: `put() of the good block ${k.name} answered ${r.outcome} over ${spec ? showFile(spec) : 'no file'}; expected ${expected}` };
  const after = await snapshot(dir);
  const aside = r.damagedCopy;
  if (r.outcome === 'replaced-damaged') {
    if (!aside || !/^PSD-7-0000000001\.damaged-\d{8}T\d{6}Z(-\d+)?\.json$/.test(aside) || before.has(aside))
      return { kind: 'state', detail: `put() set the damaged file aside as ${JSON.stringify(aside)}` };
    if (after.get(aside) !== before.get(k.name)) return { kind: 'state', detail: `the damaged copy ${aside} (${after.get(aside)}) is not the damaged file (${before.get(k.name)})` };
  }
  const want = 'file ' + nodeCrypto.createHash('sha256').update(k.text).digest('hex');
  if (r.outcome !== 'exists' && after.get(k.name) !== want) return { kind: 'state', detail: `after put(), ${k.name} is ${after.get(k.name)}, not the file put() writes for the block` };
  const changed = changes(before, after, files, (name) => name === k.name || name === aside);
  if (changed.length) return { kind: 'state', detail: `put() of ${k.name} over ${spec ? showFile(spec) : 'no file'}: ${changed.join('; ')}` };
  let got;
  try {
    got = await store.get(k.device, k.seq);
  } catch (e) {
    return { kind: 'state', detail: `after put(), get() refuses the block: ${(e as Error).message}` };
  }
  if (got?.bytes !== k.bytes) return { kind: 'state', detail: `after put(), get() does not return the block put` };
  return null;
}

export interface StoreTargetOptions {
  /** the store under test (a subclass with a bug planted shows the checks catch it) */
  makeStore?: (dir: string) => BlockStore;
}

export function storeTarget(opts: StoreTargetOptions = {}): FuzzTarget<StoreCase> {
  const makeStore = opts.makeStore ?? ((dir: string) => new BlockStore(dir));
  return {
    name: 'store',
    description: 'host-bridge/store.ts BlockStore list/pending/get/put over hostile files in the store directory',
    arbitrary: storeCase,
    caseBoundMs: 5000,
    show(c) {
      const files = effectiveFiles(c);
      return `${files.length ? files.map(showFile).join('\n  ') : 'no store directory'}${c.put ? '\n  then put() the good block ' + KNOWN[0].name : ''}`;
    },
    async open() {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), 'fuzz-store-'));
      const dir = path.join(root, 'blocks');
      // the files here are put()'s own: if the store's format changes, this target must follow
      for (const k of KNOWN) {
        const r = await new BlockStore(dir).put(k.bytes, { port: k.port, extractedAt: k.extractedAt });
        const written = await fs.readFile(path.join(dir, r.file), 'utf8');
        if (r.file !== k.name || written !== k.text) throw new Error(`store fuzz target: put() wrote ${r.file} as\n${written}\nthe target expects ${k.name} as\n${k.text}\n(update knownBlock() in testkit/fuzz/store-target.ts)`);
      }
      const seen: { [what: string]: number } = {};
      const count: Counter = (what, n = 1) => (seen[what] = (seen[what] ?? 0) + n);
      return {
        coverage: () => seen,
        async runCase(c: StoreCase): Promise<Finding | null> {
          await fs.rm(dir, { recursive: true, force: true });
          const files = effectiveFiles(c);
          if (files.length) {
            await fs.mkdir(dir);
            await writeFiles(dir, files);
          }
          for (const f of files) count(`files: ${label(f)}`);
          const before = await snapshot(dir);
          const store = makeStore(dir);
          const { finding, list } = await checkReading(store, files, count);
          if (finding) return finding;
          if (!files.length && (await fs.stat(dir).then(() => true, () => false))) return { kind: 'state', detail: 'reading a store that does not exist created its directory' };
          const after = await snapshot(dir);
          const changed = changes(before, after, files);
          if (changed.length) return { kind: 'state', detail: `reading the store changed it: ${changed.join('; ')}` };
          count('stale temp files removed', [...before.keys()].filter((n) => isTemp(n) && !after.has(n)).length);
          if (c.put) return checkPut(store, files, list, count, dir);
          return null;
        },
        async close() {
          await fs.rm(root, { recursive: true, force: true });
        }
      };
    }
  };
}
