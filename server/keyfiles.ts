// The KMS's own secrets, one file each in the data directory, mode 0600, created on first
// start: the master key (device keys derive from it) and the CA's Ed25519 seed. A deployment
// that keeps the master key elsewhere gives it as a file (PSS_MASTER_KEY_FILE, 32 raw bytes
// or 64 hex digits, mode 0600) or in the environment (PSS_MASTER_KEY, 64 hex digits); then
// no master key file is made in the data directory.
//
// The data directory itself (server/paths.ts) is 0700: `pss` refuses one others can read.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import envPaths from 'env-paths';
import { PssError } from '../protocol/pss-errors.ts';
import { writeDurableSync } from '../kit/durable.ts';

/** The platform's data directory for the PSS: ~/.local/share/psd-lab/pss on Linux ($XDG_DATA_HOME),
 * ~/Library/Application Support/psd-lab/pss on macOS, %LOCALAPPDATA%\psd-lab\Data\pss on Windows. */
export function platformDataDir(): string {
  return path.join(envPaths('psd-lab', { suffix: '' }).data, 'pss');
}

/**
 * Creates the data directory 0700 (its parents too), or checks an existing one: refused when
 * others can read, write or enter it (the master key and the database are in it), like ssh.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new PssError('STORAGE', `${dir} is not a directory`);
  if (process.platform !== 'win32' && st.mode & 0o077)
    throw new PssError('STORAGE', `data directory ${dir} is open to others (mode ${(st.mode & 0o777).toString(8)}): it holds the KMS keys; chmod 700 it`);
}

export interface MasterKeySource {
  /** a file holding the master key (32 raw bytes or 64 hex digits), mode 0600 */
  masterKeyFile?: string;
  /** the master key as 64 hex digits */
  masterKeyHex?: string;
}

/** PSS_MASTER_KEY_FILE / PSS_MASTER_KEY of the environment, if set. */
export function masterKeyFromEnv(env: NodeJS.ProcessEnv = process.env): MasterKeySource {
  return { masterKeyFile: env.PSS_MASTER_KEY_FILE || undefined, masterKeyHex: env.PSS_MASTER_KEY || undefined };
}

/** The master key (byte string) from a file or hex given, or null: use the data directory's. */
export function externalMasterKey(src: MasterKeySource): string | null {
  if (src.masterKeyHex !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(src.masterKeyHex.trim())) throw new PssError('BAD_ARGUMENT', 'PSS_MASTER_KEY must be 64 hex digits (32 bytes)');
    return Buffer.from(src.masterKeyHex.trim(), 'hex').toString('latin1');
  }
  if (src.masterKeyFile === undefined) return null;
  const file = src.masterKeyFile;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new PssError('STORAGE', `cannot read the master key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (process.platform !== 'win32' && st.mode & 0o077) throw new PssError('STORAGE', `${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  const bytes = fs.readFileSync(file);
  if (bytes.length === 32) return bytes.toString('latin1');
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex').toString('latin1');
  throw new PssError('STORAGE', `${file} holds ${bytes.length} bytes: not a 32-byte master key (raw, or 64 hex digits)`);
}

export const MASTER_KEY_FILE = 'kms-master.key';
export const CA_SEED_FILE = 'kms-ca.seed';

export interface KmsSecrets {
  /** 32 bytes, byte string */
  master: string;
  ca: nacl.SignKeyPair;
}

export function loadOrCreateSecrets(dir: string, source: MasterKeySource = masterKeyFromEnv()): KmsSecrets {
  ensurePrivateDir(dir);
  const master = externalMasterKey(source) ?? loadOrCreate32(path.join(dir, MASTER_KEY_FILE)).toString('latin1');
  const seed = loadOrCreate32(path.join(dir, CA_SEED_FILE));
  return { master, ca: nacl.sign.keyPair.fromSeed(new Uint8Array(seed)) };
}

function loadOrCreate32(file: string): Buffer {
  return loadOrCreateKeyFile(file, 'key').key;
}

/**
 * A 32-byte secret in its own file (mode 0600), made on first use. A fresh key is written
 * under a temporary name and linked in place: readers never see a half-written key, and of
 * two first uses racing, one key wins. Refuses a file others can read, like ssh.
 */
export function loadOrCreateKeyFile(file: string, what: string): { key: Buffer; created: boolean } {
  const created = !fs.existsSync(file) && create32(file);
  const st = fs.statSync(file);
  if (st.mode & 0o077) throw new PssError('STORAGE', `${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  const key = fs.readFileSync(file);
  if (key.length !== 32) throw new PssError('STORAGE', `${file} holds ${key.length} bytes, not a 32-byte ${what}`);
  return { key, created };
}

/** Returns whether this call made the file (false: another one won the race). */
function create32(file: string): boolean {
  return writeDurableSync(file, crypto.randomBytes(32), { mode: 'create' });
}
