// The KMS's own secrets, one file each in the data directory, mode 0600, created on first
// start: the master key (device keys derive from it) and the CA's Ed25519 seed.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { PssError } from './errors.ts';

export const MASTER_KEY_FILE = 'kms-master.key';
export const CA_SEED_FILE = 'kms-ca.seed';

export interface KmsSecrets {
  /** 32 bytes, byte string */
  master: string;
  ca: nacl.SignKeyPair;
}

export function loadOrCreateSecrets(dir: string): KmsSecrets {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const master = loadOrCreate32(path.join(dir, MASTER_KEY_FILE));
  const seed = loadOrCreate32(path.join(dir, CA_SEED_FILE));
  return { master: master.toString('latin1'), ca: nacl.sign.keyPair.fromSeed(new Uint8Array(seed)) };
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
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, crypto.randomBytes(32));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  let made = true;
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    made = false;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
  return made;
}
