// `psd` commands for provisioning, funds, batches, franking, statistics and configuration.
// Every request/answer body is the one firmware/core/psd.ts defines.
import crypto from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { Command as Cmd, MAX_PIECES_PER_FRANK } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import type { Registers } from '../protocol/bodies.ts';
import { fundsMessage } from '../protocol/auth.ts';
import { fromHex } from '../protocol/bytes.ts';
import { weightBand, MIXED_BAND, WEIGHT_BANDS_G, MAX_WEIGHT_G, MAX_CATEGORIES, MAX_U32, type CumulativeRecord } from '../protocol/records.ts';
import { decodeRecord } from '../protocol/record-codec.ts';
import { PsdError } from './errors.ts';
import { table, keyValues, money } from '../kit/output.ts';
import { addStatisticsCommands } from './statistics.ts';
import { runFranking, syncClock, type FrankRunParams } from './frank-run.ts';
import { defaultStoreDir } from './store.ts';
import { addUploadCommand, provisionFromKms, fundsFromKms } from './upload.ts';
import { int, deviceNumber, formatClock, bandLabel, type CliKit } from './cli-kit.ts';

export { int, deviceNumber, formatClock, bandLabel, type CliKit };

function hex(bytes: number) {
  return (v: string): string => {
    if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(v)) throw new InvalidArgumentError(`must be ${bytes} bytes as ${bytes * 2} hex digits`);
    return v.toLowerCase();
  };
}

function badArg(msg: string, hint?: string): PsdError {
  return new PsdError(ErrorCode.BAD_ARGUMENT, msg, hint);
}

function registerPairs(r: Registers): [string, unknown][] {
  return [
    ['ascending', money(r.ascending)],
    ['descending', money(r.descending)],
    ['control total', money(r.controlTotal)],
    ['pieces', r.pieces]
  ];
}

export function addFrankingCommands(program: Command, kit: CliKit) {
  const { withDevice, print } = kit;

  program
    .command('clock')
    .description('set the device clock (default: this host\'s time). The clock restarts at each power-up; commands that frank or open a batch set it themselves')
    .option('--now <ISO>', 'time to set, ISO 8601 (e.g. 2026-11-24T12:00:00Z)')
    .action(async (o, cmd: Command) => {
      let now = Date.now();
      if (o.now !== undefined) {
        now = Date.parse(o.now);
        if (!Number.isFinite(now) || now <= 0) throw badArg(`--now ${o.now} is not an ISO 8601 time`);
      }
      const clock = await withDevice(cmd, (c) => syncClock(c, now));
      print(cmd, { clock, iso: formatClock(clock) }, () => keyValues([['device clock', formatClock(clock)]]));
    });

  program
    .command('provision')
    .description(
      'give an unprovisioned device its number and keys, once: from the KMS (--kms: it registers the device, and certifies the public key of a board that signs), or LAB/TEST ONLY from keys given here'
    )
    .addOption(new Option('--kms <host:port>', 'the data center (pss serve) that registers the device').env('PSS_ADDRESS'))
    .option('--device <n>', 'LAB/TEST: device number (4711 or PSD-4711)', deviceNumber(1, MAX_U32))
    .option('--device-key <hex64>', 'LAB/TEST: device key (MACs indicia and blocks), 32 bytes hex', hex(32))
    .option('--kms-key <hex64>', 'LAB/TEST: KMS key (authenticates funds resets), 32 bytes hex', hex(32))
    .action(async (o, cmd: Command) => {
      const lab = o.device !== undefined || o.deviceKey !== undefined || o.kmsKey !== undefined;
      if (lab && (o.device === undefined || !o.deviceKey || !o.kmsKey)) throw badArg('lab provisioning needs --device, --device-key and --kms-key', 'or use --kms <host:port>');
      if (!lab && !o.kms) throw badArg('give --kms <host:port> (the data center), or lab keys', 'see psd provision --help');
      const r = await withDevice(cmd, (c) => (lab ? c.request(Cmd.PROVISION, { device: o.device, deviceKey: o.deviceKey, kmsKey: o.kmsKey }) : provisionFromKms(c, o.kms)));
      print(cmd, r, () =>
        keyValues([
          ['provisioned', `PSD-${r.device}`],
          ['seal', r.seal === 'ed25519' ? `Ed25519 (public key ${r.publicKey}${'certified' in r && r.certified ? ', certified by the KMS' : ''})` : 'HMAC-SHA256 under the device key'],
          ['next', lab ? 'psd funds --amount <minor> --kms-key <hex>' : 'psd funds --kms <host:port> --amount <minor>']
        ])
      );
    });

  program
    .command('funds')
    .description(
      'load funds into the descending register: either a reset the KMS authenticated (--counter, --amount, --mac), or --amount with --kms-key, a LAB/TEST stand-in for the KMS that computes the MAC here (HMAC-SHA256 over the funds message, counter = device funds counter + 1)'
    )
    .requiredOption('--amount <minor>', 'amount in minor units (cents)', int(1, 2 ** 48 - 1))
    .option('--counter <n>', 'funds counter the KMS used (device funds counter + 1)', int(1, MAX_U32))
    .option('--mac <hex>', 'HMAC-SHA256 from the KMS, 32 bytes hex', hex(32))
    .addOption(new Option('--kms <host:port>', 'ask the KMS (pss serve) for the funds reset and load it').conflicts(['mac', 'counter', 'kmsKey']))
    .addOption(new Option('--kms-key <hex64>', 'LAB/TEST: compute the MAC with this KMS key instead of asking the KMS').argParser(hex(32)).conflicts(['mac', 'counter']))
    .action(async (o, cmd: Command) => {
      if (!o.kms && !o.kmsKey && (o.counter === undefined || o.mac === undefined)) throw badArg('give --kms <host:port>, or --counter and --mac (from the KMS), or --kms-key (lab/test)', 'see psd funds --help');
      let auditLine = '';
      const r = await withDevice(cmd, async (c) => {
        if (o.kms) return fundsFromKms(c, o.kms, o.amount, (line) => (auditLine = line));
        let counter = o.counter;
        let mac = o.mac;
        if (o.kmsKey) {
          const s = await c.request(Cmd.STATUS);
          if (!s.device) throw new PsdError(ErrorCode.NOT_PROVISIONED, undefined, 'provision it first (psd provision, lab/test)');
          counter = s.fundsCounter + 1;
          mac = crypto.createHmac('sha256', Buffer.from(o.kmsKey, 'hex')).update(Buffer.from(fundsMessage(s.device, counter, o.amount), 'latin1')).digest('hex');
        }
        return c.request(Cmd.FUNDS, { counter, amount: o.amount, mac });
      });
      print(cmd, auditLine ? { ...r, audit: auditLine } : r, () => keyValues([['funds counter', r.fundsCounter], ...registerPairs(r.registers), ...(auditLine ? ([['audit', auditLine]] as [string, unknown][]) : [])]));
    });

  const batch = program.command('batch').description('open and close batches of franking for one customer');
  batch
    .command('start')
    .description('open a batch for a customer: mode batch fixes category, weight and postage for every piece (frank --count); mode dynamic takes them per piece. Sets the device clock first')
    .requiredOption('--customer <n>', 'customer number', int(1, MAX_U32))
    .addOption(new Option('--mode <mode>', 'batch or dynamic').choices(['batch', 'dynamic']).makeOptionMandatory())
    .option('--category <n>', 'category (batch mode)', int(0, MAX_CATEGORIES - 1))
    .option('--weight <g>', 'weight per piece in grams (batch mode)', int(1, MAX_WEIGHT_G))
    .option('--postage <minor>', 'postage per piece in minor units (batch mode); optional where the rate table in force on the PSD lists the category (it must agree)', int(1, MAX_U32))
    .action(async (o, cmd: Command) => {
      const fixed = [o.category, o.weight, o.postage];
      // (--postage may be left to the rate table in force on the PSD)
      if (o.mode === 'batch' && [o.category, o.weight].some((v) => v === undefined)) throw badArg('mode batch needs --category and --weight (and --postage where no rate table lists it)', 'see psd batch start --help');
      if (o.mode === 'dynamic' && fixed.some((v) => v !== undefined)) throw badArg('mode dynamic takes category, weight and postage per piece (psd frank), not at batch start');
      const r = await withDevice(cmd, async (c) => {
        await syncClock(c);
        return c.request(Cmd.BATCH_START, { customer: o.customer, mode: o.mode, category: o.category, weight: o.weight, postage: o.postage });
      });
      print(cmd, r, () => keyValues(batchPairs(r.batch)));
    });
  batch
    .command('end')
    .description('close the open batch (the device flushes its statistics to flash)')
    .action(async (_o, cmd: Command) => {
      const r = await withDevice(cmd, (c) => c.request(Cmd.BATCH_END));
      print(cmd, r, () => keyValues([['closed transaction', r.txn], ['pieces in batch', r.pieces], ['records flushed', r.flushed], ...registerPairs(r.registers)]));
    });

  program
    .command('frank')
    .description(
      'frank pieces. No batch open: one piece, give --customer --category --weight --postage. Dynamic batch open: one piece, give --category --weight --postage. Batch-mode batch open: --count pieces, sent in chunks (each a request with its own id, retried with the same id on a timeout, so never charged twice). Sets the device clock first'
    )
    .option('--customer <n>', 'customer number (single piece, no batch open)', int(1, MAX_U32))
    .option('--category <n>', 'category (single or dynamic)', int(0, MAX_CATEGORIES - 1))
    .option('--weight <g>', 'weight in grams (single or dynamic)', int(1, MAX_WEIGHT_G))
    .option('--postage <minor>', 'postage in minor units (single or dynamic); optional where the rate table in force on the PSD lists the category (it must agree)', int(1, MAX_U32))
    .option('--zero-value', 'a zero-value piece: postage 0, no funds moved, counted apart (own register, records of postage 0); not in batch mode')
    .option('--test-imprint', 'a test imprint: marked TEST on the indicium, no funds moved, no statistics, counted in its own register; not in batch mode')
    .option('--count <n>', 'pieces to frank (batch mode)', int(1, MAX_U32))
    .option('--chunk <n>', `pieces per request (batch mode, at most ${MAX_PIECES_PER_FRANK})`, int(1, MAX_PIECES_PER_FRANK), 250)
    .option('--id <n>', 'request id to use (one request): resend the id a lost line left unanswered; the device answers from its commit and never charges twice', int(1, MAX_U32))
    .option('--indicia', 'fetch every indicium (hex) and print it, or include it in --json')
    .addOption(new Option('--store <dir>', 'host store (where the records are kept when the PSD keeps them on the host)').env('PSD_STORE').default(defaultStoreDir()))
    .option('--print <dir>', 'fetch every indicium and write each as <dir>/PSD-<device>-<piece>.png and .svg (Data Matrix + fields), at true size')
    .option('--dpi <n>', 'with --print: the PNG\'s resolution, recorded in it (300 or 600 for indicia; 72..2400)', int(72, 2400), 300)
    .option('--module-mm <mm>', 'with --print: the Data Matrix module size the postal operator specifies, mm (0.2..2); the PNG uses whole dots and states the size that gives', (v: string) => {
      if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < 0.2 || Number(v) > 2) throw new InvalidArgumentError('a module size in mm, 0.2..2 (e.g. 0.5)');
      return Number(v);
    }, 0.5)
    .addOption(new Option('--currency <ISO 4217>', 'with --print: currency printed with the amounts').env('PSD_CURRENCY').default('EUR').argParser((v: string) => {
      if (!/^[A-Z]{3}$/.test(v)) throw new InvalidArgumentError('an ISO 4217 code, three capital letters (EUR, CHF, GBP, USD...)');
      return v;
    }))
    .action(async (o, cmd: Command) => {
      const json = kit.json(cmd);
      // --print: checked before franking, so a bad directory fails before any piece is charged
      const printer = o.print === undefined ? null : await import('./print.ts');
      const printDir = printer ? await printer.preparePrintDir(o.print) : null;
      if (o.zeroValue && o.testImprint) throw badArg('--zero-value or --test-imprint, not both');
      const kind = o.zeroValue ? 'zero' : o.testImprint ? 'test' : undefined;
      const params: FrankRunParams = {
        customer: o.customer,
        category: o.category,
        weight: o.weight,
        postage: o.postage,
        kind,
        count: o.count,
        chunk: o.chunk,
        id: o.id,
        indicia: !!(o.indicia || printDir),
        store: o.store
      };
      const result = await withDevice(cmd, async (c) => {
        let bar: cliProgress.SingleBar | null = null;
        let batchMode = false;
        let pieces = 0;
        let inFlight: { id: number; count: number } | null = null;
        // Ctrl-C: the request on the line is answered first (the device may have committed it),
        // then no more are sent and the result says how far it got; a second Ctrl-C leaves at once
        let interrupted = false;
        const onInt = () => {
          if (interrupted) {
            process.stderr.write(`\npsd frank: stopped at once: ${pieces} piece${pieces === 1 ? '' : 's'} franked and acknowledged${inFlight ? `, request id ${inFlight.id} (${inFlight.count} pieces) unanswered: \`psd frank --id ${inFlight.id}${batchMode ? ` --count ${inFlight.count}` : ''}\` settles it` : ''}\n`);
            process.exit(130);
          }
          interrupted = true;
          bar?.stop();
          process.stderr.write(`\npsd frank: interrupted: finishing the request on the line, then stopping (Ctrl-C again to leave at once)\n`);
        };
        try {
          return await runFranking(c, params, {
            start: ({ total, requests, mode }) => {
              batchMode = mode === 'batch';
              if (!json && process.stderr.isTTY && requests > 1) {
                bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'franking [{bar}] {value}/{total} pieces | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic);
                bar.start(total, 0);
              }
              process.on('SIGINT', onInt);
            },
            inFlight: (r) => (inFlight = r),
            progress: (n) => {
              pieces = n;
              bar?.update(n);
            },
            stopping: () => interrupted
          });
        } finally {
          process.off('SIGINT', onInt);
          (bar as cliProgress.SingleBar | null)?.stop();
        }
      });
      const printed = printer && printDir ? await printer.printIndicia(result.indicia!, printDir, { dpi: o.dpi, moduleMm: o.moduleMm, currency: o.currency }) : null;
      print(cmd, printed ? { ...result, printed } : result, () => {
        const lines = keyValues([
          ...(result.replay
            ? ([['REPLAY', `request id ${result.ids[0]} was franked before: the device answered from that commit, nothing was charged now`]] as [string, unknown][])
            : []),
          ...(result.interrupted ? ([['INTERRUPTED', `${result.pieces} of ${result.requested} pieces franked (Ctrl-C); the other ${(result.requested ?? 0) - result.pieces} were not sent`]] as [string, unknown][]) : []),
          ...(result.contactLockInS !== undefined
            ? ([['CONTACT', `no contact with the data center for too long: franking locks in ${(result.contactLockInS / 3600).toFixed(1)} h unless the statistics are uploaded (psd upload)`]] as [string, unknown][])
            : []),
          [result.replay ? 'franked before' : 'franked', `${result.pieces} ${result.kind ? result.kind + ' ' : ''}piece${result.pieces === 1 ? '' : 's'} (${result.mode}${result.txn ? `, batch ${result.txn}` : ''}, customer ${result.customer})`],
          ['amount', money(result.amount)],
          ['requests', `${result.requests}${result.retries ? ` (${result.retries} retried after a timeout)` : ''}`],
          ...registerPairs(result.registers)
        ]);
        const sizes = (p: NonNullable<typeof printed>[number]) =>
          [
            `wrote ${p.png} (${p.dpi} dpi: ${p.modules}x${p.modules} modules of ${p.moduleMm.png} mm, symbol ${p.symbolMm.png} mm square, label ${p.labelMm.png[0]} x ${p.labelMm.png[1]} mm)`,
            `wrote ${p.svg} (mm: modules of ${p.moduleMm.svg} mm, symbol ${p.symbolMm.svg} mm square, label ${p.labelMm.svg[0]} x ${p.labelMm.svg[1]} mm)`
          ];
        const written = printed ? '\n' + printed.flatMap(sizes).join('\n') + `\namounts in ${o.currency}` : '';
        return (o.indicia ? lines + '\nindicia:\n' + result.indicia!.join('\n') : lines) + written;
      });
      if (result.interrupted) process.exitCode = 130;
    });

  const stats = program.command('stats').description('cumulative statistics records on the device');
  stats
    .command('flush')
    .description('move the statistics records from RAM to flash now')
    .action(async (_o, cmd: Command) => {
      const r = await withDevice(cmd, (c) => c.request(Cmd.STATS_FLUSH));
      print(cmd, r, () => keyValues([['records flushed', r.flushed], ['records in flash', r.records]]));
    });
  stats
    .command('list')
    .description('list the cumulative records (customer, category, weight band, postage): flash, RAM (not yet flushed) or all')
    .addOption(new Option('--tier <tier>', 'which records').choices(['flash', 'ram', 'all']).default('all'))
    .action(async (o, cmd: Command) => {
      const tiers = o.tier === 'all' ? ['flash', 'ram'] : [o.tier];
      const rows = await withDevice(cmd, async (c) => {
        const out: (CumulativeRecord & { tier: string })[] = [];
        for (const tier of tiers) {
          for (let from = 0; ; ) {
            const r = await c.request(Cmd.STATS_LIST, { tier, from });
            for (const h of r.records) out.push({ tier, ...decodeRecord(fromHex(h), 0) });
            from += r.records.length;
            if (from >= r.total || !r.records.length) break;
          }
        }
        return out;
      });
      print(cmd, rows, () => {
        if (!rows.length) return 'no records';
        const sum = (k: 'pieces' | 'amount' | 'weight') => rows.reduce((n, r) => n + r[k], 0);
        return (
          table(
            rows.map((r) => [r.customer, r.category, bandLabel(r.weightBand), r.weightBand === MIXED_BAND ? 'mixed' : money(r.postage), r.pieces, money(r.amount), r.weight, r.tier]),
            ['customer', 'category', 'weight band', 'postage', 'pieces', 'amount', 'weight g', 'tier']
          ) + `\n${rows.length} records, ${sum('pieces')} pieces, ${money(sum('amount'))}, ${sum('weight')} g`
        );
      });
    });

  addStatisticsCommands(program, stats, kit);
  addUploadCommand(program, kit);

  program
    .command('config')
    .description(
      'show the device configuration, or change any of it: statistics flush period (--flush-period) and piece count (--flush-every), storage-low threshold (--low-storage), no franking while a block awaits confirmation (--lock-until-confirmed), fold records into summaries when full (--fold-when-full), records kept on the host (--records-on-host), per-piece data (--per-piece). Without options it only shows (with the data center\'s contact and clock rules, which only it sets, inside a session)'
    )
    .option('--flush-period <s>', 'flush statistics to flash at least this often, seconds (60..2592000)', int(60, 2592000))
    .option('--flush-every <pieces>', 'flush after this many pieces (1..65535)', int(1, 65535))
    .option('--low-storage <pct>', 'report storage low below this percentage free (1..90)', int(1, 90))
    .addOption(new Option('--lock-until-confirmed <on|off>', 'refuse franking while an extracted block awaits the data center\'s confirmation').choices(['on', 'off']))
    .addOption(new Option('--records-on-host <on|off>', 'keep the cumulative records on the host; the PSD seals them only if they sum to its register movement (only with no records on the PSD)').choices(['on', 'off']))
    .addOption(new Option('--per-piece <on|off>', 'per-piece data (US IMI, Royal Mail Mailmark): the PSD chains every indicium into its next block, psd frank keeps each in the host store and psd upload sends the list with the block for the PSS to check (switches only before the first piece after a seal)').choices(['on', 'off']))
    .addOption(new Option('--fold-when-full <on|off>', 'when records would not fit, fold a customer\'s records of one category into a summary record instead of refusing to frank').choices(['on', 'off']))
    .action(async (o, cmd: Command) => {
      const onOff = (v?: string) => (v === undefined ? undefined : v === 'on');
      const r = await withDevice(cmd, (c) =>
        c.request(Cmd.CONFIG, { flushPeriodS: o.flushPeriod, flushEveryPieces: o.flushEvery, lowStoragePct: o.lowStorage, lockUntilConfirmed: onOff(o.lockUntilConfirmed), foldWhenFull: onOff(o.foldWhenFull), recordsOnHost: onOff(o.recordsOnHost), perPiece: onOff(o.perPiece) })
      );
      const k = r.config;
      print(cmd, r, () =>
        keyValues([
          ['flush period', `${k.flushPeriodS} s`],
          ['flush every', `${k.flushEveryPieces} pieces`],
          ['storage low below', `${k.lowStoragePct} % free`],
          ['lock until confirmed', k.lockUntilConfirmed ? 'on: no franking while a block awaits confirmation' : 'off'],
          ['fold when full', k.foldWhenFull ? 'on: summary records instead of refusing' : 'off: refuse with error 24'],
          ['records on host', k.recordsOnHost ? 'on: the host keeps the records, the PSD seals them' : 'off: the PSD keeps the records'],
          ['per-piece data', k.perPiece ? 'on: every indicium chained into the block, the host keeps and uploads the list' : 'off'],
          // the data center's rules (set inside a session only)
          ...(k.contactLockS !== undefined
            ? ([
                ['contact warning after', `${(k.contactWarnS / 86400).toFixed(1)} days (data center)`],
                ['contact lock-out after', `${(k.contactLockS / 86400).toFixed(1)} days (data center)`],
                ['host clock window', `${(k.clockBackS / 3600).toFixed(0)} h back, ${(k.clockForwardS / 86400).toFixed(1)} days forward (data center)`]
              ] as [string, unknown][])
            : [])
        ])
      );
    });
}

export function batchPairs(b: any): [string, unknown][] {
  if (!b) return [['batch', 'none open']];
  const fixed = b.mode === 'batch' ? `, category ${b.category}, ${b.weight} g, postage ${money(b.postage)}` : '';
  return [['batch', `transaction ${b.txn}, customer ${b.customer}, ${b.mode} mode${fixed}, ${b.pieces} pieces so far`]];
}
