// Fuzz target `pss`: the PSS's TCP input (server/service.ts over server/datacenter.ts in a
// temp dir, as `pss serve` runs it). Each case opens a connection and writes hostile bytes,
// split across TCP writes: random bytes, floods, and frames of every request type
// (protocol/pss-wire.ts) with valid, hostile or random JSON, uploads of sealed blocks (valid,
// stored, gap, replay, revoked, unknown, uncertified, wrong algorithm, implausible) whole
// or in parts, block bytes flipped, cut or extended, and every frame mutation of wire.ts.
// Its verdicts:
//   crash       an INTERNAL error answer or an internal error in the service's log (a handler
//               threw something it did not mean to); the service stops accepting connections
//   hang        after the case, a `hello` on a fresh connection gets no answer within 3 s
//   state       the database (devices, blocks, records, funds_resets, meta) differs from what
//               the answered requests allow: only a register, certify, funds or upload
//               answered with success may change it, and only the rows it names, as it says
//               (an upload stores only a block this fuzzer sealed, next in its chain); or a
//               request that must be refused (revoked or unknown device, another key, a
//               forged block) was answered with success
//   unanswered  an intact frame (as the documented decoder finds it) got no answer before the
//               connection closed, or one with the wrong seq or type, an error that is not
//               {code, message} with a protocol/pss-errors.ts code, the wrong code for a bad
//               version, payload or type, or a retransmission not answered as the first time
// The rejections table is the operator's log of refused uploads and may grow. After a case
// that changed the database, its tables are put back from a snapshot taken at the start
// (Store.restoreFrom), so every case starts from the same registry and blocks. Plain
// connections are devices': register, certify, funds and sessions with funds or rekey are
// refused there (NOT_AUTHORISED, an error answer like any other); test/pss-roles.test.ts
// covers them over TLS.
import fc from 'fast-check';
import nodeCrypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openDataCenter, type DataCenter } from '../../server/datacenter.ts';
import { startService, type Service } from '../../server/service.ts';
import { PssRequest, PssRequestName } from '../../protocol/pss-wire.ts';
import { PssErrorCode } from '../../protocol/pss-errors.ts';
import { MASTER_KEY_FILE, CA_SEED_FILE } from '../../server/keyfiles.ts';
import { sampleRecords } from '../../server/sample-blocks.ts';
import { encodeBlockHead, blockDigest, sealMessage, SEAL_HMAC, SEAL_ED25519, type BlockHeader } from '../../protocol/block.ts';
import { encodeRecord, type CumulativeRecord } from '../../protocol/records.ts';
import { PROTOCOL_VERSION, RESPONSE_FLAG, ERROR_TYPE, MAX_PAYLOAD_BYTES, HEADER_BYTES, CRC_BYTES } from '../../protocol/frame.ts';
import { asciiJson, MAX_U48 } from '../../protocol/bytes.ts';
import type { FuzzTarget, Finding } from './framework.ts';
import { rawFrame, mutation, mutate, byteString, falseSync, chunked, pieces, hex, type Mutation, type Stream } from './wire.ts';
import { specDecode } from './frame-target.ts';

// ---- the fuzzer's devices and blocks -------------------------------------------------------

const sha256 = (s: string) => nodeCrypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
const toHex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/** An Ed25519 key from a fixed seed (node:crypto, PKCS#8 around the seed), so runs repeat. */
function edKey(label: string) {
  const seed = nodeCrypto.createHash('sha256').update(label).digest();
  const priv = nodeCrypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const publicKey = nodeCrypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32).toString('latin1');
  return { publicKey, sign: (m: string) => nodeCrypto.sign(null, Buffer.from(m, 'latin1'), priv).toString('latin1') };
}
const hmacSeal = (key: string) => (m: string) => nodeCrypto.createHmac('sha256', Buffer.from(key, 'latin1')).update(Buffer.from(m, 'latin1')).digest().toString('latin1');

const ED = edKey('psd fuzz pss: device 1002');
const ED_UNCERTIFIED = edKey('psd fuzz pss: device 1004');
const ED_PUBLIC_HEX = toHex(ED.publicKey);

/** The devices the data center holds before every case (registered in this order: 1001...). */
const SERIALS = { 1001: 'FUZZ-HMAC', 1002: 'FUZZ-ED', 1003: 'FUZZ-REVOKED', 1004: 'FUZZ-ED-NEW' } as const;
const BOARDS = { 1001: 'pico', 1002: 'esp32', 1003: 'pico', 1004: 'esp32' } as const;

interface Sealed {
  raw: string;
  header: BlockHeader;
  records: CumulativeRecord[];
  digestHex: string;
}

/** A block sealed the PSD's way, chained on `previous` (registers, from = previous to). */
function seal(device: number, algorithm: number, sign: (m: string) => string, records: CumulativeRecord[], previous?: BlockHeader, seq = (previous?.seq ?? 0) + 1): Sealed {
  const funds = 100_000_000;
  const pieces = records.reduce((s, r) => s + r.pieces, 0);
  const amount = records.reduce((s, r) => s + r.amount, 0);
  const prevAR = previous?.ascending ?? 0;
  const prevPieces = previous?.pieces ?? 0;
  const from = previous?.to ?? 1_790_000_000;
  const header: BlockHeader = {
    algorithm,
    recordCount: records.length,
    device,
    seq,
    from,
    to: from + 86400,
    ascending: prevAR + amount,
    descending: funds - prevAR - amount,
    pieces: prevPieces + pieces,
    previousAscending: prevAR,
    previousPieces: prevPieces,
    fundsTotal: funds,
    customers: [...new Set(records.map((r) => r.customer))].sort((a, b) => a - b)
  };
  const head = encodeBlockHead(header);
  const body = records.map(encodeRecord).join('');
  const digest = blockDigest(sha256, head, body);
  return { raw: head + body + sign(sealMessage(digest)), header, records, digestHex: toHex(digest) };
}

/** Blocks the fuzzer can upload, by name. */
const BLOCK_REFS = [
  'hmac-1', // stored: a repeat
  'hmac-2', // stored: a repeat
  'hmac-3', // the next block: accepted
  'hmac-4', // after hmac-3: a gap alone, accepted right after hmac-3
  'hmac-2-other', // seq 2 with other records, sealed: a replay
  'hmac-3-implausible', // seq 3, sealed, registers do not follow block 2
  'hmac-3-ed25519', // device 1001's seq 3 signed Ed25519: wrong algorithm
  'ed-1', // stored: a repeat
  'ed-2', // the next block: accepted
  'ed-2-hmac', // device 1002's seq 2 with an HMAC seal: wrong algorithm
  'ed-new-1', // device 1004 has no certified key
  'revoked-1', // device 1003 is revoked
  'unknown-1' // device 1005 is not registered
] as const;
type BlockRef = (typeof BLOCK_REFS)[number];

interface Facts {
  blocks: Record<BlockRef, Sealed>;
  /** the blocks that may be stored, by "device/seq": each only as the next of its chain */
  chains: Map<string, Sealed>;
}

function makeBlocks(keys: { 1001: string; 1003: string }): Facts {
  const recs = (seed: number, n = 3) => sampleRecords(n, [4001, 4002, 4003], seed);
  const sealHmac = hmacSeal(keys[1001]);
  const h1 = seal(1001, SEAL_HMAC, sealHmac, recs(1));
  const h2 = seal(1001, SEAL_HMAC, sealHmac, recs(2), h1.header);
  const h3 = seal(1001, SEAL_HMAC, sealHmac, recs(3), h2.header);
  const h4 = seal(1001, SEAL_HMAC, sealHmac, recs(4), h3.header);
  const e1 = seal(1002, SEAL_ED25519, ED.sign, recs(5));
  const e2 = seal(1002, SEAL_ED25519, ED.sign, recs(6), e1.header);
  const blocks: Record<BlockRef, Sealed> = {
    'hmac-1': h1,
    'hmac-2': h2,
    'hmac-3': h3,
    'hmac-4': h4,
    'hmac-2-other': seal(1001, SEAL_HMAC, sealHmac, recs(7), h1.header),
    'hmac-3-implausible': seal(1001, SEAL_HMAC, sealHmac, recs(8), h1.header, 3),
    'hmac-3-ed25519': seal(1001, SEAL_ED25519, ED.sign, recs(3), h2.header),
    'ed-1': e1,
    'ed-2': e2,
    'ed-2-hmac': seal(1002, SEAL_HMAC, sealHmac, recs(6), e1.header),
    'ed-new-1': seal(1004, SEAL_ED25519, ED_UNCERTIFIED.sign, recs(9)),
    'revoked-1': seal(1003, SEAL_HMAC, hmacSeal(keys[1003]), recs(10)),
    'unknown-1': seal(1005, SEAL_HMAC, hmacSeal(sha256('no such device')), recs(11))
  };
  const chains = new Map([h1, h2, h3, h4, e1, e2].map((b) => [`${b.header.device}/${b.header.seq}`, b]));
  return { blocks, chains };
}

// ---- inputs ------------------------------------------------------------------------------------

type BlockMutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; bytes: string }
  /** a big-endian u32 header field (8 device, 12 seq, 16 from, 36 pieces) set without resealing */
  | { kind: 'field'; offset: number; value: number };

export type PssSegment =
  /** one request frame: `payload` is the JSON text, or any bytes */
  | { kind: 'request'; version: number; type: number; seq: number; payload: string; mutation: Mutation }
  /** a block uploaded in `parts` frames (seq, seq+1, ...); the mutation hits frame `hit` */
  | { kind: 'upload'; seq: number; block: BlockRef; change: BlockMutation; parts: number; lastMore: boolean; upper: boolean; hit: number; mutation: Mutation }
  | { kind: 'bytes'; bytes: string };

export interface PssCase {
  segments: PssSegment[];
  /** where the TCP writes split the bytes */
  cuts: number[];
}

const json = fc.jsonValue({ maxDepth: 2 });
const deviceValue = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(1001, 1002, 1003, 1004) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 1000, 1005, 4294967295, 4294967296, -1001, 1001.5, 1e300, '1001') },
  { weight: 1, arbitrary: json }
);
const amountValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, MAX_U48, MAX_U48 + 1, 2 ** 53, 1e300, '100', null, true) },
  { weight: 1, arbitrary: json }
);
const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((u) => Buffer.from(u).toString('hex'));
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** A JSON object with the fields a request takes (some missing, some hostile), plus junk fields. */
function object(fields: { [k: string]: fc.Arbitrary<unknown> }): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(fields);
  return fc
    .tuple(fc.record(fields, { requiredKeys: keys.length ? [keys[0]] : [] }), fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 3 }) }))
    .map(([a, extra]) => ({ ...extra, ...a }));
}

const registerBody = object({
  serial: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...Object.values(SERIALS)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,64}$/) }, // a new board: registered
    { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('', ' ', 'A B', 'x'.repeat(65), 'FUZZ-HMAC\n', 'é'), json) }
  ),
  board: fc.oneof(fc.constantFrom('pico', 'esp32', 'linux', 'banglejs2', 'original', 'puckjs', 'wifi', 'mdbt42q'), fc.constantFrom('PICO', '', 'nope', '../pico', '__proto__', 'toString'), json),
  seal: fc.oneof(fc.constantFrom('hmac', 'ed25519', 'HMAC', 'rsa', ''), json)
});

const bodies: { [type: number]: fc.Arbitrary<unknown> } = {
  [PssRequest.HELLO]: fc.oneof(fc.constant({}), object({})),
  [PssRequest.STATUS]: fc.oneof(fc.constant({}), object({ device: deviceValue })),
  [PssRequest.REGISTER]: fc.oneof(
    // a board registered before (its device back), or a new one (registered)
    fc.constantFrom(1001, 1002, 1003, 1004).map((d) => ({ serial: SERIALS[d], board: BOARDS[d] })),
    fc.tuple(fc.stringMatching(/^[\x21-\x7e]{1,64}$/), fc.constantFrom('pico', 'esp32')).map(([serial, board]) => ({ serial, board })),
    registerBody
  ),
  [PssRequest.CERTIFY]: object({
    device: deviceValue,
    publicKey: fc.oneof(fc.constant(ED_PUBLIC_HEX), fc.constant(ED_PUBLIC_HEX.toUpperCase()), hexOf(32), hexOf(31), hexOf(33), fc.constantFrom('', 'zz'.repeat(32)), json)
  }),
  [PssRequest.FUNDS]: object({ device: deviceValue, amount: amountValue }),
  [PssRequest.SESSION_BEGIN]: object({ device: deviceValue, funds: optional(amountValue), config: optional(json), rekey: optional(fc.oneof(fc.boolean(), json)) }),
  [PssRequest.SESSION_NEXT]: fc.oneof(
    object({ device: deviceValue, nonce: fc.oneof(hexOf(16), json), x25519: optional(fc.oneof(hexOf(32), json)), keyVersion: optional(fc.oneof(fc.nat(3), json)) }),
    object({ m: fc.oneof(hexOf(40), fc.constant(''), json) }),
    object({ error: fc.oneof(object({ code: json, message: json, detail: json }), json) }),
    json
  ),
  [PssRequest.SESSION_END]: fc.oneof(fc.constant({}), object({})),
  [PssRequest.UPLOAD]: object({ hex: fc.oneof(hexOf(20), fc.constantFrom('', '0', 'zz', '00'.repeat(480)), json), more: optional(fc.oneof(fc.boolean(), json)) })
};
const KNOWN_TYPES = Object.values(PssRequest) as number[];

const payloadFor = (type: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: (bodies[type] ?? object({})).map((b) => asciiJson(b).slice(0, MAX_PAYLOAD_BYTES)) },
    { weight: 1, arbitrary: json.map((j) => asciiJson(j).slice(0, MAX_PAYLOAD_BYTES)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{}}', '[]', 'null', '"x"', '{"a":1,"a":2}', '{"__proto__":{"device":1001}}', '{"device":1001,"amount":5}'.repeat(2)) },
    { weight: 1, arbitrary: byteString(120) }
  );

const frameMutation = fc.oneof({ weight: 4, arbitrary: fc.constant<Mutation>({ kind: 'none' }) }, { weight: 1, arbitrary: mutation });

const requestSegment: fc.Arbitrary<PssSegment> = fc
  .oneof({ weight: 14, arbitrary: fc.constantFrom(...KNOWN_TYPES) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) })
  .chain((type) =>
    fc.record({
      kind: fc.constant('request' as const),
      version: fc.oneof({ weight: 20, arbitrary: fc.constant(PROTOCOL_VERSION) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
      type: fc.constant(type),
      seq: fc.integer({ min: 0, max: 0xffff }),
      payload: payloadFor(type),
      mutation: frameMutation
    })
  );

const blockMutation: fc.Arbitrary<BlockMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<BlockMutation>({ kind: 'none' }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: byteString(64) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('field' as const), offset: fc.constantFrom(8, 12, 16, 36), value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 1001, 1002, 1005), fc.integer({ min: 0, max: 0xffffffff })) }) }
);

const uploadSegment: fc.Arbitrary<PssSegment> = fc.record({
  kind: fc.constant('upload' as const),
  seq: fc.integer({ min: 0, max: 0xffff }),
  block: fc.constantFrom(...BLOCK_REFS),
  change: blockMutation,
  parts: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) }),
  lastMore: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  upper: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  hit: fc.nat(2),
  mutation: frameMutation
});

const segment: fc.Arbitrary<PssSegment> = fc.oneof(
  { weight: 10, arbitrary: requestSegment },
  { weight: 4, arbitrary: uploadSegment },
  { weight: 1, arbitrary: byteString(300).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  { weight: 1, arbitrary: falseSync.map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  // more than the 4,096 bytes of garbage after which the service closes the connection
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 6000 }).map((n) => ({ kind: 'bytes' as const, bytes: nodeCrypto.createHash('sha512').update(String(n)).digest().toString('latin1').repeat(Math.ceil(n / 64)).slice(0, n) })) }
);

export const pssCase: fc.Arbitrary<PssCase> = fc.record({
  segments: fc.oneof({ weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 1 }) }, { weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }) }),
  cuts: fc.array(fc.nat(), { maxLength: 5 })
});

function changeBlock(raw: string, m: BlockMutation): string {
  switch (m.kind) {
    case 'none':
      return raw;
    case 'flip': {
      const at = m.at % raw.length;
      return raw.slice(0, at) + String.fromCharCode(raw.charCodeAt(at) ^ m.mask) + raw.slice(at + 1);
    }
    case 'truncate':
      return raw.slice(0, m.keep % raw.length);
    case 'append':
      return raw + m.bytes;
    case 'field': {
      const v = m.value >>> 0;
      return raw.slice(0, m.offset) + String.fromCharCode(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255) + raw.slice(m.offset + 4);
    }
  }
}

/** The frames of one segment, in order. */
function segmentBytes(g: PssSegment, facts: Facts): string {
  if (g.kind === 'bytes') return g.bytes;
  if (g.kind === 'request') return mutate(rawFrame(g.version, g.type, g.seq, g.payload), g.mutation);
  let h = toHex(changeBlock(facts.blocks[g.block].raw, g.change));
  if (g.upper) h = h.toUpperCase();
  const size = Math.ceil(h.length / 2 / g.parts) * 2 || 2;
  const frames: string[] = [];
  for (let i = 0; i < g.parts; i++) {
    const more = i < g.parts - 1 || g.lastMore;
    const f = rawFrame(PROTOCOL_VERSION, PssRequest.UPLOAD, (g.seq + i) & 0xffff, asciiJson(more ? { hex: h.slice(i * size, (i + 1) * size), more: true } : { hex: h.slice(i * size, (i + 1) * size) }));
    frames.push(i === g.hit % g.parts ? mutate(f, g.mutation) : f);
  }
  return frames.join('');
}

const typeName = (t: number) => PssRequestName[t] ?? `type 0x${t.toString(16)}`;

function showSegment(g: PssSegment): string {
  const m = (x: Mutation) => (x.kind === 'none' ? '' : ` then ${JSON.stringify(x)}`);
  if (g.kind === 'bytes') return `bytes (${g.bytes.length}) ${hex(g.bytes, 200)}`;
  if (g.kind === 'request') return `frame v${g.version} ${typeName(g.type)} seq ${g.seq} payload ${JSON.stringify(g.payload)}${m(g.mutation)}`;
  return `upload ${g.block}${g.change.kind === 'none' ? '' : ' changed ' + JSON.stringify(g.change)} in ${g.parts} part(s)${g.lastMore ? ' all with more' : ''}${g.upper ? ', upper-case hex' : ''}, seq ${g.seq}..${g.seq + g.parts - 1}${g.mutation.kind === 'none' ? '' : `, part ${g.hit % g.parts} then ${JSON.stringify(g.mutation)}`}`;
}

// ---- the database, before and after ------------------------------------------------------------

type Row = Record<string, unknown>;
/** Columns a new row gets from the clock: not compared. */
const ANY = Symbol('any value');

interface Tables {
  devices: Map<number, Row>;
  blocks: Map<string, Row>;
  records: Map<string, string[]>;
  funds: Map<string, Row>;
  meta: string;
}

function tables(dc: DataCenter): Tables {
  const plain = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]));
  const records = new Map<string, string[]>();
  for (const r of dc.store.all('SELECT * FROM records')) {
    const k = `${r.device}/${r.seq}`;
    if (!records.has(k)) records.set(k, []);
    records.get(k)!.push(JSON.stringify(r));
  }
  for (const list of records.values()) list.sort();
  return {
    devices: new Map(dc.store.all('SELECT * FROM devices').map((r) => [r.device as number, plain(r)])),
    blocks: new Map(dc.store.all('SELECT * FROM blocks').map((r) => [`${r.device}/${r.seq}`, plain(r)])),
    records,
    funds: new Map(dc.store.all('SELECT * FROM funds_resets').map((r) => [`${r.device}/${r.counter}`, plain(r)])),
    meta: JSON.stringify(dc.store.all('SELECT * FROM meta ORDER BY key'))
  };
}

function cloneTables(t: Tables): Tables {
  return {
    devices: new Map([...t.devices].map(([k, v]) => [k, { ...v }])),
    blocks: new Map([...t.blocks].map(([k, v]) => [k, { ...v }])),
    records: new Map([...t.records].map(([k, v]) => [k, [...v]])),
    funds: new Map([...t.funds].map(([k, v]) => [k, { ...v }])),
    meta: t.meta
  };
}

function rowDiff(want: Row, got: Row): string | null {
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (want[k] === ANY) continue;
    if (want[k] !== got[k]) return `${k} is ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`;
  }
  return null;
}

/** The first difference between the expected and the actual tables, or null. */
function tableDiff(want: Tables, got: Tables): string | null {
  const maps: [string, Map<unknown, Row>, Map<unknown, Row>][] = [
    ['devices', want.devices, got.devices],
    ['blocks', want.blocks, got.blocks],
    ['funds_resets', want.funds, got.funds]
  ];
  for (const [table, w, g] of maps) {
    for (const [k, row] of g) {
      if (!w.has(k)) return `${table}: a row ${k} appeared: ${JSON.stringify(row)}`;
      const d = rowDiff(w.get(k)!, row);
      if (d) return `${table} ${k}: ${d}`;
    }
    for (const k of w.keys()) if (!g.has(k)) return `${table}: row ${k} is missing`;
  }
  for (const k of new Set([...want.records.keys(), ...got.records.keys()])) {
    const w = JSON.stringify(want.records.get(k) ?? []);
    const g = JSON.stringify(got.records.get(k) ?? []);
    if (w !== g) return `records of block ${k}: ${g.slice(0, 400)}, expected ${w.slice(0, 400)}`;
  }
  if (want.meta !== got.meta) return `meta: ${got.meta}, expected ${want.meta}`;
  return null;
}

const SEALS: { [name: string]: number } = { hmac: SEAL_HMAC, ed25519: SEAL_ED25519 };

/** What an answered request allows, applied to the expected tables; a message if it must have been refused. */
function allow(want: Tables, type: number, req: Record<string, any>, ans: Record<string, any>, facts: Facts): string | null {
  const active = (d: unknown) => {
    const row = want.devices.get(d as number);
    return row && row.status === 'active' ? row : undefined;
  };
  switch (type) {
    case PssRequest.REGISTER: {
      const row = want.devices.get(ans.device);
      const other = [...want.devices.values()].find((r) => r.serial === req.serial && r.status === 'active');
      if (row) {
        if (row.serial !== req.serial || row.board !== req.board || row.status !== 'active') return `register of serial ${JSON.stringify(req.serial)} (${req.board}) answered device ${ans.device}, which is ${row.serial} (${row.board}, ${row.status})`;
        return null;
      }
      if (other) return `register of serial ${JSON.stringify(req.serial)} made device ${ans.device}, though the serial is active as device ${other.device}`;
      want.devices.set(ans.device, {
        device: ans.device,
        serial: req.serial,
        board: req.board,
        seal: SEALS[ans.seal],
        public_key: null,
        certificate: null,
        status: 'active',
        funds_counter: 0,
        key_version: 0,
        pending_key_version: null,
        registered_at: ANY,
        revoked_at: null
      });
      return null;
    }
    case PssRequest.CERTIFY: {
      const row = active(req.device);
      const key = String(req.publicKey).toLowerCase();
      if (!row || row.seal !== SEAL_ED25519 || (row.public_key !== null && row.public_key !== key))
        return `certify of device ${JSON.stringify(req.device)} with key ${JSON.stringify(req.publicKey)} was accepted; the device is ${row ? `${row.status}, seal ${row.seal}, key ${row.public_key}` : 'not active'}`;
      row.public_key = key;
      row.certificate = ans.certificate;
      return null;
    }
    case PssRequest.FUNDS: {
      const row = active(req.device);
      if (!row) return `funds for device ${JSON.stringify(req.device)} were issued, which is not an active device`;
      if (ans.counter !== (row.funds_counter as number) + 1 || ans.amount !== req.amount) return `funds for device ${req.device}: counter ${ans.counter} amount ${ans.amount}, expected counter ${(row.funds_counter as number) + 1} amount ${req.amount}`;
      row.funds_counter = ans.counter;
      want.funds.set(`${req.device}/${ans.counter}`, { device: req.device, counter: ans.counter, amount: req.amount, issued_at: ANY, via: 'plain', loaded: 0 });
      return null;
    }
    case PssRequest.UPLOAD: {
      if (ans.digest === undefined) return null; // a part: {received}
      const k = `${ans.device}/${ans.seq}`;
      const stored = want.blocks.get(k);
      if (!ans.stored) return stored && stored.digest === ans.digest ? null : `upload answered "repeat" for block ${k} digest ${ans.digest}, which is not stored`;
      const b = facts.chains.get(k);
      if (!b || stored || b.digestHex !== ans.digest || (ans.seq > 1 && !want.blocks.has(`${ans.device}/${ans.seq - 1}`)) || !active(ans.device))
        return `upload stored block ${k} digest ${ans.digest}, which is not the next block the fuzzer sealed for an active device${stored ? ' (already stored)' : ''}`;
      const h = b.header;
      want.blocks.set(k, {
        device: h.device,
        seq: h.seq,
        from_time: h.from,
        to_time: h.to,
        ascending: h.ascending,
        descending: h.descending,
        pieces: h.pieces,
        previous_ascending: h.previousAscending,
        previous_pieces: h.previousPieces,
        funds_total: h.fundsTotal,
        digest: b.digestHex,
        raw: toHex(b.raw),
        via: 'plain',
        received_at: ANY
      });
      want.records.set(
        k,
        b.records.map((r) => JSON.stringify({ device: h.device, seq: h.seq, customer: r.customer, category: r.category, weight_band: r.weightBand, postage: r.postage, pieces: r.pieces, amount: r.amount, weight: r.weight })).sort()
      );
      return null;
    }
    default:
      return null; // hello, status and sessions (a session cannot get past SESSION_OPEN without the PSD's key) change nothing
  }
}

// ---- the connection ------------------------------------------------------------------------------

interface Received {
  bytes: string;
  closed: boolean;
}

/** A client connection: collects what the service sends, and whether it closed. */
function connect(port: number): Promise<{ socket: net.Socket; got: Received; changed: (fn: () => void) => void }> {
  return new Promise((resolve, reject) => {
    const got: Received = { bytes: '', closed: false };
    let listener: (() => void) | null = null;
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.on('data', (b) => {
      got.bytes += b.toString('latin1');
      listener?.();
    });
    socket.on('close', () => {
      got.closed = true;
      listener?.();
    });
    socket.on('error', () => {}); // a reset or a write after the service closed: 'close' follows
    socket.once('connect', () => resolve({ socket, got, changed: (fn) => (listener = fn) }));
    socket.once('error', (e) => reject(e));
  });
}

/** Resolves when `done()` holds (checked whenever something arrives) or after `ms`. */
function until(changed: (fn: () => void) => void, done: () => boolean, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (done()) return resolve(true);
    const timer = setTimeout(() => {
      changed(() => {});
      resolve(false);
    }, ms);
    changed(() => {
      if (!done()) return;
      clearTimeout(timer);
      changed(() => {});
      resolve(true);
    });
  });
}

const ANSWER_MS = 3000;
/** the service's default maxGarbageBytes (server/service.ts) */
const MAX_GARBAGE = 4096;
const PROBE_MS = 3000;
const ERROR_CODES = new Set<string>(Object.values(PssErrorCode));

interface Answer {
  type: number;
  seq: number;
  payload: string;
  body: any;
}

/** A drop report: what the service sends for bytes that were not an intact frame. */
const isDropReport = (a: Answer) => a.type === ERROR_TYPE && (a.body?.code === 'BAD_FRAME' || (a.body?.code === 'OVERSIZE' && /^frame longer than/.test(a.body?.message)));

function parseAnswers(bytes: string): Answer[] {
  return specDecode(bytes).frames.map((f) => {
    let body: any;
    try {
      body = JSON.parse(f.payload);
    } catch {
      body = undefined;
    }
    return { type: f.type, seq: f.seq, payload: f.payload, body };
  });
}

/** Pairs each intact request with its answer, in order (drop reports in between are skipped). */
function pair(requests: ReturnType<typeof specDecode>['frames'], answers: Answer[]): { matched: (Answer | undefined)[]; stray: Answer[] } {
  const matched: (Answer | undefined)[] = [];
  let at = 0;
  for (const r of requests) {
    while (at < answers.length && isDropReport(answers[at])) at++;
    matched.push(answers[at]);
    if (at < answers.length) at++;
  }
  return { matched, stray: answers.slice(at).filter((a) => !isDropReport(a)) };
}

// ---- the target ---------------------------------------------------------------------------------

export interface PssTargetOptions {
  /** changes the data center after its baseline is made (a planted bug shows the checks catch it) */
  plant?: (dc: DataCenter) => void;
}

export function pssTarget(opts: PssTargetOptions = {}): FuzzTarget<PssCase> {
  return {
    name: 'pss',
    description: 'server/service.ts: the PSS TCP service over a data directory, hostile frames and bytes on a connection',
    arbitrary: pssCase,
    caseBoundMs: 12000,
    show(c) {
      return `writes cut at [${c.cuts}]\n  ` + c.segments.map(showSegment).join('\n  ');
    },
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-pss-'));
      // fixed KMS secrets: the same device keys, certificates and blocks in every run
      fs.writeFileSync(path.join(dir, MASTER_KEY_FILE), nodeCrypto.createHash('sha256').update('psd fuzz pss: master').digest(), { mode: 0o600 });
      fs.writeFileSync(path.join(dir, CA_SEED_FILE), nodeCrypto.createHash('sha256').update('psd fuzz pss: ca').digest(), { mode: 0o600 });
      const dc = await openDataCenter(dir);
      const keys: { [d: number]: string } = {};
      for (const d of [1001, 1002, 1003, 1004] as const) {
        const r = dc.kms.registerDevice(SERIALS[d], BOARDS[d]);
        if (r.device !== d) throw new Error(`pss fuzz target: ${SERIALS[d]} registered as device ${r.device}, expected ${d}`);
        keys[d] = r.deviceKey;
      }
      dc.kms.certify(1002, ED.publicKey);
      dc.kms.revoke(1003);
      const facts = makeBlocks({ 1001: keys[1001], 1003: keys[1003] });
      for (const ref of ['hmac-1', 'hmac-2', 'ed-1'] as const) dc.pss.upload(facts.blocks[ref].raw);
      const baselineFile = path.join(dir, 'baseline.sqlite');
      dc.store.snapshotTo(baselineFile);
      const baseline = tables(dc);
      if (baseline.blocks.size !== 3) throw new Error('pss fuzz target: the baseline blocks were not stored');
      /** Puts the baseline tables back, in one transaction of the service's own Store. */
      const restore = () => dc.store.restoreFrom(baselineFile);

      opts.plant?.(dc);
      const log: string[] = [];
      const service: Service = await startService(dc, { port: 0, log: (l) => log.push(l) });
      let probes = 0;
      const seen: { [what: string]: number } = {};
      const count = (what: string, n = 1) => (seen[what] = (seen[what] ?? 0) + n);

      async function probe(): Promise<Finding | null> {
        probes++;
        const seq = probes & 0xffff;
        let c;
        try {
          c = await connect(service.port);
        } catch (e) {
          return { kind: 'crash', detail: `the service no longer accepts connections: ${(e as Error).message}` };
        }
        try {
          c.socket.write(Buffer.from(rawFrame(PROTOCOL_VERSION, PssRequest.HELLO, seq, '{}'), 'latin1'));
          const ok = await until(c.changed, () => c.got.closed || parseAnswers(c.got.bytes).some((a) => a.seq === seq), PROBE_MS);
          const a = parseAnswers(c.got.bytes).find((x) => x.seq === seq);
          if (!ok || !a) return { kind: 'hang', detail: `a hello on a fresh connection after the case got ${c.got.closed ? 'the connection closed' : `no answer in ${PROBE_MS} ms`}` };
          if (a.type !== (PssRequest.HELLO | RESPONSE_FLAG) || a.body?.protocol !== PROTOCOL_VERSION) return { kind: 'hang', detail: `a hello on a fresh connection after the case was answered ${a.payload}` };
          return null;
        } finally {
          c.socket.destroy();
        }
      }

      /** Every intact request got one answer, the right one; success answers applied to `want`. */
      function judgeAnswers(requests: ReturnType<typeof specDecode>['frames'], answers: Answer[], closed: boolean, want: Tables): Finding | null {
        const { matched, stray } = pair(requests, answers);
        for (let i = 0; i < requests.length; i++) {
          const r = requests[i];
          const a = matched[i];
          const what = `intact frame #${i} (v${r.version} ${typeName(r.type)} seq ${r.seq} payload ${JSON.stringify(r.payload.slice(0, 300))})`;
          if (!a) {
            if (closed) break; // the service closed the connection: the rest is unanswered by design
            return { kind: 'unanswered', detail: `${what} got no answer in ${ANSWER_MS} ms; answers: ${answers.map((x) => `0x${x.type.toString(16)}/${x.seq} ${x.payload.slice(0, 120)}`).join(' | ') || 'none'}` };
          }
          const shown = `${what} was answered type 0x${a.type.toString(16)} seq ${a.seq}: ${a.payload.slice(0, 400)}`;
          if (a.seq !== r.seq || (a.type !== ERROR_TYPE && a.type !== ((r.type | RESPONSE_FLAG) & 0xff))) return { kind: 'unanswered', detail: `${shown} (not an answer to it)` };
          if (!a.body || typeof a.body !== 'object' || Array.isArray(a.body)) return { kind: 'unanswered', detail: `${shown} (not a JSON object)` };
          const retransmit = i > 0 && requests[i - 1].seq === r.seq && requests[i - 1].crc === r.crc;
          if (retransmit) {
            if (a.payload !== matched[i - 1]!.payload || a.type !== matched[i - 1]!.type) return { kind: 'unanswered', detail: `${shown}, a retransmission of the frame before, answered ${matched[i - 1]!.payload.slice(0, 400)}` };
            count('retransmissions answered again');
            continue;
          }
          let req: unknown;
          try {
            req = r.payload ? JSON.parse(r.payload) : {};
          } catch {
            req = undefined;
          }
          const isObject = !!req && typeof req === 'object' && !Array.isArray(req);
          const expectCode = r.version !== PROTOCOL_VERSION ? 'VERSION' : !isObject ? 'BAD_PAYLOAD' : !KNOWN_TYPES.includes(r.type) ? 'UNKNOWN_REQUEST' : null;
          if (a.type === ERROR_TYPE) {
            const { code, message } = a.body;
            if (!ERROR_CODES.has(code) || typeof message !== 'string' || !message) return { kind: 'unanswered', detail: `${shown} (an error answer is {code, message} with a protocol/pss-errors.ts code)` };
            if (code === 'INTERNAL') return { kind: 'crash', detail: `${shown}${log.length ? '\n  log: ' + log.join('\n  ') : ''}` };
            if (expectCode && code !== expectCode) return { kind: 'unanswered', detail: `${shown}; expected ${expectCode}` };
            if (r.type === PssRequest.HELLO && !expectCode) return { kind: 'unanswered', detail: `${shown}; hello never fails` };
            count(`${PssRequestName[r.type] ?? 'unknown type'}: ${code}`);
            continue;
          }
          if (expectCode) return { kind: 'state', detail: `${shown}; it must be refused with ${expectCode}` };
          if (a.body.report?.error?.code === 'INTERNAL') return { kind: 'crash', detail: `${shown}${log.length ? '\n  log: ' + log.join('\n  ') : ''}` };
          count(`${typeName(r.type)}: ok${r.type === PssRequest.UPLOAD ? (a.body.digest === undefined ? ' (part)' : a.body.stored ? ' (stored)' : ' (repeat)') : ''}`);
          const why = allow(want, r.type, req as Record<string, any>, a.body, facts);
          if (why) return { kind: 'state', detail: `${shown}: ${why}` };
        }
        if (stray.length && !closed) return { kind: 'unanswered', detail: `answers no intact frame asked for: ${stray.map((x) => `type 0x${x.type.toString(16)} seq ${x.seq} ${x.payload.slice(0, 200)}`).join(' | ')}` };
        return null;
      }

      async function runCase(cs: PssCase): Promise<Finding | null> {
        log.length = 0;
        const bytes = cs.segments.map((g) => segmentBytes(g, facts)).join('');
        const stream: Stream = chunked(bytes, cs.cuts);
        const requests = specDecode(bytes).frames;
        const c = await connect(service.port);
        let answers: Answer[] = [];
        try {
          for (const piece of pieces(stream)) {
            if (c.got.closed) break;
            c.socket.write(Buffer.from(piece, 'latin1'));
            await new Promise((r) => setImmediate(r)); // separate writes arrive as separate reads
          }
          const answered = () => {
            const { matched } = pair(requests, parseAnswers(c.got.bytes));
            return matched.every((a) => a !== undefined);
          };
          await until(c.changed, () => c.got.closed || answered(), ANSWER_MS);
          // a moment for answers no request asked for
          await new Promise((r) => setTimeout(r, 1));
          answers = parseAnswers(c.got.bytes);
        } finally {
          c.socket.destroy();
        }
        if (c.got.closed) count('connections closed by the service');
        count('drop reports', answers.filter(isDropReport).length);

        // what the service and the session driver log for a throw they did not mean (a
        // relayed PSD refusal "...: internal error" is the PSD's, not theirs)
        const internal = log.filter((l) => /^\S+: [\w-]+: internal error: |^session: device \d+: internal error: |: decoder failed: /.test(l));
        const want = cloneTables(baseline);
        // the service closes a connection only after more than 4,096 bytes that are not frames
        const notFrames = bytes.length - requests.reduce((n, r) => n + HEADER_BYTES + r.payload.length + CRC_BYTES, 0);
        const verdict: Finding | null = internal.length
          ? { kind: 'crash', detail: `the service logged: ${internal.join('\n')}` }
          : c.got.closed && notFrames <= MAX_GARBAGE
            ? { kind: 'unanswered', detail: `the service closed the connection, though only ${notFrames} of the ${bytes.length} bytes were not frames` }
            : judgeAnswers(requests, answers, c.got.closed, want);

        // the database: only what the answered requests allow; then back to the baseline
        const got = tables(dc);
        const diff = tableDiff(want, got);
        if (tableDiff(baseline, got)) {
          count('database restored after a change');
          restore();
        }
        if (verdict) return verdict;
        if (diff) return { kind: 'state', detail: `the database changed in a way no answered request allows: ${diff}` };
        return probe();
      }

      return {
        coverage: () => seen,
        runCase,
        async close() {
          await service.close();
          dc.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      };
    }
  };
}
