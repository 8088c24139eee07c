// Device keys for `pss verify-indicium --db <pss.sqlite> --master-key-file <f>`: the key of
// every device the registry knows (revoked ones too: their earlier indicia stay authentic).
import fs from 'node:fs';
import path from 'node:path';
import { u32 } from '../protocol/bytes.ts';
import { hmacSha256 } from './hashes.ts';
import { Store } from './db.ts';
import { MASTER_KEY_FILE, externalMasterKey, masterKeyFromEnv } from './keyfiles.ts';
import { DEFAULT_DATA_DIR } from './datacenter.ts';
import { PssError } from '../protocol/pss-errors.ts';

export async function kmsKeyLookup(opts: { db?: string; masterKeyFile?: string }): Promise<(device: number) => string | null> {
  const dir = opts.db ? path.dirname(opts.db) : DEFAULT_DATA_DIR;
  const external = externalMasterKey(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : masterKeyFromEnv());
  const keyFile = path.join(dir, MASTER_KEY_FILE);
  const master = external !== null ? Buffer.from(external, 'latin1') : fs.readFileSync(keyFile);
  if (master.length !== 32) throw new PssError('STORAGE', `${keyFile} holds ${master.length} bytes, not a 32-byte master key`);
  const store = await Store.open(dir);
  const known = new Set(store.all<{ device: number }>('SELECT device FROM devices').map((r) => r.device));
  store.close();
  return (device) => (known.has(device) ? hmacSha256(master.toString('latin1'), 'PSD-DEVICE-KEY' + u32(device)) : null);
}
