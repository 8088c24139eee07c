// `psd store list|show|prune`: the sealed statistics blocks the host keeps until the PSS
// confirms them (host-bridge/store.ts). Also the pieces `psd stats extract` and `psd upload`
// share with it: the --store option, opening the store, printing a block.
import { Command, InvalidArgumentError, Option } from 'commander';
import { SEAL_HMAC, SEAL_ED25519 } from '../protocol/block.ts';
import { MAX_U32 } from '../protocol/records.ts';
import { int, bandLabel, deviceNumber } from './cli-kit.ts';
import { table, keyValues, money } from '../kit/output.ts';
import { BlockStore, StoreError, verifySignature, type StoreEntry, type StoredBlock, type PutResult } from './store.ts';

export interface StoreIo {
  out(text: string): void;
}

const stdout: StoreIo = { out: (text) => console.log(text) };

/** The --store option, for every command that reads or writes the store. */
export function storeOption(): Option {
  return new Option('--store <dir>', 'directory of the block store (default ~/.psd/blocks)').env('PSD_STORE');
}

/** The store a command names with --store (on it or a parent), or the default one. */
export function storeFrom(cmd: Command): BlockStore {
  const dir = (cmd.optsWithGlobals() as { store?: string }).store;
  return dir ? new BlockStore(dir) : new BlockStore();
}

function wantsJson(cmd: Command): boolean {
  return !!(cmd.optsWithGlobals() as { json?: boolean }).json;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

export function algorithmName(algorithm: number): string {
  return algorithm === SEAL_HMAC ? 'HMAC-SHA256' : algorithm === SEAL_ED25519 ? 'Ed25519' : `unknown (${algorithm})`;
}

/** A stored block for --json: header, status and records. */
export function blockJson(s: StoredBlock) {
  const h = s.block.header;
  const c = s.content;
  return {
    file: s.file,
    device: h.device,
    seq: h.seq,
    from: iso(h.from),
    to: iso(h.to),
    registers: { ascending: h.ascending, descending: h.descending, pieces: h.pieces, previousAscending: h.previousAscending, previousPieces: h.previousPieces, fundsTotal: h.fundsTotal },
    customers: h.customers,
    recordCount: h.recordCount,
    algorithm: algorithmName(h.algorithm),
    digest: c.digest,
    status: c.status,
    extractedAt: c.extractedAt,
    port: c.port,
    ...(c.uploadedAt ? { uploadedAt: c.uploadedAt } : {}),
    ...(c.confirmedAt ? { confirmedAt: c.confirmedAt } : {}),
    records: s.block.records
  };
}

export function formatBlock(s: StoredBlock): string {
  const h = s.block.header;
  const c = s.content;
  const head = keyValues([
    ['block', `PSD-${h.device} #${h.seq}`],
    ['file', s.file],
    ['period', `${iso(h.from)} .. ${iso(h.to)}`],
    ['ascending', `${money(h.ascending)} (previous block ${money(h.previousAscending)})`],
    ['descending', money(h.descending)],
    ['funds loaded', money(h.fundsTotal)],
    ['pieces', `${h.pieces} (previous block ${h.previousPieces})`],
    ['customers', h.customers.join(', ') || 'none'],
    ['records', h.recordCount],
    ['seal', algorithmName(h.algorithm)],
    ['digest', c.digest],
    ['status', c.status + (c.uploadedAt ? `, uploaded ${c.uploadedAt}` : '') + (c.confirmedAt ? `, confirmed ${c.confirmedAt}` : '')],
    ['extracted', `${c.extractedAt} from ${c.port || 'an unnamed port'}`]
  ]);
  const rows = s.block.records;
  if (!rows.length) return head + '\n\nno records';
  const sum = (k: 'pieces' | 'amount' | 'weight') => rows.reduce((n, r) => n + r[k], 0);
  return (
    head +
    '\n\n' +
    table(
      rows.map((r) => [r.customer, r.category, bandLabel(r.weightBand), money(r.postage), r.pieces, money(r.amount), r.weight]),
      ['customer', 'category', 'weight band', 'postage', 'pieces', 'amount', 'weight g']
    ) +
    `\n${rows.length} records, ${sum('pieces')} pieces, ${money(sum('amount'))}, ${sum('weight')} g`
  );
}

export function formatEntries(entries: StoreEntry[], dir: string): string {
  if (!entries.length) return `no blocks in ${dir}`;
  const state = (e: StoreEntry) => (e.problem ? (e.kind === 'conflict' ? 'CONFLICT' : 'DAMAGED') : e.status ?? '');
  const rows = entries.map((e) => [e.device ?? '', e.seq ?? '', state(e), e.recordCount ?? '', e.extractedAt ?? '', e.confirmedAt ?? '', e.file]);
  const out = [table(rows, ['device', 'seq', 'status', 'records', 'extracted', 'confirmed', 'file'])];
  const bad = entries.filter((e) => e.problem);
  if (bad.length) out.push('', `${bad.length} file(s) with problems:`, ...bad.map((e) => `  ${e.file}: ${e.problem}`));
  return out.join('\n');
}

/** One line for `psd stats extract` after put. */
export function describePut(r: PutResult, dir: string): string {
  const where = `${dir}/${r.file}`;
  if (r.outcome === 'exists') return `block ${r.device}/${r.seq} was already stored: ${where}`;
  if (r.outcome === 'replaced-damaged') return `block ${r.device}/${r.seq} stored: ${where} (the damaged file it replaces was kept as ${r.damagedCopy})`;
  return `block ${r.device}/${r.seq} stored: ${where}`;
}

function hex32(v: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new InvalidArgumentError('must be 32 bytes as 64 hex digits');
  return v.toLowerCase();
}

export function storeCommand(io: StoreIo = stdout): Command {
  const print = (cmd: Command, value: unknown, human: () => string) => io.out(wantsJson(cmd) ? JSON.stringify(value, null, 2) : human());
  const store = new Command('store')
    .description('the sealed statistics blocks kept on this host until the data center confirms them')
    .addOption(storeOption());

  store
    .command('list')
    .description('every block file with its status (stored, uploaded, confirmed); damaged files are listed too, and make the exit non-zero')
    .option('--json', 'machine-readable output')
    .action(async (_o, cmd: Command) => {
      const s = storeFrom(cmd);
      const entries = await s.list();
      print(cmd, { store: s.dir, entries }, () => formatEntries(entries, s.dir));
      const bad = entries.filter((e) => e.problem).length;
      if (bad)
        throw new StoreError(
          `${bad} damaged or conflicting file(s) in the block store ${s.dir}`,
          'they are kept for inspection and never uploaded; a block not yet confirmed can be read again from the PSD with `psd stats extract`'
        );
    });

  store
    .command('show')
    .description('one block: header (device, seq, period, registers, customers, seal, digest, status) and its records')
    .argument('<device>', 'device, as printed (PSD-4711) or its number (4711)', deviceNumber(0, MAX_U32))
    .argument('<seq>', 'block sequence number', int(0, MAX_U32))
    .option('--json', 'machine-readable output')
    .option('--public-key <hex>', 'device Ed25519 public key: check the seal of an Ed25519 block', hex32)
    .action(async (device: number, seq: number, o: { publicKey?: string }, cmd: Command) => {
      const s = storeFrom(cmd);
      const b = await s.get(device, seq);
      if (!b) throw new StoreError(`no block for device ${device} seq ${seq} in ${s.dir}`, '`psd store list` shows what is stored');
      const signature = o.publicKey === undefined ? undefined : verifySignature(b.bytes, o.publicKey) ? 'valid' : 'INVALID';
      print(cmd, { ...blockJson(b), ...(signature ? { signature } : {}) }, () => formatBlock(b) + (signature ? `\n\nEd25519 seal: ${signature}` : ''));
      if (signature === 'INVALID') throw new StoreError(`block ${device}/${seq}: the Ed25519 seal does not verify with this public key`);
    });

  store
    .command('prune')
    .description('delete blocks the data center confirmed more than <days> days ago (damaged files are never pruned)')
    .requiredOption('--confirmed-older-than <days>', 'age of the confirmation, days', int(0, 36500))
    .option('--json', 'machine-readable output')
    .action(async (o: { confirmedOlderThan: number }, cmd: Command) => {
      const s = storeFrom(cmd);
      const removed = await s.prune(o.confirmedOlderThan);
      print(cmd, { store: s.dir, removed }, () => (removed.length ? `removed ${removed.length} confirmed block(s):\n` + removed.map((f) => '  ' + f).join('\n') : 'nothing to prune'));
    });

  return store;
}
