// `pss migrate --from <data folder or pss.sqlite> --to postgres://...`: moves the PSS database
// from SQLite to PostgreSQL (server/migrate.ts); afterwards `pss serve --db <the same URL>`.
import path from 'node:path';
import { Command } from 'commander';
import { migrateToPostgres, sqliteFileOf } from '../migrate.ts';
import { isPostgresUrl, databaseUrlFor } from '../pg-store.ts';
import { PssError } from '../../protocol/pss-errors.ts';
import { json } from './common.ts';
import { table, commandLine } from '../../kit/output.ts';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('move the PSS database from SQLite (a data folder or its pss.sqlite) to PostgreSQL: every table in one transaction, row counts verified; the SQLite file keeps its rows and is marked as moved (it takes no more changes)')
    .requiredOption('--from <path>', 'the data folder (or its pss.sqlite) to read')
    .requiredOption('--to <url>', 'postgres://user@host:port/name: an empty database (made if the server has none of that name)')
    .option('--json', 'machine-readable output')
    .action((o, cmd: Command) => {
      if (!isPostgresUrl(o.to)) throw new PssError('BAD_ARGUMENT', `--to must be a postgres:// URL`);
      const file = sqliteFileOf(o.from);
      const dataDir = path.dirname(file);
      const r = migrateToPostgres(file, databaseUrlFor(o.to, dataDir), { dataDir });
      if (json(cmd)) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(`pss: moved ${r.from} to ${r.to} in ${r.seconds.toFixed(1)} s, row counts verified:`);
        console.log(table(r.tables.map((t) => [t.table, t.rows]), ['table', 'rows']));
        // quoted: a socket URL's `?` is a glob (zsh refuses the line unquoted)
        console.log(`pss: serve it with: ${commandLine(['pss', 'serve', '--data', dataDir, '--db', r.to])}  (or ${commandLine([`PSS_DB=${r.to}`])})`);
      }
    });
}
