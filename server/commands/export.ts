// `pss export --period 2026-11 --out <dir>`: the postal authority's files for a period
// (server/export.ts), signed by the PSS. `pss export --verify <dir>` checks such a directory.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { keyValues, money } from '../../kit/output.ts';
import { PssError } from '../../protocol/pss-errors.ts';
import { loadDiscountConfig, parsePeriod } from '../discounts.ts';
import { openStatisticsSnapshot } from '../report.ts';
import { exportPeriod, verifyExport, loadOrCreateSigningKey, SIGNING_KEY_FILE, PUBLIC_KEY_FILE, MANIFEST_FILE, SIGNATURE_FILE } from '../export.ts';
import { consoleOutput, dataOption, sharedOpts, DEFAULT_RULES_FILE, type CommandOutput } from './report.ts';

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
    .addOption(dataOption())
    .action(async (o, cmd: Command) => {
      const { dataDir, json } = sharedOpts(cmd);
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
      const db = await openStatisticsSnapshot(dataDir);
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
