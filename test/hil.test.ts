// `npm run test:hil` as a lab runs it (tools/hil.ts, issue 13): the board check first, a
// hardware map of several devices with one JUnit report, the frames around a failing case in
// that report, and --flash then test. Against virtual boards (TCP), the real-interpreter
// runner (with ESPRUINO_BIN) and, for --flash, the stand-in Espruino REPL on a pty.
import { expect } from 'chai';
import nodeCrypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import yaml from 'js-yaml';
import { ROOT, hasSocat, imagePath, realTargetUnavailable } from '../testkit/target.ts';
import { runSim, type RunningSim } from '../kit/vboard/run.ts';
import { readHardwareMap } from '../tools/hil.ts';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { Command } from '../protocol/commands.ts';

interface Run {
  code: number | null;
  out: string;
  report: any;
}

function hil(args: string[], junit: string, timeoutMs = 600000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.PSD_PORT;
    delete env.PSD_DEVICE_KEY;
    delete env.PSD_KMS_KEY;
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/hil.ts'), ...args, '--junit', junit], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      let report: any = null;
      try {
        report = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(readFileSync(junit, 'utf8'));
      } catch {
        report = null;
      }
      resolve({ code, out, report });
    });
  });
}

const cases = (suite: any) => suite.testcase as any[];
const failures = (suite: any) => cases(suite).filter((c) => c.failure);

describe('test:hil (tools/hil.ts): board check, hardware map, frames of a failing case, --flash', function () {
  this.timeout(900000);
  let dir: string;
  const sims: RunningSim[] = [];
  const closers: (() => Promise<void>)[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'psd-hil-test-'));
  });
  after(async () => {
    for (const c of closers) await c();
    for (const s of sims) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sim(board: string): Promise<RunningSim> {
    const s = await runSim({ board, flashFile: join(dir, `${board}-${sims.length}.flash`), pty: false, log: () => {} });
    sims.push(s);
    return s;
  }

  it('the board check comes first: --board esp32 against a Pico fails with both names, and runs nothing else', async () => {
    const pico = await sim('pico');
    const r = await hil(['--port', pico.tcpUrl, '--board', 'esp32'], join(dir, 'wrong.xml'));
    expect(r.code, r.out).to.equal(1);
    expect(r.out).to.match(/FAIL board check: the device reports board esp32: told --board esp32, but the device on tcp:\/\/127\.0\.0\.1:\d+ reports board pico/);
    const suites = r.report.testsuites.testsuite;
    expect(suites).to.have.length(1);
    expect(cases(suites[0])).to.have.length(1);
    const props = Object.fromEntries(suites[0].properties.property.map((p: any) => [p.name, p.value]));
    expect(props).to.include({ board: 'esp32', 'reported.board': 'pico' });
    expect(failures(suites[0])[0]['system-out']).to.match(/-> status seq \d+ \{\}\n.*<- status answer seq \d+ \{.*"board":"pico"/);
    // nothing was provisioned: the suite never ran
    const c = new PsdClient(await openLink(pico.tcpUrl));
    expect((await c.request(Command.STATUS)).device).to.equal(0);
    await c.close();
  });

  it('a hardware map (YAML) runs the suite on each device, one JUnit report; a failing case carries the frames around it', async () => {
    const a = await sim('pico');
    const b = await sim('esp32');
    // c: provisioned already, and the map gives the right device key but a wrong KMS key,
    // so the suite's first funds reset is refused (error 10, auth) on the device
    const c = await sim('pico');
    const deviceKey = nodeCrypto.randomBytes(32).toString('hex');
    const kmsKey = nodeCrypto.randomBytes(32).toString('hex');
    const cl = new PsdClient(await openLink(c.tcpUrl));
    await cl.request(Command.PROVISION, { device: 777001, deviceKey, kmsKey });
    await cl.close();
    const devices: any[] = [
      { name: 'bench-pico', port: a.tcpUrl, board: 'pico' },
      { name: 'bench-esp32', port: b.tcpUrl, board: 'esp32' },
      { name: 'bench-wrong-kms-key', port: c.tcpUrl, board: 'pico', deviceKey, kmsKey: 'ab'.repeat(32) },
      { name: 'bench-mislabelled', port: a.tcpUrl, board: 'esp32' }
    ];
    const real = !realTargetUnavailable();
    if (real) {
      const { runReal } = await import('../kit/real/run.ts');
      const rr = await runReal({ image: imagePath('linux'), pty: true });
      closers.push(() => rr.close());
      devices.push({ name: 'bench-linux', port: rr.ptyPath, board: 'linux' });
    }
    const map = join(dir, 'bench.yaml');
    writeFileSync(map, yaml.dump({ devices }));
    expect(readHardwareMap(map).map((d) => d.name)).to.deep.equal(devices.map((d) => d.name));
    const r = await hil(['--map', map], join(dir, 'map.xml'));
    expect(r.code, r.out).to.equal(1);
    const suites = r.report.testsuites.testsuite;
    expect(suites.map((s: any) => s.name.split(':')[0])).to.deep.equal(devices.map((d) => d.name));
    const by = (name: string) => suites.find((s: any) => s.name.startsWith(name + ':'));
    for (const ok of ['bench-pico', 'bench-esp32', ...(real ? ['bench-linux'] : [])]) {
      expect(failures(by(ok)), ok + '\n' + r.out).to.deep.equal([]);
      expect(cases(by(ok)).length, ok).to.equal(10);
      expect(cases(by(ok))[0].name).to.equal(`board check: the device reports board ${devices.find((d) => d.name === ok).board}`);
    }
    // the failing case: its report names the refusal and shows the frames around it
    const bad = failures(by('bench-wrong-kms-key'));
    expect(bad.length).to.be.at.least(1);
    const funds = bad.find((x: any) => /loads funds only from an authentic/.test(x.name));
    expect(funds, JSON.stringify(bad.map((x: any) => x.name))).to.not.equal(undefined);
    const frames: string = funds['system-out'];
    expect(frames).to.match(/^frames on tcp:\/\/127\.0\.0\.1:\d+ around the failure/);
    expect(frames, frames).to.match(/-> funds seq \d+ \{"counter":1,"amount":100000,"mac":"0{64}"\}/);
    expect(frames, frames).to.match(/<- ERROR seq \d+ \{"code":22/);
    // and the device's own log (its last 16 events), read after the suite
    expect(frames, frames).to.match(/the device log after the suite \(psd log\):\n#\d+ \d+s [A-Z-]+ /);
    expect(frames, frames).to.match(/\n#\d+ \d+s REFUSED 0x[0-9a-f]+ \d+/);
    // a virtual board's console file (what `psd ports` lists for the port) rides along
    expect(funds['system-err']).to.include(`the board's console (${c.consoleLog}), last 60 lines:\n`);
    expect(funds['system-err']).to.match(/\[sim\] power-up of pico/);
    expect(cases(by('bench-pico')).every((x: any) => !x['system-err'])).to.equal(true);
    // the mislabelled entry: board check only
    const mis = by('bench-mislabelled');
    expect(cases(mis)).to.have.length(1);
    expect(failures(mis)[0].failure.message).to.match(/told --board esp32, but the device on .* reports board pico/);
    expect(Number(r.report.testsuites.tests)).to.equal(suites.reduce((n: number, s: any) => n + cases(s).length, 0));
    expect(r.out).to.match(/\d+ passed, \d+ failed, 0 skipped in [\d.]+ s; JUnit report: /);
  });

  it('a hardware map in JSON is read too; a map with a missing port or an unknown board is refused with where', async () => {
    const json = join(dir, 'bench.json');
    writeFileSync(json, JSON.stringify([{ port: 'tcp://127.0.0.1:1', board: 'pico' }]));
    expect(readHardwareMap(json)).to.deep.equal([{ name: 'pico@tcp://127.0.0.1:1', port: 'tcp://127.0.0.1:1', board: 'pico', deviceKey: undefined, kmsKey: undefined, image: undefined }]);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'devices:\n  - board: pico\n');
    expect(() => readHardwareMap(bad)).to.throw(/bad\.yaml, device 1: port missing/);
    writeFileSync(bad, 'devices:\n  - port: /dev/ttyACM0\n    board: pcio\n');
    expect(() => readHardwareMap(bad)).to.throw(/device 1: .*pcio/);
    const r = await hil(['--map', bad], join(dir, 'bad.xml'), 60000);
    expect(r.code).to.equal(2);
    expect(r.out).to.match(/test:hil: hardware map .*bad\.yaml, device 1/);
  });

  it('--flash flashes with psd flash, then tests the flashed device (stand-in Espruino REPL on a pty)', async function () {
    if (!hasSocat()) this.skip();
    const { startStandin } = await import('../testkit/standin-repl.ts');
    const s = await startStandin({ board: 'esp32', dir: join(dir, 'standin'), storageBytes: 256 * 1024 });
    closers.push(() => s.close());
    const r = await hil(['--port', s.ptyPath, '--board', 'esp32', '--flash'], join(dir, 'flash.xml'));
    expect(r.code, r.out).to.equal(0);
    const suite = r.report.testsuites.testsuite[0];
    expect(cases(suite)[0].name).to.equal('flash: psd flash --board esp32');
    expect(cases(suite)[1].name).to.equal('board check: the device reports board esp32');
    expect(failures(suite)).to.deep.equal([]);
    expect(cases(suite).length).to.equal(11);
    expect(s.bootCode()).to.equal(readFileSync(imagePath('esp32'), 'latin1'));
  });
});
