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
import nodeCrypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { BlockStore, StoreError, blockFileName, STALE_TEMP_MS, type StoreEntry } from '../../host-bridge/store.ts';
import type { FuzzTarget, Finding } from './framework.ts';
import { type Known, KNOWN, knownByName, type StoreFile, type StoreCase, storeCase, effectiveFiles, isTemp, showFile, label } from './store-inputs.ts';
export { type StoreFile, type StoreCase, storeCase } from './store-inputs.ts';
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
