// Rate tables for the postal operator: `pss rates add`, `pss rates list`. Every secure session
// brings the PSDs the table in force and the newer ones; each switches on its effective date.
import fs from 'node:fs';
import { Command } from 'commander';
import { table, money } from '../../kit/output.ts';
import { openDataCenter } from '../datacenter.ts';
import { parseDay, isoTime } from '../report.ts';
import { PssError } from '../../protocol/pss-errors.ts';
import { ANY_BAND } from '../../protocol/rates.ts';
import { WEIGHT_BANDS_G } from '../../protocol/records.ts';
import { addRateTable, rateTables, parseRateEntries } from '../rates.ts';
import { existingDataDir, json, positiveInt } from './common.ts';

function bandName(band: number): string {
  return band === ANY_BAND ? 'any' : `${band} (up to ${WEIGHT_BANDS_G[band]} g)`;
}

export function ratesCommand(): Command {
  const rates = new Command('rates').description('rate tables (category x weight band -> postage) the PSDs take in their next session and switch to on the effective date');
  rates
    .command('add')
    .description('add a rate table: --file holds JSON [{"category": 1, "band": "any" | <weight band index>, "postage": 85}, ...]; categories it does not list stay manual (the host declares their postage)')
    .requiredOption('--version <n>', 'table version, above every earlier one (1..65535)')
    .requiredOption('--effective <YYYY-MM-DD>', 'the UTC day from which the PSDs use it')
    .requiredOption('--file <file>', 'the entries (JSON list)')
    .option('--json', 'machine-readable output')
    .action(async (o, cmd: Command) => {
      let entries: unknown;
      try {
        entries = JSON.parse(fs.readFileSync(o.file, 'utf8'));
      } catch (e) {
        throw new PssError('BAD_ARGUMENT', `--file ${o.file}: ${(e as Error).message}`);
      }
      const t = { version: positiveInt(o.version, '--version', 1, 65535), effective: parseDay(o.effective, '--effective'), entries: parseRateEntries(entries) };
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        addRateTable(dc.store, t);
      } finally {
        dc.close();
      }
      console.log(json(cmd) ? JSON.stringify(t) : `rate table ${t.version}: ${t.entries.length} entries, in force from ${isoTime(t.effective)}`);
    });
  rates
    .command('list')
    .description('every rate table, oldest first')
    .option('--json', 'machine-readable output')
    .action(async (_o, cmd: Command) => {
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const all = rateTables(dc.store);
        if (json(cmd)) return console.log(JSON.stringify(all, null, 2));
        if (!all.length) return console.log('no rate tables (pss rates add): every category is manual');
        for (const t of all) {
          console.log(`rate table ${t.version}, in force from ${isoTime(t.effective)}`);
          console.log(table(t.entries.map((e) => [e.category, bandName(e.band), money(e.postage)]), ['category', 'weight band', 'postage']));
        }
      } finally {
        dc.close();
      }
    });
  return rates;
}
