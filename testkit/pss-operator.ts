// Operator and auditor credentials for tests that make operator requests over TCP (register,
// certify, funds, sessions with funds or rekey): issued by the data center's lab CA, recorded,
// and either handed to a PssClient or written to a file for the CLI (PSS_CREDENTIALS).
import fs from 'node:fs';
import path from 'node:path';
import { issue } from '../server/credentials.ts';
import { parseCredential, type Credential, type CredentialRole } from '../kit/tls.ts';
import { PssClient, type PssClientOptions } from '../kit/pss-client.ts';
import type { DataCenter } from '../server/datacenter.ts';

/** a test's credentials each have a name of their own: the data center refuses a second active one of a name */
let issued = 0;

export function credentialFor(dc: DataCenter, role: CredentialRole = 'operator', name = `test ${role} ${++issued}`): Credential & { serial: string } {
  const c = issue(dc.store, name, role);
  return { ...parseCredential(c.pem, `${role} ${name}`), serial: c.serial };
}

/** A PssClient over TLS with a fresh operator credential of this data center. */
export function operatorClient(dc: DataCenter, port: number, opts: PssClientOptions = {}): Promise<PssClient> {
  return PssClient.connect(`127.0.0.1:${port}`, { ...opts, credential: credentialFor(dc) });
}

/** A credential file (0600) for the CLI: PSS_CREDENTIALS=<it>. */
export function credentialFile(dc: DataCenter, dir: string, role: CredentialRole = 'operator'): string {
  const file = path.join(dir, `${role}-${process.pid}-${Date.now()}.pem`);
  issue(dc.store, `cli ${role} ${++issued}`, role, file);
  fs.chmodSync(file, 0o600);
  return file;
}
