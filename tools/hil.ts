// `npm run test:hil -- --port <path> --board <id> [--junit <file>]`
// Runs the conformance suite (test/conformance.test.ts) against a real PSD on a serial port,
// Espruino's Linux build on a pseudo-terminal, or a tcp:// address, and writes a JUnit XML
// report for lab CI beside a summary table. Without --port it runs on the virtual board,
// as `npm test` does.
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';
import { Command } from 'commander';
import { getBoard } from '../board-defs/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const cli = new Command('test:hil')
  .description('run the PSD conformance suite against a device and write a JUnit XML report')
  .option('-p, --port <path|tcp://host:port>', 'the device (default: a virtual board)')
  .option('-b, --board <id>', 'board definition of the device', 'pico')
  .option('--junit <file>', 'JUnit XML report', 'reports/hil-junit.xml')
  .option('--device-key <hex>', 'lab device key of an already provisioned device (PSD_DEVICE_KEY)')
  .option('--kms-key <hex>', 'lab KMS key of an already provisioned device (PSD_KMS_KEY)')
  .option('--timeout <ms>', 'per test', '180000')
  .parse();
const o = cli.opts();

getBoard(o.board); // a clear error for an unknown board
if (o.port) process.env.PSD_PORT = o.port;
process.env.PSD_BOARD = o.board;
if (o.deviceKey) process.env.PSD_DEVICE_KEY = o.deviceKey;
if (o.kmsKey) process.env.PSD_KMS_KEY = o.kmsKey;
const junit = path.resolve(o.junit);
fs.mkdirSync(path.dirname(junit), { recursive: true });

const mocha = new Mocha({
  timeout: Number(o.timeout),
  reporter: 'mocha-junit-reporter',
  reporterOptions: { mochaFile: junit, testsuitesTitle: `PSD conformance (${o.board} on ${o.port ?? 'virtual board'})` }
});
mocha.addFile(path.join(ROOT, 'test/conformance.test.ts'));
await mocha.loadFilesAsync();

const rows: [string, string, string][] = [];
const started = Date.now();
const runner = mocha.run((failures) => {
  const w = Math.max(4, ...rows.map((r) => r[0].length));
  console.log(`\nPSD conformance: ${o.board} on ${o.port ?? 'the virtual board'}\n`);
  console.log(`${'test'.padEnd(w)}  result  ms`);
  console.log(`${'-'.repeat(w)}  ------  ------`);
  for (const r of rows) console.log(`${r[0].padEnd(w)}  ${r[1].padEnd(6)}  ${r[2]}`);
  const passed = rows.filter((r) => r[1] === 'pass').length;
  console.log(`\n${passed} passed, ${failures} failed, ${rows.length - passed - failures} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s; JUnit report: ${path.relative(process.cwd(), junit)}`);
  process.exitCode = failures ? 1 : 0;
});
runner.on('pass', (t) => rows.push([t.fullTitle().replace(/^conformance: a PSD through its data port /, ''), 'pass', String(t.duration ?? '')]));
runner.on('fail', (t, err) => {
  rows.push([t.fullTitle().replace(/^conformance: a PSD through its data port /, ''), 'FAIL', String(t.duration ?? '')]);
  console.error(`FAIL ${t.fullTitle()}: ${err.message}`);
});
runner.on('pending', (t) => rows.push([t.fullTitle(), 'skip', '']));
