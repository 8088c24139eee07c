// The registry of operator and auditor credentials (client certificates of the lab CA):
// issued, listed, revoked. The TCP service looks each request's certificate up here, so a
// revoked credential is refused from its next request on, even on an open connection.
import fs from 'node:fs';
import { issueCredential, type CredentialRole, type IssuedCredential, type Role } from '../kit/tls.ts';
import { PssError } from '../protocol/pss-errors.ts';
import type { Store } from './db.ts';

export interface CredentialRow {
  serial: string;
  name: string;
  role: CredentialRole;
  issued_at: number;
  not_after: string;
  revoked_at: number | null;
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * Issues a credential, records it, and writes its PEM file (mode 0600) when `out` is given.
 * Refused, with nothing changed (PssError BAD_ARGUMENT), when a credential of that name is
 * still active (two of one name could not be told apart, nor revoked one at a time) or `out`
 * exists (never overwritten).
 */
export function issue(store: Store, name: string, role: CredentialRole, out?: string, days?: number): IssuedCredential {
  const active = store.read(() => store.get<CredentialRow>('SELECT * FROM credentials WHERE name = ? AND revoked_at IS NULL ORDER BY issued_at LIMIT 1', [name]));
  if (active)
    throw new PssError('BAD_ARGUMENT', `a credential named '${name}' is already active (${active.role}, serial ${active.serial}): choose another name, or revoke it first (pss credential revoke ${active.serial})`);
  if (out && fs.existsSync(out)) throw new PssError('BAD_ARGUMENT', `${out} exists: a credential file is never overwritten; give another --out`);
  const c = issueCredential(store.dir, name, role, days);
  // the file first: a file that cannot be written leaves no credential on record
  if (out) {
    fs.writeFileSync(out, c.pem, { mode: 0o600, flag: 'wx' });
    fs.chmodSync(out, 0o600);
  }
  try {
    store.change(() => store.run('INSERT INTO credentials(serial, name, role, issued_at, not_after) VALUES (?, ?, ?, ?, ?)', [c.serial, name, role, now(), c.notAfter]));
  } catch (e) {
    if (out) fs.rmSync(out, { force: true });
    throw e;
  }
  return c;
}

export function list(store: Store): CredentialRow[] {
  return store.read(() => store.all<CredentialRow>('SELECT * FROM credentials ORDER BY issued_at, serial'));
}

/** Revokes by serial number or by name (every credential of that name). */
export function revoke(store: Store, which: string): CredentialRow[] {
  return store.change(() => {
    const rows = store.all<CredentialRow>('SELECT * FROM credentials WHERE (serial = ? OR name = ?)', [which.toUpperCase(), which]);
    if (!rows.length) throw new PssError('BAD_ARGUMENT', `no credential with serial or name '${which}'`);
    store.run('UPDATE credentials SET revoked_at = ? WHERE (serial = ? OR name = ?) AND revoked_at IS NULL', [now(), which.toUpperCase(), which]);
    return store.all<CredentialRow>('SELECT * FROM credentials WHERE (serial = ? OR name = ?)', [which.toUpperCase(), which]);
  });
}

/** The role of a client certificate's serial (TLS already checked it is of our CA and valid); null: unknown or revoked. */
export function roleOf(store: Store, serial: string): { role: Role; name: string } | null {
  const row = store.read(() => store.get<CredentialRow>('SELECT * FROM credentials WHERE serial = ?', [serial]));
  if (!row || row.revoked_at !== null) return null;
  return { role: row.role, name: row.name };
}
