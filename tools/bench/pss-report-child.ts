// `npm run bench -- pss`: runs `pss report --by customer,class` on a data directory the bench
// filled, alone in this process, and prints its time and peak memory as JSON.
import { performance } from 'node:perf_hooks';
import { openStatisticsSnapshot, runReport } from '../../server/report.ts';

const dir = process.argv[2];
const t0 = performance.now();
const db = await openStatisticsSnapshot(dir);
const report = runReport(db, { by: ['customer', 'class'] });
db.close();
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, maxRssKB: process.resourceUsage().maxRSS, rows: report.rows.length }));
