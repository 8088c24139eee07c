// `pss export --period 2026-11 --out <dir>`: the postal authority's files for a period
// (server/export.ts), signed by the PSS. `pss export --verify <dir>` checks such a directory.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { keyValues, money } from '../../kit/output.ts';
import { PssError, PssErrorCode, type PssErrorCodeName } from '../../protocol/pss-errors.ts';
import { loadDiscountConfig, parsePeriod } from '../discounts.ts';
import { openStatisticsSnapshot } from '../report.ts';
import { exportPeriod, verifyExport, writeExport, loadOrCreateSigningKey, SIGNING_KEY_FILE, PUBLIC_KEY_FILE, MANIFEST_FILE, SIGNATURE_FILE } from '../export.ts';
import { consoleOutput, dataOption, sharedOpts, DEFAULT_RULES_FILE, type CommandOutput } from './report.ts';
import { requireDataCenter } from './common.ts';

export function exportCommand(io: CommandOutput = consoleOutput): Command {
  return new Command('export')
    .description(
      `write a period's statistics and discounts for the postal authority (statistics.csv/json, discounts.csv/json), ` +
        `a ${MANIFEST_FILE} of their sizes and SHA-256 digests and its Ed25519 signature ${SIGNATURE_FILE} under the PSS key ` +
        `(${SIGNING_KEY_FILE} in the data directory, made on first use; its public key is written as ${PUBLIC_KEY_FILE}). ` +
        `With --verify <dir>, check an export instead: exit 1 when it does not verify`
    )
    .option('--period <period>', 'the period: YYYY-MM (or YYYY-Qn / YYYY when the rules count per quarter / year)')
    .option('--out <dir>', 'directory to write the files to (made if missing; files of the same names are replaced)')
    .option('--rules <file>', 'discount rules (JSON)', DEFAULT_RULES_FILE)
    .option('--pss-id <name>', "this PSS's name in the manifest (default: the host name)")
    .option('--verify <dir>', 'check the export in <dir> instead of writing one')
    .option('--public-key <hex>', "with --verify: the PSS's Ed25519 public key (default: the data directory's key)")
    .option('--json', 'machine-readable output')
    .option('--pss <host:port>', "ask a running PSS over TLS instead of reading its data directory (an auditor's or operator's credential: --credentials or PSS_CREDENTIALS); the PSS's own discount rules apply (pss serve --rules), and the files are verified under --public-key when given")
    .option('--credentials <file>', 'with --pss: the credential file (pss credential issue)')
    .addOption(dataOption())
    .action(async (o, cmd: Command) => {
      const { dataDir, json } = sharedOpts(cmd);
      if (o.pss !== undefined) return exportOverTls(o, cmd, json, io);
      if (o.verify !== undefined) {
        let key: string = o.publicKey;
        if (key === undefined) {
          if (!fs.existsSync(path.join(dataDir, SIGNING_KEY_FILE))) throw new PssError('BAD_ARGUMENT', `no ${SIGNING_KEY_FILE} in ${dataDir}: give --public-key <hex>`);
          key = loadOrCreateSigningKey(dataDir).publicKeyHex;
        }
        const v = verifyExport(o.verify, key);
        if (json) io.out(JSON.stringify({ dir: path.resolve(o.verify), publicKey: key, valid: v.valid, problems: v.problems, period: v.manifest?.period ?? null }, null, 2));
        else io.out(v.valid ? `export ${o.verify} verifies: ${v.manifest!.files.length} files of period ${v.manifest!.period}, signed by ${key}` : `export ${o.verify} does NOT verify:\n  ${v.problems.join('\n  ')}`);
        if (!v.valid) process.exitCode = 1;
        return;
      }
      if (!o.period) throw new PssError('BAD_ARGUMENT', 'give --period, e.g. --period 2026-11');
      if (!o.out) throw new PssError('BAD_ARGUMENT', 'give --out <dir> for the files');
      const rules = loadDiscountConfig(o.rules);
      const period = parsePeriod(o.period, rules.period);
      const db = await openStatisticsSnapshot(requireDataCenter(dataDir));
      try {
        const r = exportPeriod(db, { period, rules, outDir: o.out, dataDir, pssId: o.pssId });
        if (json) io.out(JSON.stringify({ dir: r.dir, publicKey: r.publicKey, keyCreated: r.keyCreated, blocks: r.blocks, records: r.records, manifest: r.manifest }, null, 2));
        else
          io.out(
            keyValues([
              ['export', `${r.dir} (period ${r.manifest.period})`],
              ['blocks', r.blocks],
              ['records', r.records],
              ['discounts', `${money(r.discounts.totals.discount)} for ${r.discounts.customers.length} customers`],
              ...r.manifest.files.map((f): [string, string] => [f.name, `${f.bytes} B  sha256 ${f.sha256}`]),
              ['signed by', `${r.publicKey}${r.keyCreated ? ` (new key in ${path.join(dataDir, SIGNING_KEY_FILE)})` : ''}`]
            ])
          );
      } finally {
        db.close();
      }
    });
}

/** `pss export --pss`: the PSS makes the export; the auditor's side writes it and verifies it. */
async function exportOverTls(o: Record<string, any>, cmd: Command, json: boolean, io: CommandOutput): Promise<void> {
  if (o.verify !== undefined) throw new PssError('BAD_ARGUMENT', '--verify checks files on this machine: give it without --pss');
  if (cmd.getOptionValueSource('rules') === 'cli') throw new PssError('BAD_ARGUMENT', "with --pss the PSS's own discount rules apply (pss serve --rules <file>): leave out --rules");
  if (!o.period) throw new PssError('BAD_ARGUMENT', 'give --period, e.g. --period 2026-11');
  if (!o.out) throw new PssError('BAD_ARGUMENT', 'give --out <dir> for the files');
  if (o.publicKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.publicKey)) throw new PssError('BAD_ARGUMENT', '--public-key must be 64 hex digits');
  const { PssClient } = await import('../../kit/pss-client.ts');
  const { credentialFromEnv } = await import('../../kit/tls.ts');
  const credential = credentialFromEnv(o.credentials);
  if (!credential) throw new PssError('NOT_AUTHORISED', 'an export over --pss needs an auditor credential: --credentials <file> or PSS_CREDENTIALS');
  const client = await PssClient.connect(o.pss, { credential });
  const bar = !json && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: 'export [{bar}] {value}/{total} bytes', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  try {
    const r = await client.exportPeriod({ period: o.period, pssId: o.pssId }, (got, total) => {
      if (bar && !bar.isActive) bar.start(total, 0);
      bar?.update(got);
    });
    bar?.stop();
    const dir = writeExport(o.out, r.files);
    // the key beside the export is the PSS's word about itself: an auditor pins it with --public-key
    const key = (o.publicKey as string | undefined)?.toLowerCase() ?? String(r.summary.publicKey);
    const v = verifyExport(dir, key);
    if (json) io.out(JSON.stringify({ dir, period: r.summary.period, publicKey: r.summary.publicKey, pinned: o.publicKey !== undefined, valid: v.valid, problems: v.problems, blocks: r.summary.blocks, records: r.summary.records, files: r.files.map((f) => ({ name: f.name, bytes: f.bytes.length })) }, null, 2));
    else
      io.out(
        keyValues([
          ['export', `${dir} (period ${r.summary.period}, from ${o.pss})`],
          ['blocks', r.summary.blocks],
          ['records', r.summary.records],
          ['discounts', `${money(r.summary.discount)} for ${r.summary.customers} customers`],
          ...r.files.map((f): [string, string] => [f.name, `${f.bytes.length} B`]),
          ['signed by', `${r.summary.publicKey}${o.publicKey === undefined ? ' (not pinned: give --public-key to check it is the PSS you expect)' : ''}`],
          ['verifies', v.valid ? 'yes' : `NO: ${v.problems.join('; ')}`]
        ])
      );
    if (!v.valid) process.exitCode = 1;
  } catch (e) {
    bar?.stop();
    const err = e as { code?: string; message?: string };
    if (err.code && !(e instanceof PssError)) throw new PssError((err.code in PssErrorCode ? err.code : 'INTERNAL') as PssErrorCodeName, err.message ?? String(e));
    throw e;
  } finally {
    await client.close();
  }
}
