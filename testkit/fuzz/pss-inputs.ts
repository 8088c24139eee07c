// Fuzz target pss (pss-target.ts): its inputs, segments of hostile bytes, frames and uploads.
import fc from 'fast-check';
import nodeCrypto from 'node:crypto';
import { PssRequest, PssRequestName } from '../../protocol/pss-wire.ts';
import { PROTOCOL_VERSION, MAX_PAYLOAD_BYTES } from '../../protocol/frame.ts';
import { asciiJson, MAX_U48 } from '../../protocol/bytes.ts';
import { rawFrame, mutation, mutate, byteString, falseSync, hex, type Mutation } from './wire.ts';
import { toHex, ED_PUBLIC_HEX, SERIALS, BOARDS, BLOCK_REFS, type BlockRef, type Facts } from './pss-blocks.ts';

// ---- inputs ------------------------------------------------------------------------------------

export type BlockMutation =
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

export const json = fc.jsonValue({ maxDepth: 2 });
export const deviceValue = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(1001, 1002, 1003, 1004) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 1000, 1005, 4294967295, 4294967296, -1001, 1001.5, 1e300, '1001') },
  { weight: 1, arbitrary: json }
);
export const amountValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, MAX_U48, MAX_U48 + 1, 2 ** 53, 1e300, '100', null, true) },
  { weight: 1, arbitrary: json }
);
export const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((u) => Buffer.from(u).toString('hex'));
export const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** A JSON object with the fields a request takes (some missing, some hostile), plus junk fields. */
export function object(fields: { [k: string]: fc.Arbitrary<unknown> }): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(fields);
  return fc
    .tuple(fc.record(fields, { requiredKeys: keys.length ? [keys[0]] : [] }), fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 3 }) }))
    .map(([a, extra]) => ({ ...extra, ...a }));
}

export const registerBody = object({
  serial: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...Object.values(SERIALS)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,64}$/) }, // a new board: registered
    { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('', ' ', 'A B', 'x'.repeat(65), 'FUZZ-HMAC\n', 'é'), json) }
  ),
  board: fc.oneof(fc.constantFrom('pico', 'esp32', 'linux', 'banglejs2', 'original', 'puckjs', 'wifi', 'mdbt42q'), fc.constantFrom('PICO', '', 'nope', '../pico', '__proto__', 'toString'), json),
  seal: fc.oneof(fc.constantFrom('hmac', 'ed25519', 'HMAC', 'rsa', ''), json)
});

export const bodies: { [type: number]: fc.Arbitrary<unknown> } = {
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
export const KNOWN_TYPES = Object.values(PssRequest) as number[];

export const payloadFor = (type: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: (bodies[type] ?? object({})).map((b) => asciiJson(b).slice(0, MAX_PAYLOAD_BYTES)) },
    { weight: 1, arbitrary: json.map((j) => asciiJson(j).slice(0, MAX_PAYLOAD_BYTES)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{}}', '[]', 'null', '"x"', '{"a":1,"a":2}', '{"__proto__":{"device":1001}}', '{"device":1001,"amount":5}'.repeat(2)) },
    { weight: 1, arbitrary: byteString(120) }
  );

export const frameMutation = fc.oneof({ weight: 4, arbitrary: fc.constant<Mutation>({ kind: 'none' }) }, { weight: 1, arbitrary: mutation });

export const requestSegment: fc.Arbitrary<PssSegment> = fc
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

export const blockMutation: fc.Arbitrary<BlockMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<BlockMutation>({ kind: 'none' }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: byteString(64) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('field' as const), offset: fc.constantFrom(8, 12, 16, 36), value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 1001, 1002, 1005), fc.integer({ min: 0, max: 0xffffffff })) }) }
);

export const uploadSegment: fc.Arbitrary<PssSegment> = fc.record({
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

export const segment: fc.Arbitrary<PssSegment> = fc.oneof(
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

export function changeBlock(raw: string, m: BlockMutation): string {
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
export function segmentBytes(g: PssSegment, facts: Facts): string {
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

export const typeName = (t: number) => PssRequestName[t] ?? `type 0x${t.toString(16)}`;

export function showSegment(g: PssSegment): string {
  const m = (x: Mutation) => (x.kind === 'none' ? '' : ` then ${JSON.stringify(x)}`);
  if (g.kind === 'bytes') return `bytes (${g.bytes.length}) ${hex(g.bytes, 200)}`;
  if (g.kind === 'request') return `frame v${g.version} ${typeName(g.type)} seq ${g.seq} payload ${JSON.stringify(g.payload)}${m(g.mutation)}`;
  return `upload ${g.block}${g.change.kind === 'none' ? '' : ' changed ' + JSON.stringify(g.change)} in ${g.parts} part(s)${g.lastMore ? ' all with more' : ''}${g.upper ? ', upper-case hex' : ''}, seq ${g.seq}..${g.seq + g.parts - 1}${g.mutation.kind === 'none' ? '' : `, part ${g.hit % g.parts} then ${JSON.stringify(g.mutation)}`}`;
}
