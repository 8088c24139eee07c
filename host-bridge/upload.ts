// `psd upload`: carries sealed blocks from the host store to the PSS and the PSS's
// confirmation back to the PSD. Plain mode uploads the stored blocks (claim 5); --session
// lets the PSS read the block from the PSD itself through a secure session the host only
// relays (claim 4), optionally loading funds in the same session (claim 9). Either way the
// PSD frees its records only when the confirmation authenticates. With the PSD attached,
// every upload also carries the PSD's sealed audit (protocol/audit.ts) to the PSS.
import { Command, Option } from 'commander';
import { Command as Cmd } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { BlockStore, defaultStoreDir } from './store.ts';
import { PieceLog } from './pieces.ts';
import { PssClient, credentialFromEnv } from '../kit/pss-client.ts';
import type { UploadAnswer } from '../protocol/pss-wire.ts';
import { runSession } from './session-relay.ts';
import { PsdError, pssError, EXIT_PARTLY_DONE } from './errors.ts';
import type { PsdClient } from './client.ts';
import { int, type CliKit } from './cli-kit.ts';
import { keyValues, table, money } from '../kit/output.ts';

export interface UploadResult {
  device: number;
  seq: number;
  /** stored: the PSS took it now; repeat: it had this very block already; refused: it said no (see error); not sent: the PSS could not be reached for it */
  outcome: 'stored' | 'repeat' | 'refused' | 'not sent';
  stored: boolean;
  confirmed: boolean;
  /** the refusal: the host's number, the PSS's code and its message */
  error?: { code: number; pssCode?: string; message: string };
  note?: string;
}

/** Has the PSD make a new audit (protocol/audit.ts) and reads it, a page at a time: the sealed
 * audit as a byte string. */
export async function readAudit(psd: PsdClient): Promise<string> {
  const first = await psd.request(Cmd.AUDIT, {});
  let raw = Buffer.from(String(first.data), 'hex').toString('latin1');
  while (raw.length < first.bytes) {
    const page = await psd.request(Cmd.AUDIT, { seq: first.seq, from: raw.length });
    if (typeof page.data !== 'string' || !page.data.length) throw new PsdError(ErrorCode.INTERNAL, `audit ${first.seq}: no bytes from ${raw.length} on`);
    raw += Buffer.from(page.data, 'hex').toString('latin1');
  }
  return raw;
}

/** The audit line of a plain upload. */
function auditText(a: { seq: number; stored: boolean; flags: { kind: string; detail: string }[]; events: number }): string {
  return `audit #${a.seq} ${a.stored ? 'stored' : 'already stored'}, ${a.events} new events; ${a.flags.length ? 'FLAGGED: ' + a.flags.map((f) => `${f.kind}: ${f.detail}`).join('; ') : 'continuity holds'}`;
}

/**
 * Uploads every good pending block of the store; confirms on the PSD when one is connected.
 * A block the PSS refuses (not registered, revoked, replay, gap, bad seal ...) is reported
 * with the refusal and the others go on; once the PSS cannot be reached, the rest are
 * reported as not sent, and so is each damaged block file of the store not known confirmed
 * (error 105). Never throws for a block: the results say what happened to each.
 */
export async function uploadStored(store: BlockStore, pss: PssClient, psd: PsdClient | null): Promise<UploadResult[]> {
  const out: UploadResult[] = [];
  let unreachable: PsdError | null = null;
  const pending = await store.pending();
  // every block's frames go out pipelined (not a round trip each); the answers come in order.
  // A per-piece block needs its list of pieces sent just before it on the connection, so a store
  // holding one uploads block by block.
  const perPiece = pending.some((b) => b.block.header.chain !== undefined);
  const outcomes: { answer?: UploadAnswer; error?: unknown }[] | null = perPiece ? null : await pss.uploadMany(pending.map((b) => b.bytes)).catch((e: unknown) => pending.map(() => ({ error: e })));
  for (const [i, b] of pending.entries()) {
    const h = b.block.header;
    if (unreachable) {
      out.push({ device: h.device, seq: h.seq, outcome: 'not sent', stored: false, confirmed: false, error: { code: unreachable.code, message: unreachable.message } });
      continue;
    }
    // per-piece data: the block's list of pieces from the host store goes first
    const pieceLog = h.chain !== undefined ? new PieceLog(store.dir, h.device) : null;
    let o: { answer?: UploadAnswer; error?: unknown };
    if (outcomes) o = outcomes[i];
    else {
      try {
        if (pieceLog) await pss.sendPieces(PieceLog.encode(pieceLog.since(h.previousPieces, h.pieces)));
        o = { answer: await pss.upload(b.bytes) };
      } catch (e) {
        o = { error: e };
      }
    }
    if (o.error) {
      const err = pssError(o.error);
      if (!(err instanceof PsdError)) throw o.error;
      const r: UploadResult = { device: h.device, seq: h.seq, outcome: err.pssCode ? 'refused' : 'not sent', stored: false, confirmed: false, error: { code: err.code, ...(err.pssCode ? { pssCode: err.pssCode } : {}), message: err.message } };
      if (!err.pssCode) unreachable = err;
      out.push(r);
      continue;
    }
    const answer = o.answer!;
    await store.markUploaded(h.device, h.seq);
    const r: UploadResult = { device: h.device, seq: h.seq, outcome: answer.stored ? 'stored' : 'repeat', stored: answer.stored, confirmed: false };
    if (psd) {
      try {
        await psd.request(Cmd.CONFIRM, { seq: h.seq, mac: answer.confirmation });
        r.confirmed = true;
      } catch (e) {
        // an older block the PSD already freed (its confirmation's answer was lost earlier)
        const s = await psd.request(Cmd.STATUS);
        if (e instanceof PsdError && e.code === ErrorCode.NO_BLOCK && s.device === h.device && s.block.lastConfirmed >= h.seq) r.confirmed = true;
        else r.note = e instanceof Error ? e.message : String(e);
      }
      if (r.confirmed) await store.markConfirmed(h.device, h.seq, answer.digest);
      if (r.confirmed) pieceLog?.dropThrough(h.pieces);
    } else r.note = 'no PSD connected: confirm later with `psd upload` while the PSD is attached';
    out.push(r);
  }
  // a damaged block file may be a block the PSS never had: never "nothing to upload" over it
  for (const e of await store.list()) {
    if (e.kind !== 'block' || !e.problem || e.status === 'confirmed' || e.device === undefined || e.seq === undefined) continue;
    out.push({ device: e.device, seq: e.seq, outcome: 'not sent', stored: false, confirmed: false, error: { code: ErrorCode.STORE_DAMAGED, message: `${e.file} is damaged: ${e.problem}` }, note: 'kept for inspection (psd store list); if the PSD still awaits its confirmation, psd stats extract reads it again' });
  }
  return out;
}

/** The table's PSS column for one block. */
export function outcomeText(r: UploadResult): string {
  if (r.outcome === 'stored') return 'stored';
  if (r.outcome === 'repeat') return 'already stored';
  return `${r.outcome}: error ${r.error!.code}${r.error!.pssCode ? ' (' + r.error!.pssCode + ')' : ''}: ${r.error!.message}`;
}

export function addUploadCommand(program: Command, kit: CliKit) {
  program
    .command('upload')
    .description(
      'carry sealed statistics to the PSS and its confirmation back to the PSD: the blocks in the host store (plain sealed blocks), or --session: the PSS reads the block from the PSD through a secure session this host only relays, and may load funds in the same session. With the PSD attached, its sealed audit goes to the PSS too (pss audits shows it)'
    )
    .addOption(new Option('--pss <host:port>', 'the PSS').env('PSS_ADDRESS').default('127.0.0.1:7707'))
    .addOption(new Option('--store <dir>', 'host store of sealed blocks').env('PSD_STORE').default(defaultStoreDir()))
    .option('--session', 'secure session between PSD and PSS (key agreement + authenticated encryption)')
    .option('--funds <minor>', 'with --session: a funds reset to load in the same session', int(1, 2 ** 48 - 1))
    .option('--rekey', 'with --session: the KMS replaces the device and KMS keys in the same session (after the statistics are confirmed)')
    .option('--withdraw', 'with --session: withdraw the PSD from service once its final block is confirmed: its keys are erased, it franks no more, and its unused descending register is credited back to its account (operator)')
    .addOption(new Option('--contact-rules <profile>', 'with --session (operator): the contact watchdog the PSD keeps: ibi (90 days warning, 120 days lock-out) or imi (48 hours warning, 72 hours lock-out)').choices(['ibi', 'imi']))
    .option('--no-device', 'plain mode without a PSD attached: upload only, confirm later')
    .option('--credentials <file>', 'with --funds, --rekey or --withdraw: an operator credential (pss credential issue); default PSS_CREDENTIALS')
    .action(async (o, cmd: Command) => {
      if ((o.funds !== undefined || o.rekey || o.withdraw || o.contactRules) && !o.session) throw new PsdError(ErrorCode.BAD_ARGUMENT, '--funds, --rekey and --withdraw ride on a --session upload', 'add --session');
      if (o.withdraw && (o.funds !== undefined || o.rekey)) throw new PsdError(ErrorCode.BAD_ARGUMENT, '--withdraw takes no --funds or --rekey: the device leaves service');
      const store = new BlockStore(o.store);
      // a device's upload needs no secret; funds and rekeying are an operator's
      const credential = o.funds !== undefined || o.rekey || o.withdraw || o.contactRules ? operatorCredential(o.credentials) : null;
      // the contact rules of IBI-era meters (US, 90 / 120 days) and of today's US IMI (72 hours)
      const contactRules = o.contactRules === 'imi' ? { contactWarnS: 48 * 3600, contactLockS: 72 * 3600 } : o.contactRules === 'ibi' ? { contactWarnS: 90 * 86400, contactLockS: 120 * 86400 } : undefined;
      const pss = await PssClient.connect(o.pss, { credential }).catch((e) => {
        throw pssError(e);
      });
      try {
        if (o.session) {
          const report = await kit.withDevice(cmd, async (c) => {
            // per-piece data: the pieces not yet in a confirmed block go first (the PSS takes the
            // block's), and those of the confirmed block leave the host store after
            const status = await c.request(Cmd.STATUS);
            const perPiece = status.device && (await c.request(Cmd.CONFIG, {})).config.perPiece;
            const pieceLog = perPiece ? new PieceLog(store.dir, status.device) : null;
            if (pieceLog) await pss.sendPieces(PieceLog.encode(pieceLog.since(status.block.confirmedPieces)));
            const r = await runSession(pss, c, { funds: o.funds, rekey: !!o.rekey, withdraw: !!o.withdraw, config: contactRules });
            if (pieceLog && r.confirmed) pieceLog.dropThrough((await c.request(Cmd.STATUS)).block.confirmedPieces);
            // the PSS now holds the block the PSD sealed; the host's copy of it is confirmed too
            if (r.block && r.confirmed)
              for (const b of [...(r.earlierBlocks ?? []), r.block]) {
                const copy = await store.get(r.device, b.seq).catch(() => undefined);
                if (copy) await store.markConfirmed(r.device, b.seq);
              }
            return r;
          });
          // --json: one document a run; a session that stopped is the error's, with the report in it
          if (!(report.error && kit.json(cmd))) {
            kit.print(cmd, report, () =>
              keyValues([
                ['device', `PSD-${report.device}`],
                ...(report.earlierBlocks ?? []).map((b) => ['block', `#${b.seq}, ${b.records} records, ${b.stored ? 'stored' : 'already stored (repeat)'} (sealed before this session)`] as [string, unknown]),
                ['block', report.block ? `#${report.block.seq}, ${report.block.records} records, ${report.block.stored ? 'stored' : 'already stored (repeat)'}` : 'none'],
                ['confirmed on the PSD', report.confirmed ? 'yes: its records are freed' : 'no'],
                ['keys', report.withdrawn ? 'erased (withdrawn)' : report.keyVersion !== undefined ? `replaced: key version ${report.keyVersion}` : 'unchanged'],
                ...(report.clock ? ([['trusted time', new Date(report.clock * 1000).toISOString()]] as [string, unknown][]) : []),
                ...(report.rates?.length ? ([['rate tables', report.rates.join(', ')]] as [string, unknown][]) : []),
                ['funds', report.funds ? `${money(report.funds.amount)} (counter ${report.funds.counter}) ${report.funds.loaded ? 'loaded' : 'NOT loaded'}` : '-'],
                ...(report.withdrawn
                  ? ([['withdrawn', `yes: keys erased, franking over; ${money(report.withdrawn.credited)} credited to ${report.withdrawn.account === null ? 'no account (the device has none)' : `account ${report.withdrawn.account}`}`]] as [string, unknown][])
                  : []),
                ...(report.audit ? ([['audit', auditText(report.audit)]] as [string, unknown][]) : []),
                ...(report.error ? ([['stopped', `${report.error.code}: ${report.error.message}`]] as [string, unknown][]) : [])
              ])
            );
          }
          if (report.error) {
            const failed = pssError(report.error);
            const err = failed instanceof PsdError ? failed : new PsdError(ErrorCode.INTERNAL, `session stopped: ${report.error.message}`);
            err.result = report;
            throw err;
          }
          return;
        }
        // with the PSD at hand, every contact also carries its audit (after the confirmations,
        // so the audit shows them); an audit that cannot go now shows later as a gap in the numbers
        let auditLine = '';
        const results = o.device
          ? await kit
              .withDevice(cmd, async (c) => {
                const r = await uploadStored(store, pss, c);
                try {
                  auditLine = auditText(await pss.audit(await readAudit(c)));
                } catch (e) {
                  auditLine = `audit not uploaded: ${(e as Error).message}`;
                }
                return r;
              })
              .catch((e) => {
                // the PSD is not at hand: plain blocks can still go, said where the person looks
                if (e instanceof PsdError && e.code === ErrorCode.NO_DEVICE) e.hint = `${e.hint}; or, without the PSD: psd upload --no-device (its confirmations reach it at the next psd upload with it attached)`;
                throw e;
              })
          : await uploadStored(store, pss, null);
        kit.print(cmd, results, () =>
          results.length
            ? table(
                results.map((r) => [`PSD-${r.device}`, r.seq, outcomeText(r), r.confirmed ? 'yes' : 'no', r.note ?? '']),
                ['device', 'block', 'PSS', 'confirmed', 'note']
              )
            : 'nothing to upload: the host store has no pending blocks (psd stats extract makes one)'
        );
        if (auditLine && !kit.json(cmd)) console.log(auditLine);
        const failed = results.filter((r) => r.outcome === 'refused' || r.outcome === 'not sent');
        const unconfirmed = results.filter((r) => o.device && (r.outcome === 'stored' || r.outcome === 'repeat') && !r.confirmed);
        if (failed.length || unconfirmed.length) {
          // partly done: what went through is stored (and confirmed); the table says why the rest did not
          const why = [
            failed.length ? `${failed.length} of ${results.length} blocks ${failed.every((r) => r.outcome === 'refused') ? 'refused by the PSS' : 'refused or not sent'}` : '',
            unconfirmed.length ? `${unconfirmed.length} uploaded but not confirmed on the PSD` : ''
          ].filter(Boolean);
          if (!kit.json(cmd)) console.error(`psd: partly done (exit ${EXIT_PARTLY_DONE}): ${why.join('; ')}; see the table above`);
          process.exitCode = EXIT_PARTLY_DONE;
        }
      } catch (e) {
        throw pssError(e);
      } finally {
        await pss.close();
      }
    });
}

/** `psd provision --kms`: the KMS registers the device and gives it its number and keys;
 * a signing board's public key goes back to the KMS to be certified. The keys pass through
 * this host once, in the lab, and are never printed or stored. */
export async function provisionFromKms(c: PsdClient, pssAddress: string, boardSeal?: 'hmac' | 'ed25519') {
  const s = await c.request(Cmd.STATUS);
  if (s.device) throw new PsdError(ErrorCode.BAD_ARGUMENT, `already provisioned as PSD-${s.device}`);
  const pss = await PssClient.connect(pssAddress, { credential: operatorCredential() }).catch((e) => {
    throw pssError(e, '--kms');
  });
  try {
    const reg = await pss.register(s.deviceId.replace(/^unprovisioned-/, ''), s.board, boardSeal);
    // the KMS's time with the keys: the PSD's first trusted time (its clock window from now on)
    const r = await c.request(Cmd.PROVISION, { device: reg.device, deviceKey: reg.deviceKey, kmsKey: reg.kmsKey, ...(Number.isSafeInteger(reg.now) ? { now: reg.now } : {}) });
    const certificate = r.publicKey ? await pss.certify(reg.device, r.publicKey) : null;
    return { device: r.device, seal: r.seal, publicKey: r.publicKey, certified: !!certificate };
  } catch (e) {
    throw pssError(e, '--kms');
  } finally {
    await pss.close();
  }
}

/** `psd funds --kms`: a funds reset issued by the KMS for this device, loaded at once. */
/**
 * A funds reset through the KMS, loaded into the PSD: the PSD's FUNDS answer. A funds reset is a
 * contact, so the PSD's sealed audit then goes to the PSS on the same connection; `onAudit`
 * hears the line to show (the audit's outcome, or why it could not go: the next audit then
 * shows a gap). The funds reset stands either way.
 */
export async function fundsFromKms(c: PsdClient, pssAddress: string, amount: number, onAudit?: (line: string) => void) {
  const s = await c.request(Cmd.STATUS);
  if (!s.device) throw new PsdError(ErrorCode.NOT_PROVISIONED, undefined, 'psd provision --kms first');
  const pss = await PssClient.connect(pssAddress, { credential: operatorCredential() }).catch((e) => {
    throw pssError(e, '--kms');
  });
  try {
    const reset = await pss.funds(s.device, amount);
    const loaded = await c.request(Cmd.FUNDS, { counter: reset.counter, amount: reset.amount, mac: reset.mac });
    try {
      onAudit?.(auditText(await pss.audit(await readAudit(c))));
    } catch (e) {
      onAudit?.(`audit not uploaded: ${(e as Error).message}`);
    }
    return loaded;
  } catch (e) {
    throw pssError(e, '--kms');
  } finally {
    await pss.close();
  }
}

/**
 * The operator credential for requests that hand out keys or postage: --credentials, or the
 * file PSS_CREDENTIALS names, or PSS_CREDENTIALS_PEM. Without one the request goes plain and
 * the PSS refuses it as not authorised (error 115), which says what to give.
 */
export function operatorCredential(file?: string) {
  try {
    return credentialFromEnv(file);
  } catch (e) {
    throw new PsdError(ErrorCode.BAD_ARGUMENT, (e as Error).message, 'PSS_CREDENTIALS=<file from pss credential issue --role operator>');
  }
}
