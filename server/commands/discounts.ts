// `pss discounts --period 2026-11`: each customer's volume per discount rule in the period,
// the tier reached, the discount (floor, minor units) and how it is settled: paid back, or a
// credit for future franking. The volume is the customer's across every device that franked
// for them.
import { Command, Option } from 'commander';
import { table, money } from '../../kit/output.ts';
import { PssError } from '../../protocol/pss-errors.ts';
import { loadDiscountConfig, parsePeriod, computeDiscounts, type DiscountReport } from '../discounts.ts';
import { openStatisticsSnapshot } from '../report.ts';
import { consoleOutput, dataOption, numberList, sharedOpts, withTotalsLine, DEFAULT_RULES_FILE, type CommandOutput } from './report.ts';
import { requireDataCenter } from './common.ts';

const SETTLED_AS = { discount: 'discount paid back', credit: 'credit for future franking' };

export function formatDiscounts(d: DiscountReport): string {
  const out = [`discounts for ${d.period} (blocks sealed ${d.from} .. before ${d.to}); amounts in major units, discounts rounded down to the minor unit`];
  if (!d.customers.length) return `${out[0]}\nno customer has pieces in a class the rules cover`;
  for (const c of d.customers) {
    const rows = c.lines.map((l) => [l.rule, l.classes.join(' '), l.pieces, money(l.amount), l.tier === null ? 'none' : `>=${l.tierMinPieces}`, `${l.percent}%`, money(l.discount)]);
    rows.push(['total', '', c.pieces, money(c.amount), '', '', money(c.discount)]);
    const zero = c.zeroValue ? `; ${c.zeroValue} zero-value pieces not counted` : '';
    out.push('', `customer ${c.customer}: ${SETTLED_AS[c.settlement]}${zero}`, withTotalsLine(table(rows, ['rule', 'classes', 'pieces', 'amount', 'tier', 'percent', 'discount'])));
  }
  const t = d.totals;
  const zero = t.zeroValue ? ` (${t.zeroValue} zero-value pieces not counted)` : '';
  out.push('', `all customers: ${t.pieces} pieces${zero}, amount ${money(t.amount)}, discounts ${money(t.discount)} (paid back ${money(t.paidBack)}, credited ${money(t.credited)})`);
  return out.join('\n');
}

export function discountsCommand(io: CommandOutput = consoleOutput): Command {
  return new Command('discounts')
    .description(
      "each customer's discount or credit for a period under the postal authority's volume rules: pieces and amount per rule " +
        '(across every device that franked for the customer), tier reached, discount rounded down to the minor unit'
    )
    .addOption(new Option('--period <period>', 'the period: YYYY-MM (or YYYY-Qn / YYYY when the rules count per quarter / year)'))
    .option('--rules <file>', 'discount rules (JSON)', DEFAULT_RULES_FILE)
    .option('--customer <n[,n]>', 'only these customers (repeatable)', numberList('--customer'))
    .option('--json', 'machine-readable output')
    .addOption(dataOption())
    .action(async (o, cmd: Command) => {
      const { dataDir, json } = sharedOpts(cmd);
      if (!o.period) throw new PssError('BAD_ARGUMENT', 'give --period, e.g. --period 2026-11');
      const rules = loadDiscountConfig(o.rules);
      const period = parsePeriod(o.period, rules.period);
      const db = await openStatisticsSnapshot(requireDataCenter(dataDir));
      try {
        const report = computeDiscounts(db, rules, period, o.customer);
        io.out(json ? JSON.stringify(report, null, 2) : formatDiscounts(report));
      } finally {
        db.close();
      }
    });
}
