// Customer accounts for the operator: `pss account create|list|assign`, `pss deposit`,
// `pss ledger`, `pss withdraw`. Funds resets are paid from the account a device belongs to:
// refused beyond its balance, debited in the same transaction that issues the reset.
import { Command } from 'commander';
import { table, money } from '../../kit/output.ts';
import { openDataCenter } from '../datacenter.ts';
import { parseDay, DAY_SECONDS, isoTime } from '../report.ts';
import { PssError } from '../../protocol/pss-errors.ts';
import type { LedgerEntry } from '../kms.ts';
import { existingDataDir, json, positiveInt, deviceNumber } from './common.ts';

const MAX_U48 = 2 ** 48 - 1;

async function withDc<T>(cmd: Command, fn: (dc: Awaited<ReturnType<typeof openDataCenter>>) => T): Promise<T> {
  const dc = await openDataCenter(existingDataDir(cmd));
  try {
    return fn(dc);
  } finally {
    dc.close();
  }
}

export function accountCommand(): Command {
  const account = new Command('account').description('customer accounts that pay for funds resets: create, list, assign a device');
  account
    .command('create')
    .description('open a customer account (balance 0); prints its number')
    .requiredOption('--name <name>', "the customer's name")
    .option('--json', 'machine-readable output')
    .action((o, cmd: Command) =>
      withDc(cmd, (dc) => {
        const a = dc.kms.createAccount(o.name);
        console.log(json(cmd) ? JSON.stringify(a) : String(a.account));
      })
    );
  account
    .command('list')
    .description('accounts with their balances and devices')
    .option('--json', 'machine-readable output')
    .action((_o, cmd: Command) =>
      withDc(cmd, (dc) => {
        const devices = dc.kms.devices();
        const rows = dc.kms.accounts().map((a) => ({ ...a, devices: devices.filter((d) => d.account === a.account).map((d) => d.device) }));
        if (json(cmd)) return console.log(JSON.stringify(rows, null, 2));
        if (!rows.length) return console.log('no accounts (pss account create --name <name>)');
        console.log(table(rows.map((a) => [a.account, a.name, money(a.balance), a.devices.join(' ')]), ['account', 'name', 'balance', 'devices']));
      })
    );
  account
    .command('assign')
    .description('the account that pays this device’s funds resets from now on')
    .argument('<device>', 'device (PSD-4711 or 4711)')
    .requiredOption('--account <n>', 'account number')
    .option('--json', 'machine-readable output')
    .action((device: string, o, cmd: Command) =>
      withDc(cmd, (dc) => {
        const row = dc.kms.assignAccount(deviceNumber(device), positiveInt(o.account, '--account', 1, MAX_U48));
        console.log(json(cmd) ? JSON.stringify({ device: row.device, account: row.account }) : `device ${row.device} is paid from account ${row.account}`);
      })
    );
  return account;
}

export function depositCommand(): Command {
  return new Command('deposit')
    .description('a payment into a customer account: its balance grows, the ledger notes it')
    .requiredOption('--account <n>', 'account number')
    .requiredOption('--amount <minor>', 'minor units')
    .option('--reference <text>', "the payment's reference")
    .option('--json', 'machine-readable output')
    .action((o, cmd: Command) =>
      withDc(cmd, (dc) => {
        const e = dc.kms.deposit(positiveInt(o.account, '--account', 1, MAX_U48), positiveInt(o.amount, '--amount', 1, MAX_U48), o.reference);
        console.log(json(cmd) ? JSON.stringify(e) : `account ${e.account}: deposit ${money(e.amount)}, balance ${money(e.balance)}`);
      })
    );
}

export function formatLedger(entries: LedgerEntry[]): string {
  if (!entries.length) return 'no ledger entries';
  return table(
    entries.map((e) => [e.entry, isoTime(e.at), e.account, e.kind, (e.amount > 0 ? '+' : '') + money(e.amount), money(e.balance), e.device ?? '', e.counter ?? '', e.reference ?? '']),
    ['entry', 'at', 'account', 'kind', 'amount', 'balance', 'device', 'funds counter', 'reference']
  );
}

export function ledgerCommand(): Command {
  return new Command('ledger')
    .description('the funds ledger: every deposit, funds reset issued and withdrawal, with the balance after it')
    .option('--account <n>', 'one account only')
    .option('--from <YYYY-MM-DD>', 'first day (UTC)')
    .option('--to <YYYY-MM-DD>', 'last day (UTC), inclusive')
    .option('--json', 'machine-readable output')
    .action((o, cmd: Command) =>
      withDc(cmd, (dc) => {
        const from = o.from === undefined ? undefined : parseDay(o.from, '--from');
        const to = o.to === undefined ? undefined : parseDay(o.to, '--to') + DAY_SECONDS;
        if (from !== undefined && to !== undefined && from >= to) throw new PssError('BAD_ARGUMENT', `--from ${o.from} is after --to ${o.to}`);
        const entries = dc.kms.ledger({ account: o.account === undefined ? undefined : positiveInt(o.account, '--account', 1, MAX_U48), from, to });
        console.log(json(cmd) ? JSON.stringify(entries, null, 2) : formatLedger(entries));
      })
    );
}

export function withdrawCommand(): Command {
  return new Command('withdraw')
    .description(
      "withdraw a device without it (lost, broken, not at hand): marked withdrawing, no funds, keys or parameters from now on, its refund PENDING until the PSD's own final figures arrive (connect it: psd upload --session --withdraw credits its unused descending register and erases its keys). With the PSD at hand, use that alone."
    )
    .argument('<device>', 'device (PSD-4711 or 4711)')
    .option('--json', 'machine-readable output')
    .action((device: string, _o, cmd: Command) =>
      withDc(cmd, (dc) => {
        const r = dc.kms.withdraw(deviceNumber(device));
        console.log(
          json(cmd)
            ? JSON.stringify(r)
            : [
                `device ${r.device} withdrawn at the data center: refund PENDING, nothing credited yet`,
                `  the PSD still holds its keys and may frank until its contact lock-out: its last block${r.seq === null ? ' (none uploaded yet)' : ` (${r.seq}, descending register ${money(r.lastDescending!)})`} is no final figure`,
                `  connect it and run psd upload --session --withdraw: its final figures are credited to ${r.account === null ? 'no account (the device has none)' : `account ${r.account}`} and its keys erased`
              ].join('\n')
        );
      })
    );
}
