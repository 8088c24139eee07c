// `pss report`: the authenticated statistics grouped by any parameter field, filtered by the
// blocks' sealing day and customer, sorted; an aligned table with a totals row, or --json.
// Also the options and printing the other PSS statistics commands share.
import { Command, Option } from 'commander';
import { table, money } from '../../kit/output.ts';
import { PssError, PssErrorCode, type PssErrorCodeName } from '../../protocol/pss-errors.ts';
import { DB_FILE } from '../db.ts';
import { DEFAULT_DATA_DIR } from '../datacenter.ts';
import { dataDir, json, requireDataCenter } from './common.ts';
import { parseGroupFields, parseSort, parseDay, runReport, openStatisticsSnapshot, weightBandLabel, DAY_SECONDS, type Report, type GroupField } from '../report.ts';

/** Where the commands print; tests pass their own. */
export interface CommandOutput {
  out: (text: string) => void;
}

export const consoleOutput: CommandOutput = { out: (text) => console.log(text) };

/** the discount rules shipped with the project (server/discounts.ts) */
export { DEFAULT_RULES_FILE } from '../discounts.ts';

/** --data on the subcommand too, so the command also runs on its own (tests, scripts). */
export function dataOption(): Option {
  return new Option('--data <dir>', `PSS data directory holding ${DB_FILE} (default PSS_DATA, else ${DEFAULT_DATA_DIR})`);
}

/** --data and --json may sit on the pss program or on the subcommand (server/commands/common.ts). */
export function sharedOpts(cmd: Command): { dataDir: string; json: boolean } {
  return { dataDir: dataDir(cmd), json: json(cmd) };
}

/** A comma-separated list of whole numbers (customers, devices). */
export function numberList(option: string): (text: string, previous?: number[]) => number[] {
  return (text, previous = []) => {
    const values = text.split(',').map((s) => s.trim());
    for (const v of values) if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new PssError('BAD_ARGUMENT', `${option} "${v}" is not a number 0..4294967295`);
    return [...previous, ...values.map(Number)];
  };
}

/** Repeats the header's rule line above the last line of a table (its totals row). */
export function withTotalsLine(text: string): string {
  const lines = text.split('\n');
  lines.splice(lines.length - 1, 0, lines[1]);
  return lines.join('\n');
}

const COLUMN_TITLES: Record<GroupField, string> = {
  customer: 'customer',
  class: 'class',
  weightBand: 'weight band',
  postage: 'postage',
  device: 'device',
  month: 'month',
  day: 'day'
};

function cell(field: GroupField, v: number | string | undefined): string {
  if (v === undefined || v === null) return '';
  if (field === 'weightBand') return weightBandLabel(Number(v));
  if (field === 'postage') return money(Number(v));
  return String(v);
}

export function formatReport(r: Report): string {
  // zero-value: of the pieces, those franked with postage 0 (never charged), shown apart
  const header = [...r.by.map((f) => COLUMN_TITLES[f]), 'pieces', 'zero-value', 'amount', 'weight g', 'blocks'];
  const rows = r.rows.map((row) => [...r.by.map((f) => cell(f, row[f])), row.pieces, row.zeroValue, money(row.amount), row.weight, row.blocks]);
  const totals = ['total', ...r.by.slice(1).map(() => ''), r.totals.pieces, r.totals.zeroValue, money(r.totals.amount), r.totals.weight, r.totals.blocks];
  const span = r.from || r.to ? `blocks sealed ${r.from ?? 'any time'} .. before ${r.to ?? 'now'}` : 'all blocks';
  const title = `report by ${r.by.join(', ')}; ${span}; amounts in major units, weights in grams`;
  if (!rows.length) return `${title}\nno statistics match`;
  return `${title}\n${withTotalsLine(table([...rows, totals], header))}`;
}

export function reportCommand(io: CommandOutput = consoleOutput): Command {
  return new Command('report')
    .description(
      'statistics grouped by any parameter field, with pieces (zero-value pieces also apart), amount, weight and blocks per group and a totals row. ' +
        'A block counts on the UTC day it was sealed (its to_time); --from and --to are whole days, both included'
    )
    .option('--by <fields>', 'group by these, comma-separated: customer, class, weight (band), postage, device, month, day', 'customer,class')
    .option('--from <YYYY-MM-DD>', 'first sealing day (UTC), included')
    .option('--to <YYYY-MM-DD>', 'last sealing day (UTC), included')
    .option('--customer <n[,n]>', 'only these customers (repeatable)', numberList('--customer'))
    .option('--device <n[,n]>', 'only these devices (repeatable)', numberList('--device'))
    .option('--sort <field[:desc][,...]>', 'order by pieces, zeroValue, amount, weight (grams), blocks or a --by field (the band is weightBand); default: the --by fields ascending')
    .option('--json', 'machine-readable output')
    .option('--pss <host:port>', "ask a running PSS over TLS instead of reading its data directory (an auditor's or operator's credential: --credentials or PSS_CREDENTIALS)")
    .option('--credentials <file>', 'with --pss: the credential file (pss credential issue)')
    .addOption(dataOption())
    .action(async (o, cmd: Command) => {
      const { dataDir, json } = sharedOpts(cmd);
      if (o.pss) {
        const { PssClient } = await import('../../kit/pss-client.ts');
        const { credentialFromEnv } = await import('../../kit/tls.ts');
        const credential = credentialFromEnv(o.credentials);
        if (!credential) throw new PssError('NOT_AUTHORISED', 'a report over --pss needs an auditor credential: --credentials <file> or PSS_CREDENTIALS');
        parseGroupFields(o.by);
        const client = await PssClient.connect(o.pss, { credential });
        try {
          const report = (await client.report({
            by: o.by,
            from: o.from === undefined ? undefined : parseDay(o.from, '--from'),
            to: o.to === undefined ? undefined : parseDay(o.to, '--to') + DAY_SECONDS,
            customers: o.customer,
            devices: o.device,
            sort: o.sort
          })) as Report;
          io.out(json ? JSON.stringify(report, null, 2) : formatReport(report));
        } catch (e) {
          const err = e as { code?: string; message?: string };
          if (err.code && !(e instanceof PssError)) throw new PssError((err.code in PssErrorCode ? err.code : 'INTERNAL') as PssErrorCodeName, err.message ?? String(e));
          throw e;
        } finally {
          await client.close();
        }
        return;
      }
      const by = parseGroupFields(o.by);
      const from = o.from === undefined ? undefined : parseDay(o.from, '--from');
      const to = o.to === undefined ? undefined : parseDay(o.to, '--to') + DAY_SECONDS;
      if (from !== undefined && to !== undefined && from >= to) throw new PssError('BAD_ARGUMENT', `--from ${o.from} is after --to ${o.to}`);
      const sort = o.sort === undefined ? undefined : parseSort(o.sort, by);
      const db = await openStatisticsSnapshot(requireDataCenter(dataDir));
      try {
        const report = runReport(db, { by, from, to, customers: o.customer, devices: o.device, sort });
        io.out(json ? JSON.stringify(report, null, 2) : formatReport(report));
      } finally {
        db.close();
      }
    });
}
