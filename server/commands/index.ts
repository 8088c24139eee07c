// Commands that engineers add to `pss` beside the core ones: server/cli.ts adds each factory's
// command to the program. Append a factory here for a new command.
import type { Command } from 'commander';
import { verifyIndiciumCommand } from './verify-indicium.ts';
import { reportCommand } from './report.ts';
import { discountsCommand } from './discounts.ts';
import { exportCommand } from './export.ts';
import { initCommand, credentialCommand } from './credentials.ts';
import { accountCommand, depositCommand, ledgerCommand, withdrawCommand } from './accounts.ts';
import { migrateCommand } from './migrate.ts';
import { ratesCommand } from './rates.ts';
import { auditsCommand, eventsCommand } from './audits.ts';

export const extraCommands: (() => Command)[] = [verifyIndiciumCommand, reportCommand, discountsCommand, exportCommand, accountCommand, depositCommand, ledgerCommand, withdrawCommand, initCommand, credentialCommand, migrateCommand, ratesCommand, auditsCommand, eventsCommand];
