// `pss init`: a data directory with its KMS keys, the lab CA and the service's TLS
// certificate (and, with --operator, a first operator credential). `pss credential
// issue|list|revoke`: the operators' and auditors' client certificates.
import path from 'node:path';
import { Command, Option } from 'commander';
import { table } from '../../kit/output.ts';
import { openDataCenter } from '../datacenter.ts';
import { ensureTls, TLS_DIR, CREDENTIAL_ROLES, type CredentialRole } from '../../kit/tls.ts';
import { issue, list, revoke } from '../credentials.ts';
import { isoTime } from '../report.ts';
import { stringToHex } from '../bytestrings.ts';
import { dataDir, existingDataDir, json, positiveInt } from './common.ts';

export function initCommand(): Command {
  return new Command('init')
    .description('make a data directory (0700): KMS master key and CA seed, the database, the lab TLS CA and the service certificate; --operator writes a first operator credential')
    .option('--name <host...>', 'host names or addresses the service certificate is for, besides 127.0.0.1, ::1 and localhost')
    .option('--operator <name>', 'also issue an operator credential of this name')
    .option('--out <file>', 'with --operator: the credential file to write (mode 0600; default ./<name>.pss-credential.pem)')
    .option('--json', 'machine-readable output')
    .action(async (o, cmd: Command) => {
      const dir = dataDir(cmd);
      const dc = await openDataCenter(dir);
      try {
        const t = ensureTls(dir, o.name ?? []);
        const out = o.operator ? path.resolve(o.out ?? `${o.operator}.pss-credential.pem`) : undefined;
        const c = o.operator ? issue(dc.store, o.operator, 'operator', out) : null;
        const r = { data: dir, tls: path.join(dir, TLS_DIR), caPublicKey: stringToHex(dc.kms.caPublicKey), tlsCreated: t.created, operator: c ? { name: c.name, serial: c.serial, file: out } : null };
        if (json(cmd)) return console.log(JSON.stringify(r, null, 2));
        console.log(`data directory ${dir} (KMS keys, database)\nlab CA and service certificate in ${r.tls}${t.created ? '' : ' (kept)'}`);
        if (c) console.log(`operator credential ${c.name} (serial ${c.serial}) in ${out}: PSS_CREDENTIALS=${out}`);
      } finally {
        dc.close();
      }
    });
}

export function credentialCommand(): Command {
  const c = new Command('credential').description("operators' and auditors' credentials: client certificates of the lab CA for the TLS service");
  c.command('issue')
    .description('issue a credential and write it (client key, certificate, CA certificate) to a file of mode 0600')
    .requiredOption('--name <name>', 'who holds it')
    .addOption(new Option('--role <role>', 'operator: register, certify, funds, rekey; auditor: status and reports').choices([...CREDENTIAL_ROLES]).makeOptionMandatory())
    .requiredOption('--out <file>', 'the credential file (must not exist)')
    .option('--days <n>', 'valid for this many days', '365')
    .option('--json', 'machine-readable output')
    .action(async (o, cmd: Command) => {
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const r = issue(dc.store, o.name, o.role as CredentialRole, path.resolve(o.out), positiveInt(o.days, '--days', 1, 3650));
        console.log(json(cmd) ? JSON.stringify({ serial: r.serial, name: r.name, role: r.role, notAfter: r.notAfter, file: path.resolve(o.out) }) : `${r.role} credential ${r.name} (serial ${r.serial}, until ${r.notAfter}) in ${path.resolve(o.out)}`);
      } finally {
        dc.close();
      }
    });
  c.command('list')
    .description('every credential issued, revoked ones too (never a key)')
    .option('--json', 'machine-readable output')
    .action(async (_o, cmd: Command) => {
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const rows = list(dc.store);
        if (json(cmd)) return console.log(JSON.stringify(rows, null, 2));
        if (!rows.length) return console.log('no credentials (pss credential issue --name <n> --role operator --out <file>)');
        console.log(table(rows.map((r) => [r.serial, r.name, r.role, isoTime(r.issued_at), r.not_after, r.revoked_at ? 'revoked ' + isoTime(r.revoked_at) : 'active']), ['serial', 'name', 'role', 'issued', 'valid until', 'status']));
      } finally {
        dc.close();
      }
    });
  c.command('revoke')
    .description('revoke a credential (by serial, or every one of a name): refused from its next request on')
    .argument('<serial|name>')
    .option('--json', 'machine-readable output')
    .action(async (which: string, _o, cmd: Command) => {
      const dc = await openDataCenter(existingDataDir(cmd));
      try {
        const rows = revoke(dc.store, which);
        console.log(json(cmd) ? JSON.stringify(rows) : rows.map((r) => `credential ${r.name} (serial ${r.serial}) revoked`).join('\n'));
      } finally {
        dc.close();
      }
    });
  return c;
}
