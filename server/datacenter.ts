// Opens a data directory: the database, the KMS secrets, and the KMS and PSS over them.
import { openStore, databaseOf, type Store } from './db.ts';
import { Kms } from './kms.ts';
import { Pss } from './pss.ts';
import { loadOrCreateSecrets, platformDataDir, type MasterKeySource } from './keyfiles.ts';
import type { SealPrimitives } from './verify.ts';
import type { DiscountConfig } from './discounts.ts';

/** The platform's data directory (~/.local/share/psd-lab/pss on Linux), not the working folder. */
export const DEFAULT_DATA_DIR = platformDataDir();

export interface DataCenter {
  dir: string;
  store: Store;
  kms: Kms;
  pss: Pss;
  /** the discount rules an export over TLS applies (`pss serve --rules`; default config/discounts.json) */
  rules?: DiscountConfig;
  close(): void;
}

/** `db`: a postgres:// URL (server/pg-store.ts); default --db / PSS_DB, else SQLite in the data folder. */
export async function openDataCenter(dir: string = DEFAULT_DATA_DIR, prims?: SealPrimitives, keys?: MasterKeySource, db?: string): Promise<DataCenter> {
  databaseOf(dir, db ?? process.env.PSS_DB); // a bad --db / PSS_DB is refused before anything is made
  const secrets = loadOrCreateSecrets(dir, keys);
  const store = await openStore(dir, db);
  const kms = new Kms(store, secrets);
  const pss = new Pss(store, kms, prims);
  return {
    dir,
    store,
    kms,
    pss,
    close: () => {
      pss.close();
      store.close();
    }
  };
}
