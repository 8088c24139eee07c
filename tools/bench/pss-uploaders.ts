// `npm run bench -- pss`: the uploaders of the ingest benchmark, in a process of their own (as
// devices are: the PSS's process does only the PSS's work). Reads chains of sealed blocks
// (one per uploader, hex, JSON file argv[3]), connects one PssClient per chain to argv[2]
// (host:port), then uploads every chain at once, each pipelined on its connection as
// `psd upload` sends a host store's blocks (PssClient.uploadMany), and prints {seconds, stored,
// cpuSeconds} as JSON (cpuSeconds: this process's CPU time, all threads, while uploading). argv[4] "one": one block per round trip instead (PssClient.upload, the old way).
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PssClient } from '../../kit/pss-client.ts';

const [address, file, mode] = process.argv.slice(2);
const chains = (JSON.parse(fs.readFileSync(file, 'utf8')) as string[][]).map((c) => c.map((hex) => Buffer.from(hex, 'hex').toString('latin1')));
const clients = await Promise.all(chains.map(() => PssClient.connect(address, { retries: 5, timeoutMs: 30000 })));
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let stored = 0;
await Promise.all(
  clients.map(async (c, u) => {
    if (mode === 'one') {
      for (const raw of chains[u]) if ((await c.upload(raw)).stored) stored++;
      return;
    }
    for (const o of await c.uploadMany(chains[u])) {
      if (o.error) throw o.error;
      if (o.answer.stored) stored++;
    }
  })
);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
for (const c of clients) await c.close();
console.log(JSON.stringify({ seconds, stored, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
