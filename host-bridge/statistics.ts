// `psd stats extract` and `psd upload`: sealed statistics from the PSD to the host store,
// and from the store to the PSS, with the PSS's confirmation carried back to the PSD (only
// then does the PSD free the records).
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { Command as Cmd } from '../protocol/commands.ts';
import { toHex } from '../protocol/bytes.ts';
import { BlockStore, defaultStoreDir, type StoredBlock } from './store.ts';
import { extractBlock } from './extract.ts';
import { HostRecords, sealHostRecords } from './host-records.ts';
import { fromHex } from '../protocol/bytes.ts';
import { PsdError } from './errors.ts';
import { ErrorCode } from '../protocol/errors.ts';
import type { PsdClient } from './client.ts';
import type { CliKit } from './cli-kit.ts';
import { keyValues, money, table } from '../kit/output.ts';

/** Seals (or re-reads the block awaiting confirmation) and stores it durably on the host. */
export async function extractToStore(client: PsdClient, store: BlockStore, port: string, showProgress = false) {
  const status = await client.request(Cmd.STATUS);
  // (a STATUS too large for a frame leaves the settings out: CONFIG {} reads them)
  if (!status.config) status.config = (await client.request(Cmd.CONFIG, {})).config;
  if (status.config?.recordsOnHost && !status.block.awaitingConfirmation) {
    // claim 10: the host's records pass through the PSD to be sealed, then leave the host's list
    const records = new HostRecords(store.dir, status.device);
    const x = await sealHostRecords((t, b) => client.request(t, b), records.read());
    const put = await store.put(x.bytes, { port });
    records.clear();
    return { extracted: x, put };
  }
  if (status.config?.recordsOnHost) {
    // sealed before (its answer or the store write was lost): the host store has it
    const kept = await store.get(status.device, status.block.awaitingConfirmation);
    if (!kept) throw new PsdError(ErrorCode.NO_BLOCK, `block ${status.block.awaitingConfirmation} awaits confirmation and is not in the host store`, 'its records were on the host; see psd store list');
    return { extracted: { bytes: kept.bytes, block: kept.block, digest: fromHex(kept.content.digest), fresh: false }, put: { outcome: 'exists', file: kept.file, device: status.device, seq: kept.block.header.seq, digest: kept.content.digest } as any };
  }
  const bar = showProgress ? new cliProgress.SingleBar({ format: 'reading block |{bar}| {value}/{total} records', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  let started = false;
  const x = await extractBlock(
    (t, b) => client.request(t, b, t === Cmd.STATS_EXTRACT ? { timeoutMs: 600_000 } : {}),
    (read, total) => {
      if (!bar) return;
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(read);
    }
  );
  if (started) bar!.stop();
  const put = await store.put(x.bytes, { port });
  return { extracted: x, put };
}

export function blockSummary(b: StoredBlock['block']) {
  const h = b.header;
  return {
    device: h.device,
    seq: h.seq,
    from: new Date(h.from * 1000).toISOString(),
    to: new Date(h.to * 1000).toISOString(),
    records: h.recordCount,
    customers: h.customers,
    pieces: h.pieces - h.previousPieces,
    amount: h.ascending - h.previousAscending,
    ascending: h.ascending,
    descending: h.descending,
    seal: h.algorithm === 2 ? 'Ed25519' : 'HMAC-SHA256'
  };
}

export function addStatisticsCommands(program: Command, stats: Command, kit: CliKit) {
  stats
    .command('extract')
    .description('seal the statistics on the PSD into a block (marked sent) and keep it in the host store until it is uploaded')
    .addOption(new Option('--store <dir>', 'host store of sealed blocks').env('PSD_STORE').default(defaultStoreDir()))
    .action(async (o, cmd: Command) => {
      const store = new BlockStore(o.store);
      const port = (cmd.optsWithGlobals() as any).port ?? '';
      const r = await kit.withDevice(cmd, (c) => extractToStore(c, store, port, !kit.json(cmd)));
      const summary = { ...blockSummary(r.extracted.block), fresh: r.extracted.fresh, digest: toHex(r.extracted.digest), stored: r.put.outcome, file: r.put.file };
      kit.print(cmd, summary, () =>
        keyValues([
          ['block', `PSD-${summary.device} #${summary.seq}${summary.fresh ? '' : ' (already sealed, awaiting confirmation)'}`],
          ['span', `${summary.from} .. ${summary.to}`],
          ['records', summary.records],
          ['customers', summary.customers.join(', ')],
          ['pieces', summary.pieces],
          ['amount', money(summary.amount)],
          ['seal', summary.seal],
          ['host store', `${summary.stored}: ${summary.file}`],
          ['next', 'psd upload --pss <host:port>']
        ])
      );
    });

  stats
    .command('blocks')
    .description('list the sealed blocks in the host store (see also `psd store list`)')
    .addOption(new Option('--store <dir>', 'host store of sealed blocks').env('PSD_STORE').default(defaultStoreDir()))
    .action(async (o, cmd: Command) => {
      const entries = await new BlockStore(o.store).list();
      kit.print(cmd, entries, () =>
        entries.length
          ? table(
              entries.map((e) => [e.device ?? '?', e.seq ?? '?', e.status ?? '-', e.recordCount ?? '-', e.problem ?? 'ok', e.file]),
              ['device', 'seq', 'status', 'records', 'check', 'file']
            )
          : 'the host store is empty'
      );
      if (entries.some((e) => e.problem)) throw new PsdError(ErrorCode.STORE_DAMAGED, 'the host store holds damaged or edited files', 'they are never uploaded; see `psd store list`');
    });
}
