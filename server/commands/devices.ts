// The KMS registry for the operator: `pss devices`, `pss register`, `pss revoke`. They act on
// the database directly (server/db.ts takes care of a `pss serve` running on it). No key is
// ever printed: keys reach a device only through `psd provision --kms`.
import { Command } from 'commander';
import { table } from '../../kit/output.ts';
import { openDataCenter } from '../datacenter.ts';
import { sealName, sealNumber, type DeviceRow } from '../kms.ts';
import { existingDataDir, json, positiveInt, deviceNumber } from './common.ts';

interface DeviceListing {
  device: number;
  serial: string;
  board: string;
  seal: string;
  status: string;
  certified: boolean;
  fundsCounter: number;
  account: number | null;
  lastSeq: number;
  blocks: number;
  registeredAt: string;
  revokedAt: string | null;
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t * 1000).toISOString().replace('.000Z', 'Z');
}

function listing(row: DeviceRow, blocks: { n: number; last: number | null }): DeviceListing {
  return {
    device: row.device,
    serial: row.serial,
    board: row.board,
    seal: sealName(row.seal),
    status: row.status,
    certified: !!row.certificate,
    fundsCounter: row.funds_counter,
    account: row.account ?? null,
    lastSeq: blocks.last ?? 0,
    blocks: blocks.n,
    registeredAt: iso(row.registered_at)!,
    revokedAt: iso(row.revoked_at)
  };
}

export function devicesCommand(): Command {
  return new Command('devices')
    .description('list the registered devices (never their keys)')
    .option('--json', 'machine-readable output')
    .action(async (_o, cmd: Command) => {
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const rows = dc.kms.devices().map((r) => listing(r, dc.store.get<{ n: number; last: number | null }>('SELECT COUNT(*) AS n, MAX(seq) AS last FROM blocks WHERE device = ?', [r.device])!));
        if (json(cmd)) return console.log(JSON.stringify(rows, null, 2));
        if (!rows.length) return console.log('no devices registered (pss register --serial <s> --board <b>)');
        console.log(
          table(
            rows.map((d) => [d.device, d.serial, d.board, d.seal + (d.seal === 'ed25519' ? (d.certified ? ' (certified)' : ' (no certificate)') : ''), d.status, d.account ?? '-', d.fundsCounter, d.lastSeq, d.registeredAt]),
            ['device', 'serial', 'board', 'seal', 'status', 'account', 'funds counter', 'last block', 'registered']
          )
        );
      } finally {
        dc.close();
      }
    });
}

export function registerCommand(): Command {
  return new Command('register')
    .description('register a board by its serial number; prints its device number (keys go to the device only through `psd provision --kms`)')
    .requiredOption('--serial <serial>', "the board's chip serial number")
    .requiredOption('--board <id>', 'board-defs id (pico, wifi, ..., esp32)')
    .option('--seal <hmac|ed25519>', "seal algorithm (default: the board's)")
    .option('--account <n>', 'the customer account that pays its funds resets (pss account create)')
    .option('--json', 'machine-readable output')
    .action(async (o, cmd: Command) => {
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const r = dc.kms.registerDevice(o.serial, o.board, o.seal === undefined ? undefined : sealNumber(o.seal), o.account === undefined ? undefined : positiveInt(o.account, '--account', 1, 2 ** 48 - 1));
        if (json(cmd)) console.log(JSON.stringify({ device: r.device, seal: sealName(r.seal) }));
        else console.log(String(r.device));
      } finally {
        dc.close();
      }
    });
}

export function revokeCommand(): Command {
  return new Command('revoke')
    .description('revoke a device: its uploads, sessions and funds resets are refused from now on')
    .argument('<device>', 'device (PSD-4711 or 4711)')
    .option('--forfeit-refund', 'revoke a device being withdrawn (pss withdraw without the PSD) although its refund is still pending: it will never be credited')
    .option('--json', 'machine-readable output')
    .action(async (device: string, o, cmd: Command) => {
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const row = dc.kms.revokeByOperator(deviceNumber(device), o.forfeitRefund === true);
        if (json(cmd)) console.log(JSON.stringify({ device: row.device, status: row.status, revokedAt: iso(row.revoked_at), refundForfeited: row.refundForfeited }));
        else console.log(`device ${row.device} revoked at ${iso(row.revoked_at)}${row.refundForfeited ? ' (its pending withdrawal refund is forfeited: nothing will be credited)' : ''}`);
      } finally {
        dc.close();
      }
    });
}
