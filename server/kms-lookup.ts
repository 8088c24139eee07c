// Device keys for `pss verify-indicium`: the key of every device the registry of a data
// directory knows (revoked and withdrawn ones too: their earlier indicia stay authentic), each
// key version it has held (an indicium made before a rekey is under the older key). The data
// directory and database are found as every pss command finds them (--data, PSS_DATA, --db,
// PSS_DB); nothing is created: a folder without a registry is an error.
import fs from 'node:fs';
import path from 'node:path';
import { deriveDeviceKey } from './kms.ts';
import { openStore, databaseOf, DB_FILE } from './db.ts';
import { MASTER_KEY_FILE, externalMasterKey, masterKeyFromEnv } from './keyfiles.ts';
import { PssError } from '../protocol/pss-errors.ts';

/** Looks up a device's keys, newest version first (byte strings), or null for a device the registry does not know. */
export async function kmsKeyLookup(opts: { dir: string; db?: string; masterKeyFile?: string }): Promise<(device: number) => string[] | null> {
  const dir = opts.dir;
  const external = externalMasterKey(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : masterKeyFromEnv());
  const keyFile = path.join(dir, MASTER_KEY_FILE);
  if (external === null && !fs.existsSync(keyFile)) throw new PssError('STORAGE', `${keyFile} does not exist: --data (or PSS_DATA) names the data directory of the KMS that provisioned the device, or give --master-key-file`);
  const master = external !== null ? Buffer.from(external, 'latin1') : fs.readFileSync(keyFile);
  if (master.length !== 32) throw new PssError('STORAGE', `${keyFile} holds ${master.length} bytes, not a 32-byte master key`);
  if (databaseOf(dir, opts.db ?? process.env.PSS_DB) === null && !fs.existsSync(path.join(dir, DB_FILE)))
    throw new PssError('STORAGE', `${path.join(dir, DB_FILE)} does not exist: --data (or PSS_DATA) names the data directory whose registry knows the device, --db (or PSS_DB) its PostgreSQL database`);
  const store = await openStore(dir, opts.db);
  let rows: { device: number; key_version: number }[];
  try {
    rows = store.read(() => store.all<{ device: number; key_version: number }>('SELECT device, key_version FROM devices'));
  } finally {
    store.close();
  }
  const versions = new Map(rows.map((r) => [Number(r.device), Number(r.key_version)]));
  const secret = master.toString('latin1');
  return (device) => {
    const v = versions.get(device);
    if (v === undefined) return null;
    const keys: string[] = [];
    for (let k = v; k >= 0; k--) keys.push(deriveDeviceKey(secret, device, k));
    return keys;
  };
}
