// Fuzz target store (store-target.ts): the blocks it knows and its inputs, files of every
// kind, name and age put into a host store folder.
import fc from 'fast-check';
import nodeCrypto from 'node:crypto';
import { encodeBlock, encodeBlockHead, blockDigest, sealMessage, SEAL_HMAC, type BlockHeader } from '../../protocol/block.ts';
import { RECORD_BYTES, type CumulativeRecord } from '../../protocol/records.ts';
import { encodeRecord } from '../../protocol/record-codec.ts';
import { blockFileName, contentChecksum, STALE_TEMP_MS, STORE_FORMAT, type BlockFile } from '../../host-bridge/store.ts';
import { byteString, hex } from './wire.ts';

export const sha256 = (s: string) => nodeCrypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
export const DEVICE_KEY = sha256('psd fuzz store device key');
export const DEVICE = 7;

/** A block the fuzzer sealed, and its file as put() writes it. */
export interface Known {
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

export function knownBlock(seq: number): Known {
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

export const KNOWN = [knownBlock(1), knownBlock(2)];
export const knownByName = new Map(KNOWN.map((k) => [k.name, k]));

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

export const HOUR = 3600 * 1000;
export const known = fc.constantFrom(0, 1);
export const hex8 = fc.integer({ min: 0, max: 0xffffffff }).map((n) => n.toString(16).padStart(8, '0'));
export const compactTime = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

export const fileName: fc.Arbitrary<string> = fc.oneof(
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
export type FieldEdit = { field: string; value: unknown | undefined; what: string };

export function fieldEdit(k: Known): fc.Arbitrary<FieldEdit> {
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

export function applyEdits(k: Known, edits: FieldEdit[], reseal: boolean): StoreFile & { kind: 'file' } {
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
export function statusMoved(k: Known, status: 'uploaded' | 'confirmed'): StoreFile & { kind: 'file' } {
  const edits: FieldEdit[] = [
    { field: 'status', value: status, what: `status ${status}` },
    { field: 'uploadedAt', value: '2026-05-29T08:00:00.000Z', what: 'uploadedAt set' }
  ];
  if (status === 'confirmed') edits.push({ field: 'confirmedAt', value: '2026-05-29T08:00:05.000Z', what: 'confirmedAt set' });
  return applyEdits(k, edits, true);
}

export const setByte = (s: string, at: number, v: number) => s.slice(0, at) + String.fromCharCode(v & 0xff) + s.slice(at + 1);

export type Content = Omit<StoreFile & { kind: 'file' }, 'name' | 'ageMs'>;
export const file = (bytes: string, how: string, deliberate = false): Content => ({ kind: 'file', bytes, how, deliberate });

export const content: fc.Arbitrary<Content | { kind: 'dir' } | { kind: 'symlink'; target: string } | { kind: 'sparse'; size: number }> = fc.oneof(
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
export const age = fc.oneof(fc.integer({ min: 0, max: 30 * 60 * 1000 }), fc.integer({ min: HOUR + 60000, max: 30 * 24 * HOUR }));

export const storeFile: fc.Arbitrary<StoreFile> = fc.tuple(fileName, content, age).map(([name, c, ageMs]) => {
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
export function effectiveFiles(c: StoreCase): StoreFile[] {
  const byName = new Map<string, StoreFile>();
  for (const f of c.files) {
    byName.delete(f.name);
    byName.set(f.name, f);
  }
  return [...byName.values()];
}

export const isTemp = (name: string) => name.startsWith('.tmp-');

export function showFile(f: StoreFile): string {
  if (f.kind === 'dir') return `${JSON.stringify(f.name)}: a directory`;
  if (f.kind === 'symlink') return `${JSON.stringify(f.name)}: a symlink to ${JSON.stringify(f.target)}`;
  if (f.kind === 'sparse') return `${JSON.stringify(f.name)}: a sparse file of ${f.size} bytes`;
  const printable = /^[\x09\x0a\x0d\x20-\x7e]*$/.test(f.bytes);
  const body = printable ? JSON.stringify(f.bytes.length > 3000 ? f.bytes.slice(0, 3000) + '...' : f.bytes) : 'hex ' + hex(f.bytes, 3000);
  return `${JSON.stringify(f.name)}${isTemp(f.name) ? ` (${Math.round(f.ageMs / 60000)} min old)` : ''}: ${f.how}, ${f.bytes.length} bytes: ${body}`;
}

/** A coverage label: what kind of file a case wrote. */
export function label(f: StoreFile): string {
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
