// Who may do what on the PSS's TCP service: a lab CA (made by `pss init`, or by the first
// `pss serve`) certifies the service's TLS key and the client certificates of operators and
// auditors. Devices need no secret: their sealed blocks authenticate themselves, so they
// talk plain frames; operator and auditor requests arrive over TLS (node:tls, TLS 1.3) with a
// client certificate of this CA that the credentials table lists as not revoked.
//
// Files in <data>/tls (the data directory is 0700; keys 0600):
//   ca.key, ca.pem          the lab CA (P-256), signs the server and client certificates
//   server.key, server.pem  the service's certificate: 127.0.0.1, ::1, localhost (+ --name)
// A credential is one PEM file (client key, client certificate, CA certificate), mode 0600,
// that `pss credential issue` writes; PSS_CREDENTIALS names it (or PSS_CREDENTIALS_PEM holds it).
//
// Certificates are made with the openssl command line tool (Debian: apt-get install openssl).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { PssError } from '../protocol/pss-errors.ts';
import { writeDurableSync } from './durable.ts';

export const TLS_DIR = 'tls';
export type Role = 'device' | 'operator' | 'auditor';
export const CREDENTIAL_ROLES = ['operator', 'auditor'] as const;
export type CredentialRole = (typeof CREDENTIAL_ROLES)[number];

export interface TlsFiles {
  ca: string;
  key: string;
  cert: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new PssError('STORAGE', `cannot run openssl (${(r.error as NodeJS.ErrnoException).code}): install it (apt-get install openssl) to make the lab CA and credentials`);
  if (r.status !== 0) throw new PssError('STORAGE', `openssl ${args[0]} failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
}

function writePrivate(file: string, text: string): void {
  writeDurableSync(file, text, { fileMode: 0o600 });
}

/** A random positive serial number, 16 bytes of hex (as openssl -set_serial takes it). */
function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x10;
  return '0x' + b.toString('hex');
}

/** Makes a key and a certificate signed by the CA in dir (CA files made first if absent). */
function issue(dir: string, subject: string, ext: string, days: number): { key: string; cert: string } {
  const work = fs.mkdtempSync(path.join(dir, '.issue-'));
  try {
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-subj', subject, '-out', 'r.csr'], work);
    fs.writeFileSync(path.join(work, 'ext.cnf'), ext);
    openssl(['x509', '-req', '-in', 'r.csr', '-CA', path.join(dir, 'ca.pem'), '-CAkey', path.join(dir, 'ca.key'), '-set_serial', randomSerial(), '-days', String(days), '-sha256', '-extfile', 'ext.cnf', '-out', 'c.pem'], work);
    return { key: fs.readFileSync(path.join(work, 'k.pem'), 'utf8'), cert: fs.readFileSync(path.join(work, 'c.pem'), 'utf8') };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The lab CA and the service's certificate in <data>/tls: made once (`pss init`, or the first
 * `pss serve`), then read. `names` are extra host names or addresses for the certificate.
 */
export function ensureTls(dataDir: string, names: string[] = []): TlsFiles & { created: boolean } {
  const dir = path.join(dataDir, TLS_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  let created = false;
  if (!fs.existsSync(path.join(dir, 'ca.pem'))) {
    const work = fs.mkdtempSync(path.join(dir, '.ca-'));
    try {
      openssl(
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-sha256', '-subj', `/O=psd-lab/CN=psd-lab PSS lab CA ${os.hostname()}`,
          '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
        work
      );
      writePrivate(path.join(dir, 'ca.key'), fs.readFileSync(path.join(work, 'ca.key'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'ca.pem'), fs.readFileSync(path.join(work, 'ca.pem'), 'utf8'), { mode: 0o644 });
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    created = true;
  }
  if (!fs.existsSync(path.join(dir, 'server.pem')) || names.length) {
    const san = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost', ...names.map((n) => (/^[\d.]+$|:/.test(n) ? 'IP:' : 'DNS:') + n)];
    const { key, cert } = issue(dir, '/O=psd-lab/CN=pss', `subjectAltName=${san.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`, 825);
    writePrivate(path.join(dir, 'server.key'), key);
    fs.writeFileSync(path.join(dir, 'server.pem'), cert);
    created = true;
  }
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { ca: read('ca.pem'), key: read('server.key'), cert: read('server.pem'), created };
}

export interface IssuedCredential {
  serial: string;
  name: string;
  role: CredentialRole;
  /** key, certificate and CA certificate, PEM: the credential file's contents */
  pem: string;
  notAfter: string;
}

/** A client certificate of the lab CA for an operator or an auditor (the caller records it). */
export function issueCredential(dataDir: string, name: string, role: CredentialRole, days = 365): IssuedCredential {
  if (!CREDENTIAL_ROLES.includes(role)) throw new PssError('BAD_ARGUMENT', `role must be ${CREDENTIAL_ROLES.join(' or ')}, not '${role}'`);
  if (!/^[A-Za-z0-9 ._@-]{1,64}$/.test(name)) throw new PssError('BAD_ARGUMENT', 'name must be 1..64 of letters, digits, space, . _ @ -');
  const tls = ensureTls(dataDir);
  const { key, cert } = issue(path.join(dataDir, TLS_DIR), `/O=psd-lab/OU=${role}/CN=${name}`, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n', days);
  const x = new crypto.X509Certificate(cert);
  return { serial: x.serialNumber, name, role, pem: key + cert + tls.ca, notAfter: new Date(x.validTo).toISOString() };
}

export interface Credential {
  key: string;
  cert: string;
  ca: string;
  /** where it came from, for messages */
  source: string;
}

/** Splits a credential PEM (key, certificate, CA certificate). */
export function parseCredential(pem: string, source: string): Credential {
  const blocks = pem.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\s*/g) ?? [];
  const key = blocks.find((b) => /PRIVATE KEY/.test(b));
  const certs = blocks.filter((b) => /BEGIN CERTIFICATE/.test(b));
  if (!key || certs.length < 2) throw new PssError('BAD_ARGUMENT', `${source} is not a PSS credential (a private key, its certificate and the CA certificate, PEM)`);
  return { key, cert: certs[0], ca: certs.slice(1).join(''), source };
}

/** The credential of PSS_CREDENTIALS_PEM, or of the file named by `file` or PSS_CREDENTIALS; null when none is given. */
export function credentialFromEnv(file?: string, env: NodeJS.ProcessEnv = process.env): Credential | null {
  if (!file && env.PSS_CREDENTIALS_PEM) return parseCredential(env.PSS_CREDENTIALS_PEM, 'PSS_CREDENTIALS_PEM');
  const f = file || env.PSS_CREDENTIALS;
  if (!f) return null;
  let st: fs.Stats;
  try {
    st = fs.statSync(f);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const from = file ? '--credentials' : 'PSS_CREDENTIALS';
    throw new PssError('BAD_ARGUMENT', code === 'ENOENT' ? `no such file: ${f} (the credential file ${from} names)` : `cannot read the credential file ${f}: ${code ?? (e as Error).message}`);
  }
  if (process.platform !== 'win32' && st.mode & 0o077) throw new PssError('BAD_ARGUMENT', `credential file ${f} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  return parseCredential(fs.readFileSync(f, 'utf8'), f);
}
