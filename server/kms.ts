// The KMS: device registry, key derivation, certificates, funds resets, revocation.
// Device keys are never stored: HMAC-SHA256(master, label || u32 device) derives them, so
// the KMS alone can recompute them, and nothing but the master key file must stay secret.
import nacl from 'tweetnacl';
import { u32, MAX_U48 } from '../protocol/bytes.ts';
import { fundsMessage } from '../protocol/auth.ts';
import { SEAL_HMAC, SEAL_ED25519 } from '../protocol/block.ts';
import { MAX_U32 } from '../protocol/records.ts';
import { getBoard } from '../board-defs/index.ts';
import { hmacSha256, ed25519Sign, sameBytes } from './hashes.ts';
import { toBytes, stringToHex, hexToString } from './bytestrings.ts';
import { PssError } from '../protocol/pss-errors.ts';
import type { Store } from './db.ts';
import type { KmsSecrets } from './keyfiles.ts';

export const FIRST_DEVICE = 1001;

/** A device as the registry lists it: never any key. */
export interface DeviceRow {
  device: number;
  serial: string;
  board: string;
  seal: number;
  public_key: string | null;
  certificate: string | null;
  /** 'withdrawing': withdrawn at the data center, its refund pending until the PSD's own final
   * figures arrive (a session with it); it may still upload and hold a session, nothing else */
  status: 'active' | 'revoked' | 'withdrawing';
  funds_counter: number;
  key_version: number;
  pending_key_version: number | null;
  registered_at: number;
  revoked_at: number | null;
  /** the customer account that pays its funds resets (null: none yet, no funds) */
  account: number | null;
}

export interface Account {
  account: number;
  name: string;
  /** minor units */
  balance: number;
  created_at: number;
}

export interface LedgerEntry {
  entry: number;
  account: number;
  at: number;
  kind: 'deposit' | 'funds' | 'withdrawal';
  /** signed minor units: + credit, - debit */
  amount: number;
  /** the account's balance after this entry */
  balance: number;
  device: number | null;
  counter: number | null;
  reference: string | null;
}

export interface Registration {
  device: number;
  seal: number;
  /** byte strings: hand them to the device only (psd provision --kms) */
  deviceKey: string;
  kmsKey: string;
}

export interface FundsReset {
  device: number;
  counter: number;
  amount: number;
  /** byte string: HMAC-SHA256(kms key, protocol/auth.ts fundsMessage) */
  mac: string;
}

export function sealName(seal: number): string {
  return seal === SEAL_HMAC ? 'hmac' : seal === SEAL_ED25519 ? 'ed25519' : 'unknown(' + seal + ')';
}

export function sealNumber(name: string): number {
  if (name === 'hmac') return SEAL_HMAC;
  if (name === 'ed25519') return SEAL_ED25519;
  throw new PssError('BAD_ARGUMENT', `seal must be 'hmac' or 'ed25519', not '${name}'`);
}

export function certificateMessage(device: number, publicKey: string): string {
  return 'PSD-CERT' + u32(device) + publicKey;
}

/** Checks a certificate against the CA public key (what a PSD, host or authority does). */
export function verifyCertificate(caPublicKey: string, device: number, publicKey: string, certificate: string): boolean {
  if (caPublicKey.length !== 32 || publicKey.length !== 32 || certificate.length !== 64) return false;
  return nacl.sign.detached.verify(toBytes(certificateMessage(device, publicKey)), toBytes(certificate), toBytes(caPublicKey));
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A device's MAC key of a key version (byte string): HMAC-SHA256(master, "PSD-DEVICE-KEY" ||
 * u32 device [|| u32 version, from version 1 on]). */
export function deriveDeviceKey(master: string, device: number, version: number): string {
  return hmacSha256(master, 'PSD-DEVICE-KEY' + u32(device) + (version ? u32(version) : ''));
}

function checkDevice(device: unknown): number {
  if (typeof device !== 'number' || !Number.isInteger(device) || device < 1 || device > MAX_U32) throw new PssError('BAD_ARGUMENT', 'device must be an integer 1..4294967295');
  return device;
}

export class Kms {
  constructor(
    private store: Store,
    private secrets: KmsSecrets
  ) {}

  get caPublicKey(): string {
    return Buffer.from(this.secrets.ca.publicKey).toString('latin1');
  }

  /** The device's MAC key of a key version (default: the one in use). Version 0 is the key
   * of provisioning; each rekey derives the next from the master key alone. */
  deviceKey(device: number, version?: number): string {
    const v = version ?? this.device(device)?.key_version ?? 0;
    // derived once per device and version (the ingest verifies and confirms every block with it)
    const id = device * 65536 + v;
    let key = this.deviceKeys.get(id);
    if (key === undefined) {
      if (this.deviceKeys.size >= 100_000) this.deviceKeys.clear();
      this.deviceKeys.set(id, (key = deriveDeviceKey(this.secrets.master, device, v)));
    }
    return key;
  }

  private deviceKeys = new Map<number, string>();

  kmsKey(device: number, version?: number): string {
    const v = version ?? this.device(device)?.key_version ?? 0;
    return hmacSha256(this.secrets.master, 'PSD-KMS-KEY' + u32(device) + (v ? u32(v) : ''));
  }

  /** The next key version for a device, noted as pending until the PSD is known to hold it. */
  rekey(device: number): { version: number; deviceKey: string; kmsKey: string } {
    return this.store.change(() => {
      const row = this.activeDevice(device);
      const version = row.key_version + 1;
      this.store.run('UPDATE devices SET pending_key_version = ? WHERE device = ?', [version, device]);
      return { version, deviceKey: this.deviceKey(device, version), kmsKey: this.kmsKey(device, version) };
    });
  }

  /** The PSD holds key version `version` (it said so): from now on the KMS and PSS use it. */
  rekeyDone(device: number, version: number): void {
    this.store.change(() => {
      // a rekey begun before a withdrawal may still be confirmed by the PSD (the KMS must know the key it holds)
      const row = this.reachableDevice(device);
      if (version !== row.key_version && version !== row.pending_key_version) throw new PssError('SESSION', `device ${device} reports key version ${version}, the KMS knows ${row.key_version}`);
      this.store.run('UPDATE devices SET key_version = ?, pending_key_version = NULL WHERE device = ?', [version, device]);
    });
  }

  /** The device's row, or undefined. Reads the latest file (an admin may have revoked it). */
  device(device: number): DeviceRow | undefined {
    return this.store.read(() => this.store.get<DeviceRow>('SELECT * FROM devices WHERE device = ?', [device]));
  }

  /** The device's row or an UNKNOWN_DEVICE / REVOKED error (also while its withdrawal is
   * pending: no funds, keys or parameters for a device leaving service). */
  activeDevice(device: number): DeviceRow {
    const row = this.device(checkDevice(device));
    if (!row) throw new PssError('UNKNOWN_DEVICE', `device ${device} is not registered`);
    if (row.status === 'withdrawing') throw new PssError('REVOKED', `device ${device} is being withdrawn (refund pending): connect it and run psd upload --session --withdraw`);
    if (row.status !== 'active') throw new PssError('REVOKED', `device ${device} was revoked`);
    return row;
  }

  /** The device's row for a session or an upload: active, or withdrawing (its final figures
   * are still to come); else UNKNOWN_DEVICE / REVOKED. */
  reachableDevice(device: number): DeviceRow {
    const row = this.device(checkDevice(device));
    if (row?.status === 'withdrawing') return row;
    return this.activeDevice(device);
  }

  devices(): DeviceRow[] {
    return this.store.read(() => this.store.all<DeviceRow>('SELECT * FROM devices ORDER BY device'));
  }

  /**
   * Registers a board by its serial number and allocates the next device number. The same
   * serial (still active) gets its existing device and keys back, so a provisioning that
   * lost its answer can simply be repeated.
   */
  registerDevice(serial: string, board: string, seal?: number, account?: number): Registration {
    if (typeof serial !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(serial)) throw new PssError('BAD_ARGUMENT', 'serial must be 1..64 printable ASCII characters');
    let def;
    try {
      def = getBoard(board);
    } catch (e) {
      throw new PssError('BAD_ARGUMENT', (e as Error).message);
    }
    const algorithm = seal ?? sealNumber(def.seal);
    if (algorithm !== SEAL_HMAC && algorithm !== SEAL_ED25519) throw new PssError('BAD_ARGUMENT', `unknown seal algorithm ${algorithm}`);
    const device = this.store.change(() => {
      const existing = this.store.get<DeviceRow>("SELECT * FROM devices WHERE serial = ? AND status = 'active'", [serial]);
      if (existing) {
        if (existing.board !== board || existing.seal !== algorithm)
          throw new PssError('BAD_ARGUMENT', `serial ${serial} is registered as device ${existing.device} (${existing.board}, ${sealName(existing.seal)}); revoke it first to register it again`);
        return existing.device;
      }
      if (account !== undefined) this.knownAccount(account);
      const last = this.store.get<{ d: number | null }>('SELECT MAX(device) AS d FROM devices')!.d;
      const next = Math.max(FIRST_DEVICE, (last ?? 0) + 1);
      if (next > MAX_U32) throw new PssError('INTERNAL', 'device numbers exhausted');
      this.store.run('INSERT INTO devices(device, serial, board, seal, registered_at, account) VALUES (?, ?, ?, ?, ?, ?)', [next, serial, board, algorithm, now(), account ?? null]);
      return next;
    });
    return { device, seal: algorithm, deviceKey: this.deviceKey(device), kmsKey: this.kmsKey(device) };
  }

  /** Certifies an Ed25519 device's public key (32 bytes, byte string); returns the 64-byte certificate. */
  certify(device: number, publicKey: string): string {
    if (typeof publicKey !== 'string' || publicKey.length !== 32) throw new PssError('BAD_ARGUMENT', 'publicKey must be 32 bytes');
    return this.store.change(() => {
      const row = this.activeDevice(device);
      if (row.seal !== SEAL_ED25519) throw new PssError('NO_CERTIFICATE', `device ${device} seals with ${sealName(row.seal)}: it has no public key to certify`);
      // one key per device: a host must not swap in a key of its own after provisioning
      if (row.public_key && !sameBytes(hexToString(row.public_key), publicKey))
        throw new PssError('CERTIFIED', `device ${device} is already certified with another public key; revoke and register it again to rekey`);
      const certificate = ed25519Sign(this.secrets.ca.secretKey, certificateMessage(device, publicKey));
      this.store.run('UPDATE devices SET public_key = ?, certificate = ? WHERE device = ?', [stringToHex(publicKey), stringToHex(certificate), device]);
      return certificate;
    });
  }

  /**
   * Authenticates a funds reset: the next funds counter, paid from the device's customer
   * account. In one transaction: the balance is checked and debited, the reset and its ledger
   * entry written; persisted before the MAC leaves. Refused (nothing changed) without an
   * account (NO_ACCOUNT) or beyond its balance (BALANCE).
   */
  fundsReset(device: number, amount: number, via: 'plain' | 'session' = 'plain'): FundsReset {
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount > MAX_U48) throw new PssError('BAD_ARGUMENT', `amount must be an integer 1..${MAX_U48}`);
    return this.store.change(() => {
      const row = this.activeDevice(device);
      if (row.account === null || row.account === undefined) throw new PssError('NO_ACCOUNT', `device ${device} belongs to no customer account: assign it one (pss account assign ${device} --account <n>) and deposit`);
      const account = this.account(row.account)!;
      if (amount > account.balance) throw new PssError('BALANCE', `a funds reset of ${amount} for device ${device} is beyond the balance of account ${account.account} (${account.balance})`);
      const counter = row.funds_counter + 1;
      if (counter > MAX_U32) throw new PssError('INTERNAL', 'funds counter exhausted');
      const at = now();
      this.store.run('UPDATE devices SET funds_counter = ? WHERE device = ?', [counter, device]);
      this.store.run('INSERT INTO funds_resets(device, counter, amount, issued_at, via) VALUES (?, ?, ?, ?, ?)', [device, counter, amount, at, via]);
      this.store.run('UPDATE accounts SET balance = balance - ? WHERE account = ?', [amount, account.account]);
      this.store.run('INSERT INTO ledger(account, at, kind, amount, balance, device, counter) VALUES (?, ?, ?, ?, ?, ?, ?)', [account.account, at, 'funds', -amount, account.balance - amount, device, counter]);
      return { device, counter, amount, mac: hmacSha256(this.kmsKey(device), fundsMessage(device, counter, amount)) };
    });
  }

  /** Opens a customer account (balance 0); returns its number (1, 2, ...). */
  createAccount(name: string): Account {
    if (typeof name !== 'string' || !/^[\x20-\x7e]{1,80}$/.test(name)) throw new PssError('BAD_ARGUMENT', 'name must be 1..80 printable ASCII characters');
    return this.store.change(() => {
      const next = (this.store.get<{ a: number | null }>('SELECT MAX(account) AS a FROM accounts')!.a ?? 0) + 1;
      this.store.run('INSERT INTO accounts(account, name, balance, created_at) VALUES (?, ?, 0, ?)', [next, name, now()]);
      return this.account(next)!;
    });
  }

  account(account: number): Account | undefined {
    return this.store.read(() => this.store.get<Account>('SELECT * FROM accounts WHERE account = ?', [account]));
  }

  accounts(): Account[] {
    return this.store.read(() => this.store.all<Account>('SELECT * FROM accounts ORDER BY account'));
  }

  private knownAccount(account: number): Account {
    if (typeof account !== 'number' || !Number.isInteger(account) || account < 1) throw new PssError('BAD_ARGUMENT', 'account must be a positive integer');
    const a = this.account(account);
    if (!a) throw new PssError('UNKNOWN_ACCOUNT', `account ${account} does not exist (pss account create --name <name>)`);
    return a;
  }

  /** A payment into an account: its balance grows, the ledger notes it with the reference. */
  deposit(account: number, amount: number, reference?: string): LedgerEntry {
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount > MAX_U48) throw new PssError('BAD_ARGUMENT', `amount must be an integer 1..${MAX_U48}`);
    if (reference !== undefined && !/^[\x20-\x7e]{0,80}$/.test(reference)) throw new PssError('BAD_ARGUMENT', 'reference must be at most 80 printable ASCII characters');
    return this.store.change(() => {
      const a = this.knownAccount(account);
      if (a.balance + amount > MAX_U48) throw new PssError('BAD_ARGUMENT', `balance would exceed ${MAX_U48}`);
      this.store.run('UPDATE accounts SET balance = balance + ? WHERE account = ?', [amount, account]);
      // RETURNING: SQLite and PostgreSQL alike give the entry just written
      return this.store.get<LedgerEntry>('INSERT INTO ledger(account, at, kind, amount, balance, reference) VALUES (?, ?, ?, ?, ?, ?) RETURNING *', [account, now(), 'deposit', amount, a.balance + amount, reference ?? null])!;
    });
  }

  /** The account that pays a device's funds resets from now on. */
  assignAccount(device: number, account: number): DeviceRow {
    return this.store.change(() => {
      this.activeDevice(device);
      this.knownAccount(account);
      this.store.run('UPDATE devices SET account = ? WHERE device = ?', [account, device]);
      return this.device(device)!;
    });
  }

  /** The ledger, oldest first: one account's, or every account's; optionally within [from, to) (seconds). */
  ledger(opts: { account?: number; from?: number; to?: number } = {}): LedgerEntry[] {
    const where: string[] = [];
    const params: number[] = [];
    if (opts.account !== undefined) (where.push('account = ?'), params.push(opts.account));
    if (opts.from !== undefined) (where.push('at >= ?'), params.push(opts.from));
    if (opts.to !== undefined) (where.push('at < ?'), params.push(opts.to));
    return this.store.read(() => this.store.all<LedgerEntry>(`SELECT * FROM ledger ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY entry`, params));
  }

  /**
   * Withdraws a device from service. Only the PSD's own final figures say what postage is left:
   * when the PSD itself withdrew inside a session (server/session-driver.ts, `reported`: the
   * descending register it answered, authenticated by the session, after which it franks
   * nothing), that register is credited back to its account and the device revoked. Without
   * the PSD the device is marked 'withdrawing' with its refund pending (credited 0): the
   * descending register of its last block is no final figure (it may have franked since), so
   * nothing is credited until a session with the PSD withdraws it.
   */
  withdraw(device: number, reported?: { descending: number }): { device: number; account: number | null; credited: number; pending: boolean; seq: number | null; lastDescending: number | null } {
    return this.store.change(() => {
      const row = reported ? this.reachableDevice(device) : this.activeDevice(device);
      const last = this.store.get<{ seq: number; descending: number }>('SELECT seq, descending FROM blocks WHERE device = ? ORDER BY seq DESC LIMIT 1', [device]);
      if (!reported) {
        this.store.run("UPDATE devices SET status = 'withdrawing' WHERE device = ?", [device]);
        return { device, account: row.account, credited: 0, pending: true, seq: last?.seq ?? null, lastDescending: last?.descending ?? null };
      }
      const credited = reported.descending;
      this.revoke(device);
      if (row.account !== null && credited > 0) {
        const a = this.account(row.account)!;
        this.store.run('UPDATE accounts SET balance = balance + ? WHERE account = ?', [credited, a.account]);
        this.store.run('INSERT INTO ledger(account, at, kind, amount, balance, device, reference) VALUES (?, ?, ?, ?, ?, ?, ?)', [a.account, now(), 'withdrawal', credited, a.balance + credited, device, `descending register at the PSD's withdrawal (last block ${last?.seq ?? 'none'})`]);
      }
      return { device, account: row.account, credited: row.account === null ? 0 : credited, pending: false, seq: last?.seq ?? null, lastDescending: last?.descending ?? null };
    });
  }

  /** Notes that a session saw the PSD accept the reset. */
  fundsLoaded(device: number, counter: number): void {
    this.store.change(() => this.store.run('UPDATE funds_resets SET loaded = 1 WHERE device = ? AND counter = ?', [device, counter]));
  }

  /**
   * `pss revoke` by an operator. A device being withdrawn has its refund pending: revoking it
   * forfeits that refund for good (no session will credit its descending register), so it is
   * refused (BAD_ARGUMENT) unless `forfeitRefund` says the operator means it.
   */
  revokeByOperator(device: number, forfeitRefund = false): DeviceRow & { refundForfeited: boolean } {
    return this.store.change(() => {
      const row = this.device(checkDevice(device));
      const withdrawing = row?.status === 'withdrawing';
      if (withdrawing && !forfeitRefund)
        throw new PssError('BAD_ARGUMENT', `device ${device} is being withdrawn with its refund pending: connect it and run psd upload --session --withdraw to credit its descending register, or give --forfeit-refund to revoke it with no refund`);
      return { ...this.revoke(device), refundForfeited: withdrawing };
    });
  }

  revoke(device: number): DeviceRow {
    return this.store.change(() => {
      const row = this.device(checkDevice(device));
      if (!row) throw new PssError('UNKNOWN_DEVICE', `device ${device} is not registered`);
      if (row.status !== 'revoked') this.store.run("UPDATE devices SET status = 'revoked', revoked_at = ? WHERE device = ?", [now(), device]);
      return this.store.get<DeviceRow>('SELECT * FROM devices WHERE device = ?', [device])!;
    });
  }
}
