// The device audits and coded events the PSS holds (server/audits.ts): `pss audits` lists each
// audit with the breaks in continuity it showed, `pss events` the events the audits carried.
import { Command } from 'commander';
import { table, money } from '../../kit/output.ts';
import { openDataCenter } from '../datacenter.ts';
import { isoTime } from '../report.ts';
import { listAudits, listEvents } from '../audits.ts';
import { AuditEvent } from '../../protocol/audit.ts';
import { existingDataDir, json, deviceNumber } from './common.ts';

/** What an event's detail number means, per code. */
function detailText(code: number, detail: number): string {
  switch (code) {
    case AuditEvent.SELF_TEST:
      return detail ? 'FAILED' : 'passed';
    case AuditEvent.REKEY:
      return `key version ${detail}`;
    case AuditEvent.UPLOAD:
      return `block ${detail} confirmed`;
    case AuditEvent.RATES:
      return `rate table ${detail}`;
    case AuditEvent.CLOCK:
    case AuditEvent.TRUSTED_TIME:
      return `moved ${detail > 0 ? '+' : ''}${detail} s`;
    case AuditEvent.FUNDS:
      return `funds reset ${detail}`;
    case AuditEvent.UNLOCK:
      return `${detail} h since the previous contact`;
    default:
      return detail ? String(detail) : '';
  }
}

export function eventsCommand(): Command {
  return new Command('events')
    .description("the coded events the PSDs' audits brought (self-test, tamper, rekey, upload, rate table, clock moves, funds resets, withdrawal, lock-out released), per device, oldest first")
    .option('--device <n>', 'one device (PSD-4711 or 4711)')
    .option('--json', 'machine-readable output')
    .action(async (o, cmd: Command) => {
      const device = o.device === undefined ? undefined : deviceNumber(o.device, '--device');
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const events = dc.store.read(() => listEvents(dc.store, device)).map((e) => ({ ...e, text: detailText(e.code, e.detail) }));
        if (json(cmd)) return console.log(JSON.stringify(events, null, 2));
        if (!events.length) return console.log(`no events${device === undefined ? '' : ` of PSD-${device}`}: they arrive with the audits of psd upload`);
        console.log(table(events.map((e) => [`PSD-${e.device}`, e.number, e.name, e.time ? isoTime(e.time) : 'clock not set', e.text, e.auditSeq]), ['device', 'event', 'code', 'device time', 'detail', 'audit']));
      } finally {
        dc.close();
      }
    });
}

export function auditsCommand(): Command {
  return new Command('audits')
    .description('the device audits of every contact (registers, control total, pieces, key and rate table versions, event counters) and the breaks in continuity the PSS flagged')
    .option('--device <n>', 'one device (PSD-4711 or 4711)')
    .option('--flagged', 'only audits with a flag')
    .option('--json', 'machine-readable output')
    .action(async (o, cmd: Command) => {
      const device = o.device === undefined ? undefined : deviceNumber(o.device, '--device');
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const audits = dc.store.read(() => listAudits(dc.store, device)).filter((a) => !o.flagged || a.flags.length);
        if (json(cmd)) return console.log(JSON.stringify(audits, null, 2));
        if (!audits.length) return console.log(`no audits${o.flagged ? ' with flags' : ''}${device === undefined ? '' : ` of PSD-${device}`}`);
        console.log(
          table(
            audits.map((a) => [`PSD-${a.device}`, a.seq, a.time ? isoTime(a.time) : 'clock not set', money(a.ascending), money(a.descending), money(a.controlTotal), a.pieces, a.zeroPieces, a.blockSeq, a.keyVersion, a.rateVersion, a.eventCount, a.flags.length ? 'FLAGGED' : 'ok']),
            ['device', 'audit', 'device time', 'AR', 'DR', 'AR+DR', 'pieces', 'zero-value', 'block', 'keys', 'rates', 'events', 'continuity']
          )
        );
        const flagged = audits.filter((a) => a.flags.length);
        for (const a of flagged) for (const f of a.flags) console.log(`PSD-${a.device} audit ${a.seq}: ${f.kind}: ${f.detail}`);
      } finally {
        dc.close();
      }
    });
}
