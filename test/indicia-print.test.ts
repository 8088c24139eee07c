// Indicia on paper: an indicium made by the firmware's own code path (protocol/indicium.ts +
// protocol/hmac.ts) is printed as a Data Matrix PNG and SVG (host-bridge/print.ts), read
// back with zxing-wasm and checked by the data center (server/indicium.ts) with node:crypto's
// HMAC; then the same through the real `psd frank --print` against the virtual board and
// `pss verify-indicium`.
import { expect } from 'chai';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { indiciumBody, parseIndicium, type IndiciumFields } from '../protocol/indicium.ts';
import { hmac } from '../protocol/hmac.ts';
import { indiciumPng, indiciumSvg, printIndicium, printIndicia, preparePrintDir, formatDay, indiciumLines } from '../host-bridge/print.ts';
import { readDataMatrix, UnreadableBarcode } from '../server/datamatrix.ts';
import { verifyIndicium, verifyIndiciumWith } from '../server/indicium.ts';
import { extraCommands } from '../server/commands/index.ts';
import { ROOT, startTarget, runCli, type Target } from '../testkit/target.ts';

const nodeSha256 = (s: string) => crypto.createHash('sha256').update(Buffer.from(s, 'latin1')).digest().toString('latin1');
const TEST_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex').toString('latin1');

/** An indicium exactly as the PSD makes one (firmware/core/ledger.ts indicium()). */
function makeIndicium(f: IndiciumFields, key = TEST_KEY): string {
  const body = indiciumBody(f);
  return body + hmac(nodeSha256, key, body).substr(0, 8);
}

const FIELDS: IndiciumFields = { device: 42, day: 20416, postage: 85, ascending: 51000, descending: 949000, piece: 600, category: 3, customer: 1001 };

/** Runs `pss verify-indicium ...` as a process: the command factory mounted on a bare program. */
function runVerify(dir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const wrapper = join(dir, 'pss-verify.mts');
  writeFileSync(
    wrapper,
    `import { Command } from ${JSON.stringify(pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('commander')).href)};\nimport { extraCommands } from ${JSON.stringify(pathToFileURL(join(ROOT, 'server/commands/index.ts')).href)};\n` +
      `const p = new Command('pss');\nfor (const f of extraCommands) p.addCommand(f());\nawait p.parseAsync(process.argv);\n`
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', wrapper, 'verify-indicium', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A print as a scanner sees it: rotated and scaled (nearest pixel), blurred 3x3, on grey paper
 * with deterministic noise. */
function simulateScan(image: Buffer, angle: number, scale: number, noise: number, seed: number): Buffer {
  const src = PNG.sync.read(image);
  const W = Math.round(src.width * scale * 1.3);
  const H = Math.round(src.height * scale * 1.6);
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  const at = (x: number, y: number) => {
    [x, y] = [Math.floor(x), Math.floor(y)];
    return x < 0 || y < 0 || x >= src.width || y >= src.height ? 255 : src.data[(y * src.width + x) * 4];
  };
  const sharp = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const [dx, dy] = [x - W / 2, y - H / 2];
      sharp[y * W + x] = at((c * dx + s * dy) / scale + src.width / 2, (-s * dx + c * dy) / scale + src.height / 2);
    }
  let rnd = seed >>> 0;
  const random = () => ((rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new PNG({ width: W, height: H });
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let [sum, n] = [0, 0];
      for (let k = -1; k <= 1; k++)
        for (let l = -1; l <= 1; l++)
          if (y + k >= 0 && x + l >= 0 && y + k < H && x + l < W) [sum, n] = [sum + sharp[(y + k) * W + x + l], n + 1];
      const v = Math.max(0, Math.min(255, 40 + (sum / n) * 0.75 + (random() - 0.5) * noise));
      const p = (y * W + x) * 4;
      out.data[p] = out.data[p + 1] = out.data[p + 2] = v;
      out.data[p + 3] = 255;
    }
  return PNG.sync.write(out);
}

describe('indicia on paper: Data Matrix PNG/SVG, read back and verified', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'psd-indicia-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('formats the day number as a UTC date', () => {
    expect(formatDay(0)).to.equal('1970-01-01');
    expect(formatDay(20416)).to.equal('2025-11-24');
    expect(formatDay(Date.UTC(2026, 1, 28) / 86400000 + 1)).to.equal('2026-03-01');
  });

  it('prints PNG and SVG under PSD-<device>-<piece>; the PNG reads back to the same 42 bytes and every field', async () => {
    const bytes = makeIndicium(FIELDS);
    const p = await printIndicium(bytes, dir);
    expect(p.png).to.equal(join(dir, 'PSD-42-600.png'));
    expect(p.svg).to.equal(join(dir, 'PSD-42-600.svg'));
    expect(readdirSync(dir).sort()).to.deep.equal(['PSD-42-600.png', 'PSD-42-600.svg']); // no temp files left
    const read = await readDataMatrix(readFileSync(p.png));
    expect(Buffer.from(read, 'latin1').toString('hex')).to.equal(Buffer.from(bytes, 'latin1').toString('hex'));
    const f = parseIndicium(read);
    for (const k of Object.keys(FIELDS) as (keyof IndiciumFields)[]) expect(f[k], k).to.equal(FIELDS[k]);
    expect(f.version).to.equal(2);
    expect(f.rateVersion).to.equal(0);
    const check = verifyIndicium(read, TEST_KEY);
    expect(check, check.reason).to.include({ ok: true, reason: '' });
    // a white quiet zone all round
    const img = PNG.sync.read(readFileSync(p.png));
    for (let x = 0; x < img.width; x++) for (const y of [0, 7, img.height - 1]) expect(img.data[(y * img.width + x) * 4], `pixel ${x},${y}`).to.equal(255);
  });

  it('the SVG carries the same symbol and the human-readable fields as <text>', async () => {
    const bytes = makeIndicium(FIELDS);
    const svg = indiciumSvg(bytes);
    expect(await readDataMatrix(Buffer.from(svg)), 'the SVG, rendered, reads back').to.equal(bytes);
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).to.deep.equal(['DEVICE', 'PSD-42', 'DATE', '2025-11-24', 'POSTAGE', '0.85 EUR', 'PIECE', '600', 'AR', '510.00 EUR', 'DR', '9490.00 EUR', 'CATEGORY', '3', 'CUSTOMER', '1001']);
  });

  it('round-trips extreme and awkward bytes (0x00, 0x80-0x9f, 0xff, maximum registers)', async () => {
    const cases: IndiciumFields[] = [
      { device: 4294967295, day: 65535, postage: 4294967295, ascending: 2 ** 48 - 1, descending: 2 ** 48 - 1, piece: 4294967295, category: 255, customer: 4294967295 },
      { device: 1, day: 0, postage: 1, ascending: 0, descending: 0, piece: 1, category: 0, customer: 1 },
      { device: 0x80818283, day: 0x8485, postage: 0x86878889, ascending: 0x8a8b8c8d8e8f, descending: 0x909192939495, piece: 0x96979899, category: 0x9a, customer: 0x9b9c9d9e }
    ];
    for (let i = 0; i < 12; i++) {
      cases.push({
        device: crypto.randomInt(1, 2 ** 32 - 1),
        day: crypto.randomInt(0, 65536),
        postage: crypto.randomInt(1, 2 ** 32 - 1),
        ascending: crypto.randomInt(0, 2 ** 48 - 1),
        descending: crypto.randomInt(0, 2 ** 48 - 1),
        piece: crypto.randomInt(1, 2 ** 32 - 1),
        category: crypto.randomInt(0, 256),
        customer: crypto.randomInt(1, 2 ** 32 - 1)
      });
    }
    for (const f of cases) {
      const bytes = makeIndicium(f);
      const read = await readDataMatrix(await indiciumPng(bytes));
      expect(Buffer.from(read, 'latin1').toString('hex'), JSON.stringify(f)).to.equal(Buffer.from(bytes, 'latin1').toString('hex'));
      expect(verifyIndicium(read, TEST_KEY).ok).to.equal(true);
    }
  });

  it('reads a scan-like copy: tilted 6 degrees at 1.5x, blurred, noisy grey paper; upside down', async () => {
    const bytes = makeIndicium(FIELDS);
    const png = await indiciumPng(bytes);
    expect(await readDataMatrix(simulateScan(png, 0.1, 1.5, 60, 1))).to.equal(bytes);
    expect(await readDataMatrix(simulateScan(png, Math.PI, 1, 80, 2))).to.equal(bytes);
  });

  it('a tampered indicium (one body byte changed, re-printed) fails with a clear reason', async () => {
    const bytes = makeIndicium(FIELDS);
    const tampered = bytes.slice(0, 10) + String.fromCharCode(bytes.charCodeAt(10) ^ 0x01) + bytes.slice(11); // postage 85 -> 84
    const read = await readDataMatrix(await indiciumPng(tampered));
    expect(read).to.equal(tampered);
    const check = verifyIndicium(read, TEST_KEY);
    expect(check.ok).to.equal(false);
    expect(check.code).to.equal('BAD_MAC');
    expect(check.reason).to.match(/MAC does not match/);
    expect(check.fields!.postage).to.equal(84);
    // and the right indicium under another key
    expect(verifyIndicium(bytes, Buffer.alloc(32, 1).toString('latin1')).code).to.equal('BAD_MAC');
  });

  it('wrong length, unknown version, wrong key size and unknown device are named', async () => {
    const bytes = makeIndicium(FIELDS);
    expect(verifyIndicium(bytes.slice(0, 41), TEST_KEY)).to.include({ ok: false, code: 'WRONG_LENGTH', fields: null });
    expect(verifyIndicium(bytes + '\x00', TEST_KEY).reason).to.match(/42 bytes \(40 in older layouts\), this is 43/);
    const v3 = '\x03' + bytes.slice(1);
    expect(verifyIndicium(v3, TEST_KEY)).to.include({ ok: false, code: 'UNKNOWN_VERSION' });
    // layout 1 (40 bytes, no rate-table version, the MAC over 32 bytes) is still read and verified
    const v1Body = '\x01' + bytes.slice(1, 32);
    const v1 = v1Body + crypto.createHmac('sha256', Buffer.from(TEST_KEY, 'latin1')).update(Buffer.from(v1Body, 'latin1')).digest().subarray(0, 8).toString('latin1');
    const old = verifyIndicium(v1, TEST_KEY);
    expect(old, old.reason).to.include({ ok: true });
    expect(old.fields).to.include({ version: 1, piece: FIELDS.piece, customer: FIELDS.customer });
    expect(old.fields!.rateVersion).to.equal(undefined);
    expect(verifyIndicium(v1 + '\x00\x00', TEST_KEY).reason).to.match(/a layout-1 indicium is 40 bytes, this is 42/);
    // the rate-table version is inside the MAC
    const priced = makeIndicium({ ...FIELDS, rateVersion: 7 });
    expect(verifyIndicium(priced, TEST_KEY).fields!.rateVersion).to.equal(7);
    const repriced = priced.slice(0, 33) + '\x08' + priced.slice(34);
    expect(verifyIndicium(repriced, TEST_KEY)).to.include({ ok: false, code: 'BAD_MAC' });
    expect(verifyIndicium(bytes, Buffer.from(TEST_KEY, 'latin1').toString('hex')).code).to.equal('BAD_KEY'); // hex given where bytes are due
    const lookup = (device: number) => (device === 42 ? TEST_KEY : null);
    expect((await verifyIndiciumWith(bytes, lookup)).ok).to.equal(true);
    const other = makeIndicium({ ...FIELDS, device: 43 });
    expect(await verifyIndiciumWith(other, lookup)).to.include({ ok: false, code: 'UNKNOWN_DEVICE' });
    expect(await verifyIndiciumWith(other, async () => TEST_KEY)).to.include({ ok: true });
  });

  it('an image without a symbol is unreadable, not a crash', async () => {
    const blank = new PNG({ width: 120, height: 80 });
    blank.data.fill(255);
    const failure = async (image: Buffer) => {
      try {
        await readDataMatrix(image);
      } catch (e) {
        expect(e).to.be.instanceOf(UnreadableBarcode);
        return (e as Error).message;
      }
      throw new Error('read a symbol where there is none');
    };
    expect(await failure(PNG.sync.write(blank))).to.match(/no readable Data Matrix symbol in the 120x80 PNG image/);
    expect(await failure(Buffer.from('not a png'))).to.match(/not an image this reader knows/);
  });

  it('a test imprint prints TEST, NOT POSTAGE first, under a name of its own, and verifies as a test imprint with exit 4', async () => {
    const keyHex = Buffer.from(TEST_KEY, 'latin1').toString('hex');
    const bytes = makeIndicium({ ...FIELDS, postage: 0, piece: 0, test: true });
    expect(indiciumLines(parseIndicium(bytes))[0]).to.deep.equal(['TEST', 'NOT POSTAGE']);
    const other = makeIndicium({ ...FIELDS, postage: 0, piece: 0, test: true, customer: 1002 });
    const tdir = await preparePrintDir(join(dir, 'test-imprints'));
    const a = await printIndicium(bytes, tdir);
    const b = await printIndicium(other, tdir);
    expect(a.png).to.match(/PSD-42-TEST-[0-9a-f]{8}\.png$/);
    expect(a.png, 'two test imprints, two files').to.not.equal(b.png);
    const r = await runVerify(dir, [a.png, '--device-key', keyHex]);
    expect(r.code, r.stderr).to.equal(4);
    expect(r.stdout).to.match(/^authentic TEST IMPRINT of PSD-42, MAC verified: NOT POSTAGE/);
  });

  it('pss verify-indicium: exit 0 on the printed PNG, 1 with the reason on a tampered one and a bad hex, 3 on an unreadable one', async () => {
    expect(extraCommands.map((f) => f().name())).to.include('verify-indicium');
    const keyHex = Buffer.from(TEST_KEY, 'latin1').toString('hex');
    const bytes = makeIndicium({ ...FIELDS, piece: 601 });
    const good = await printIndicium(bytes, dir);
    const ok = await runVerify(dir, [good.png, '--device-key', keyHex, '--json']);
    expect(ok.code, ok.stderr).to.equal(0);
    const v = JSON.parse(ok.stdout);
    expect(v).to.include({ ok: true, source: 'png', date: '2025-11-24' });
    expect(v.fields).to.include({ device: 42, piece: 601, postage: 85, ascending: 51000, descending: 949000, category: 3, customer: 1001 });

    const human = await runVerify(dir, [good.png, '--device-key', keyHex]);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.match(/^authentic: indicium of PSD-42/);

    const tampered = bytes.slice(0, 31) + String.fromCharCode(bytes.charCodeAt(31) ^ 0xff) + bytes.slice(32); // customer
    const bad = await printIndicium(tampered, await preparePrintDir(join(dir, 'tampered')));
    const r = await runVerify(dir, [bad.png, '--device-key', keyHex]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/NOT AUTHENTIC: MAC does not match/);

    const blank = join(dir, 'blank.png');
    const img = new PNG({ width: 200, height: 200 });
    img.data.fill(255);
    writeFileSync(blank, PNG.sync.write(img));
    const u = await runVerify(dir, [blank, '--device-key', keyHex, '--json']);
    expect(u.code, 'unreadable, not a verdict').to.equal(3);
    expect(JSON.parse(u.stdout)).to.include({ ok: false, code: 'UNREADABLE' });

    const hex = Buffer.from(bytes, 'latin1').toString('hex');
    expect((await runVerify(dir, [hex, '--device-key', keyHex])).code).to.equal(0);
    const short = await runVerify(dir, [hex.slice(2), '--device-key', keyHex]);
    expect(short.code).to.equal(1);
    expect(short.stderr).to.match(/42 bytes \(40 in older layouts\), this is 41/);
    const noKey = await runVerify(dir, [hex]);
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.match(/--device-key/);
  });

  it('a --print directory that cannot be written fails up front; a failed print names the unprinted indicia', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    let err: any;
    await preparePrintDir(join(file, 'sub')).catch((e) => (err = e));
    expect(err?.message).to.match(/--print .*a-file\/sub: cannot write there/);
    const hex = Buffer.from(makeIndicium(FIELDS), 'latin1').toString('hex');
    err = undefined;
    await printIndicia([hex], join(file, 'sub')).catch((e) => (err = e));
    expect(err?.message).to.match(new RegExp(`failed after 0 of 1 indicia .* not printed: ${hex}`));
  });
});

describe('psd frank --print against the virtual board, then pss verify-indicium', function () {
  this.timeout(90000);
  let t: Target;
  let dir: string;
  const deviceKey = crypto.randomBytes(32).toString('hex');
  const kmsKey = crypto.randomBytes(32).toString('hex');
  const device = crypto.randomInt(1, 100000);
  const ok = async (args: string[]) => {
    const r = await runCli(['--port', t.port, ...args, '--json'], { timeoutMs: 60000 });
    expect(r.code, `psd ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return JSON.parse(r.stdout);
  };

  before(async function () {
    t = await startTarget();
    if (t.real) this.skip(); // provisions the device with random lab keys: virtual board only
    dir = mkdtempSync(join(tmpdir(), 'psd-print-e2e-'));
    await ok(['provision', '--device', String(device), '--device-key', deviceKey, '--kms-key', kmsKey]);
    await ok(['funds', '--amount', '1000000', '--kms-key', kmsKey]);
  });
  after(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a bad --print directory refuses before any piece is charged', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const before = await ok(['status']);
    const r = await runCli(['--port', t.port, 'frank', '--customer', '7', '--category', '2', '--weight', '20', '--postage', '85', '--print', join(file, 'x')]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/cannot write there/);
    expect((await ok(['status'])).registers).to.deep.equal(before.registers);
  });

  it('batch of 5 with --print: one PNG+SVG per piece; each reads back and verifies under the lab device key', async () => {
    await ok(['batch', 'start', '--customer', '1001', '--mode', 'batch', '--category', '3', '--weight', '45', '--postage', '85']);
    const out = join(dir, 'out');
    const f = await ok(['frank', '--count', '5', '--chunk', '2', '--print', out]);
    await ok(['batch', 'end']);
    expect(f.pieces).to.equal(5);
    expect(f.printed).to.have.length(5);
    const pieces = f.printed.map((p: any) => p.piece);
    expect(pieces).to.deep.equal([1, 2, 3, 4, 5]);
    for (const p of f.printed) {
      expect(p.png).to.equal(join(out, `PSD-${device}-${p.piece}.png`));
      expect(p.svg).to.equal(join(out, `PSD-${device}-${p.piece}.svg`));
    }
    expect(readdirSync(out)).to.have.length(10);
    const key = Buffer.from(deviceKey, 'hex').toString('latin1');
    const last = f.printed[4];
    const read = await readDataMatrix(readFileSync(last.png));
    expect(Buffer.from(read, 'latin1').toString('hex')).to.equal(f.indicia[4]);
    const check = verifyIndicium(read, key);
    expect(check.ok, check.reason).to.equal(true);
    expect(check.fields).to.include({ device, piece: 5, postage: 85, category: 3, customer: 1001, ascending: f.registers.ascending, descending: f.registers.descending });
    expect(formatDay(check.fields!.day)).to.equal(new Date().toISOString().slice(0, 10));
    expect(verifyIndicium(read, crypto.randomBytes(32).toString('latin1')).code).to.equal('BAD_MAC');

    const v = await runVerify(dir, [f.printed[0].png, '--device-key', deviceKey, '--json']);
    expect(v.code, v.stderr).to.equal(0);
    expect(JSON.parse(v.stdout).fields).to.include({ device, piece: 1, postage: 85 });
  });

  it('human output: one line per file written', async () => {
    const out = join(dir, 'single');
    const r = await runCli(['--port', t.port, 'frank', '--customer', '3003', '--category', '7', '--weight', '120', '--postage', '155', '--print', out], { timeoutMs: 60000 });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`wrote ${join(out, `PSD-${device}-6.png`)} (300 dpi: 26x26 modules of 0.508 mm, symbol 13.208 mm square, label `);
    expect(r.stdout).to.include(`wrote ${join(out, `PSD-${device}-6.svg`)} (mm: modules of 0.5 mm, symbol 13 mm square, label `);
    expect(r.stdout).to.match(/^amounts in EUR$/m);
    expect(r.stdout).to.not.match(/indicia:/); // hex only with --indicia
  });
});

describe('pss verify-indicium with the KMS of a data directory: --data, PSS_DATA, --db, as every pss command', function () {
  this.timeout(60000);
  let dir: string;
  let other: string;
  let device: number;
  let hexV0: string;
  let hexV1: string;
  const withoutPss = (e: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(e).filter(([k]) => !/^PSS_/.test(k)));
  const pss = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/pss.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...withoutPss(process.env), ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  before(async () => {
    const { openDataCenter } = await import('../server/datacenter.ts');
    dir = mkdtempSync(join(tmpdir(), 'pss-verify-kms-'));
    other = mkdtempSync(join(tmpdir(), 'pss-verify-other-'));
    const dc = await openDataCenter(join(dir, 'pss'));
    device = dc.kms.registerDevice('VERIFY-1', 'pico').device;
    hexV0 = Buffer.from(makeIndicium({ ...FIELDS, device }, dc.kms.deviceKey(device)), 'latin1').toString('hex');
    // rekeyed since: later indicia under key version 1, the earlier ones stay authentic
    dc.kms.rekeyDone(device, dc.kms.rekey(device).version);
    hexV1 = Buffer.from(makeIndicium({ ...FIELDS, device, piece: 601 }, dc.kms.deviceKey(device)), 'latin1').toString('hex');
    dc.close();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  });

  it('finds the device key through --data (on the command or on pss), PSS_DATA, or --db <pss.sqlite>, before and after a rekey', async () => {
    const data = join(dir, 'pss');
    for (const [args, env] of [
      [['verify-indicium', hexV0, '--data', data], {}],
      [['--data', data, 'verify-indicium', hexV1], {}],
      [['verify-indicium', hexV1], { PSS_DATA: data }],
      [['verify-indicium', hexV0, '--db', join(data, 'pss.sqlite')], {}],
      [['verify-indicium', hexV1, '--db', 'sqlite', '--data', data], {}]
    ] as [string[], NodeJS.ProcessEnv][]) {
      const r = await pss([...args, '--json'], env);
      expect(r.code, `pss ${args.join(' ')}: ${r.stderr}`).to.equal(0);
      expect(JSON.parse(r.stdout)).to.include({ ok: true });
    }
    // a device that data directory does not know, a folder with no registry, a --db that is neither
    const unknown = Buffer.from(makeIndicium({ ...FIELDS, device: device + 1 }), 'latin1').toString('hex');
    const u = await pss(['verify-indicium', unknown, '--data', data]);
    expect(u.code).to.equal(1);
    expect(u.stderr).to.match(/NOT AUTHENTIC: PSD-\d+ is not a device this data center knows/);
    const none = await pss(['verify-indicium', hexV0, '--data', other]);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.match(/kms-master\.key does not exist: --data \(or PSS_DATA\)/);
    const bad = await pss(['verify-indicium', hexV0, '--db', join(other, 'nothing.sqlite')]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/no such database file/);
  });
});
