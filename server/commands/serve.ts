// `pss serve`: the KMS and PSS TCP service on one data directory.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { TLS_DIR } from '../../kit/tls.ts';
import { openDataCenter } from '../datacenter.ts';
import { startService, DEFAULT_IDLE_MS } from '../service.ts';
import { DEFAULT_PSS_HOST, DEFAULT_PSS_PORT } from '../../protocol/pss-wire.ts';
import { stringToHex } from '../bytestrings.ts';
import { dataDir, positiveInt } from './common.ts';
import { loadDiscountConfig, DEFAULT_RULES_FILE } from '../discounts.ts';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the KMS and PSS TCP service (one process; SQLite in the data directory, or PostgreSQL with --db postgres://...)')
    .option('--port <n>', 'TCP port', String(DEFAULT_PSS_PORT))
    .option('--host <address>', 'address to listen on', DEFAULT_PSS_HOST)
    .option('--idle <ms>', 'close a connection silent this long', String(DEFAULT_IDLE_MS))
    .option('--quiet', 'no log lines')
    .option('--rules <file>', 'discount rules (JSON) for exports auditors ask for over TLS (pss export --pss)', DEFAULT_RULES_FILE)
    .action(async (o, cmd: Command) => {
      const dir = dataDir(cmd);
      const rules = loadDiscountConfig(o.rules); // a bad rules file is refused before the service starts
      // a mistyped --data would serve a new data center with a new KMS master key, silently
      const fresh = !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
      const dc = await openDataCenter(dir);
      if (fresh) console.error(`pss: ${dir} held no data center: made a new one there (new KMS master key and lab CA; devices and credentials of any other are unknown to it). If you meant another, stop and check --data / PSS_DATA; pss init makes one on purpose`);
      dc.rules = rules;
      const log = o.quiet ? undefined : (line: string) => console.error(`${new Date().toISOString()} ${line}`);
      const service = await startService(dc, { host: o.host, port: positiveInt(o.port, '--port', 0, 65535), idleMs: positiveInt(o.idle, '--idle', 1, 86400000), log });
      // before the lines that say it serves: whoever reads them may stop it at once
      const stop = async () => {
        await service.close();
        dc.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      console.log(`pss: serving on ${service.host}:${service.port}, data ${dir}, CA public key ${stringToHex(dc.kms.caPublicKey)}`);
      console.log(`pss: database ${dc.store.file} (${dc.store.kind === 'postgres' ? 'PostgreSQL' : 'SQLite'})`);
      console.log(`pss: devices upload with no secret; operators and auditors connect over TLS with a credential of the lab CA in ${path.join(dir, TLS_DIR)} (pss credential issue)`);
    });
}
