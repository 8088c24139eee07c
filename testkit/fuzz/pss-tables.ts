// Fuzz target pss (pss-target.ts): the database before and after a case, and what the
// answered requests allow to change in it.
import { type DataCenter } from '../../server/datacenter.ts';
import { PssRequest } from '../../protocol/pss-wire.ts';
import { SEAL_HMAC, SEAL_ED25519 } from '../../protocol/block.ts';
import { toHex, type Facts } from './pss-blocks.ts';

// ---- the database, before and after ------------------------------------------------------------

export type Row = Record<string, unknown>;
/** Columns a new row gets from the clock: not compared. */
export const ANY = Symbol('any value');

export interface Tables {
  devices: Map<number, Row>;
  blocks: Map<string, Row>;
  records: Map<string, string[]>;
  funds: Map<string, Row>;
  meta: string;
}

export function tables(dc: DataCenter): Tables {
  const plain = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]));
  const records = new Map<string, string[]>();
  for (const r of dc.store.all('SELECT * FROM records')) {
    const k = `${r.device}/${r.seq}`;
    if (!records.has(k)) records.set(k, []);
    // n (the record's place in its block, schema 3) is not in the model's rows: the list is
    // compared sorted, as a set of records per block
    const { n: _place, ...row } = r;
    records.get(k)!.push(JSON.stringify(row));
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

export function cloneTables(t: Tables): Tables {
  return {
    devices: new Map([...t.devices].map(([k, v]) => [k, { ...v }])),
    blocks: new Map([...t.blocks].map(([k, v]) => [k, { ...v }])),
    records: new Map([...t.records].map(([k, v]) => [k, [...v]])),
    funds: new Map([...t.funds].map(([k, v]) => [k, { ...v }])),
    meta: t.meta
  };
}

export function rowDiff(want: Row, got: Row): string | null {
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (want[k] === ANY) continue;
    if (want[k] !== got[k]) return `${k} is ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`;
  }
  return null;
}

/** The first difference between the expected and the actual tables, or null. */
export function tableDiff(want: Tables, got: Tables): string | null {
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

export const SEALS: { [name: string]: number } = { hmac: SEAL_HMAC, ed25519: SEAL_ED25519 };

/** What an answered request allows, applied to the expected tables; a message if it must have been refused. */
export function allow(want: Tables, type: number, req: Record<string, any>, ans: Record<string, any>, facts: Facts): string | null {
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
