// `psd flash` against a stand-in Espruino on a pseudo-terminal (testkit/standin-repl.ts): the
// real CLI drives EspruinoTools against the stand-in's REPL, the stand-in keeps what was written
// to its Storage and, after load(), runs it in the virtual board, so STATUS is read back for real.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBoard } from '../board-defs/index.ts';
import { openLink } from '../host-bridge/link.ts';
import { PsdClient } from '../host-bridge/client.ts';
import { Command } from '../protocol/commands.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { startStandin, type Standin } from '../testkit/standin-repl.ts';
import { readImage, ImageError } from '../kit/flash/image.ts';
import { modulesFile } from '../tools/build.ts';
import { imageFiles, imageHash, storageBytes } from '../kit/flash/image.ts';
import { runCli, hasSocat, ptyPair, imagePath, imageBuildHash } from '../testkit/target.ts';

// the Espruino WiFi: its image fits its Storage (a single 64 KB sector; the statistics are in
// the three free 16 KB sectors); the Pico's does not (see the last test)
const pico = getBoard('wifi');

/** Copies of the built images, so a rebuild while the tests run cannot change them underneath. */
const images: { [board: string]: string } = {};
function imageFile(board: string): string {
  if (!images[board]) {
    const dir = mkdtempSync(join(tmpdir(), 'psd-flash-images-'));
    images[board] = join(dir, board + '.js');
    writeFileSync(images[board], readFileSync(imagePath(board)));
    writeFileSync(modulesFile(images[board]), readFileSync(modulesFile(imagePath(board))));
  }
  return images[board];
}

/** --image <copy>, plus --over-budget while the image is bigger than the board's budget (the
 * flasher refuses it otherwise, which has its own test below). */
function imageArgs(board: string): string[] {
  const f = imageFile(board);
  return ['--image', f, ...(storageBytes(readImage(f).storageFiles.map((x) => x.code)) > getBoard(board).image.budgetBytes ? ['--over-budget'] : [])];
}

after(() => {
  for (const f of Object.values(images)) rmSync(join(f, '..'), { recursive: true, force: true });
});

function jsonError(stderr: string): { code: number; message: string; hint?: string } {
  const line = stderr.trim().split('\n').pop() ?? '';
  return JSON.parse(line).error;
}

async function statusOver(port: string): Promise<any> {
  const client = new PsdClient(await openLink(port), { timeoutMs: 2000, retries: 2 });
  try {
    return await client.request(Command.STATUS);
  } finally {
    await client.close();
  }
}

describe('psd flash: firmware images onto an Espruino board (stand-in on a pty)', function () {
  this.timeout(120000);
  const dirs: string[] = [];
  const standins: Standin[] = [];

  async function standin(): Promise<Standin> {
    const dir = mkdtempSync(join(tmpdir(), 'psd-flash-test-'));
    dirs.push(dir);
    const s = await startStandin({ board: pico, dir });
    standins.push(s);
    return s;
  }

  before(function () {
    if (!hasSocat()) this.skip(); // the stand-in is offered on a pty (socat)
  });

  after(async () => {
    for (const s of standins) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  describe('the wifi image onto a fresh board', () => {
    let s: Standin;
    let report: any;
    let image: string;

    before(async () => {
      image = imageFile('wifi');
      s = await standin();
      const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'wifi', ...imageArgs('wifi')], { timeoutMs: 110000 });
      expect(r.code, r.stderr).to.equal(0);
      report = JSON.parse(r.stdout);
    });

    it('stores the image byte for byte as .bootcde and restarts the board into it', () => {
      expect(s.bootCode()).to.equal(readFileSync(image, 'latin1'));
      expect(s.storageFiles().sort()).to.deep.equal(readImage(image).files.map((f) => f.name).sort());
      expect(s.boots(), 'reset() before erasing, load() after verifying').to.be.at.least(3);
      expect(report.upload.bytes).to.equal(readFileSync(image).length);
      expect(report.erased).to.deep.equal({ dataRegionHadData: false, storageFiles: [] });
      expect(report.espruino).to.deep.equal({ board: 'ESPRUINOWIFI', version: '2v29' });
    });

    it('STATUS through the protocol reports the image build hash, and the report says so', async () => {
      const h = imageBuildHash(image);
      const st = await statusOver(s.ptyPath);
      expect(st.buildHash).to.equal(h);
      expect(st.board).to.equal('wifi');
      expect(report.readBack).to.include({ buildHash: h, board: 'wifi', matches: true });
      expect(report.image.buildHash).to.equal(h);
      expect(report.alreadyRunning).to.equal(false);
      expect(report.next, 'the README\'s lab flow: provisioned by the data center').to.equal(`psd --port ${s.ptyPath} provision --kms <pss host:port>`);
    });

    it('the REPL is gone from the data port: what was sent as code is not evaluated', async () => {
      const link = await openLink(s.ptyPath);
      let heard = '';
      link.onData((b) => (heard += b.toString('latin1')));
      link.write(Buffer.from('\r\nprint(6*7)\r\n'));
      await new Promise((r) => setTimeout(r, 500));
      await link.close();
      expect(heard).not.to.contain('42\r\n');
      expect(heard).not.to.contain('=undefined');
    });

    it('flashing the same build again finds it running and writes nothing (exit 0)', async () => {
      const boots = s.boots();
      const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'wifi', ...imageArgs('wifi')], { timeoutMs: 60000 });
      expect(r.code, r.stderr).to.equal(0);
      const again = JSON.parse(r.stdout);
      expect(again.alreadyRunning).to.equal(true);
      expect(again.upload).to.equal(null);
      expect(again.readBack.buildHash).to.equal(imageBuildHash(image));
      expect(s.boots()).to.equal(boots);
    });

    it('another build onto a board that runs PSD firmware is refused: its REPL is off the port', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'psd-flash-img-'));
      dirs.push(dir);
      // the same image with another build hash: the build's hash rule, recomputed for one changed byte
      const src = readFileSync(image, 'latin1');
      const h = imageBuildHash(image);
      // another build: the same files with another firmware version of the same length (the
      // files are pretokenised: a string is its length and its bytes), hashed as the build hashes
      const version = readImage(image).firmwareVersion!;
      const files = new Map([...imageFiles(image)].map(([n, c]) => [n, c.split(h).join('@@BUILD_HASH@@').replace(version, version.replace(/\d/, (d) => String((+d + 1) % 10)))]));
      const h2 = imageHash(files);
      const other = new Map([...files].map(([n, c]) => [n, c.split('@@BUILD_HASH@@').join(h2)]));
      writeFileSync(join(dir, 'other.js'), other.get('boot')!, 'latin1');
      writeFileSync(modulesFile(join(dir, 'other.js')), JSON.stringify(Object.fromEntries([...other].filter(([n]) => n !== 'boot'))));
      const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'wifi', '--image', join(dir, 'other.js'), '--over-budget'], { timeoutMs: 60000 });
      expect(r.code).to.equal(1);
      const e = jsonError(r.stderr);
      expect(e.code).to.equal(ErrorCode.WRONG_DEVICE);
      expect(e.message).to.contain(`build ${h}`).and.contain('cannot be flashed over it');
      expect(e.hint).to.contain('without running its saved code');
      expect(s.bootCode()).to.equal(src);
    });
  });

  it('a board that is not the image\'s is refused with a non-zero exit, and nothing is written', async () => {
    const s = await standin();
    const flashBefore = readFileSync(join(dirs[dirs.length - 1], 'flash.bin'));
    const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'pico', ...imageArgs('pico')], { timeoutMs: 60000 });
    expect(r.code).to.equal(1);
    const e = jsonError(r.stderr);
    expect(e.code).to.equal(ErrorCode.WRONG_DEVICE);
    expect(e.message).to.contain('PICO_R1_3').and.contain('ESPRUINOWIFI').and.contain('nothing written');
    expect(s.storageFiles()).to.deep.equal([]);
    expect(s.bootCode()).to.equal(undefined);
    expect(s.boots(), 'not even reset').to.equal(1);
    expect(readFileSync(join(dirs[dirs.length - 1], 'flash.bin')).equals(flashBefore)).to.equal(true);
  });

  it('a PSD data region that holds data is refused without --erase-data, and erased with it', async () => {
    const s = await standin();
    s.vb.evaluate(`require("Flash").write(new Uint8Array([1,2,3,4]), ${pico.flash.dataStart})`);
    const refused = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'wifi', ...imageArgs('wifi')], { timeoutMs: 60000 });
    expect(refused.code).to.equal(1);
    const e = jsonError(refused.stderr);
    expect(e.code).to.equal(ErrorCode.BAD_ARGUMENT);
    expect(e.message).to.contain('holds data').and.contain('nothing written');
    expect(e.hint).to.contain('--erase-data');
    expect(s.bootCode()).to.equal(undefined);
    expect(Array.from(s.vb.evaluate(`require("Flash").read(4, ${pico.flash.dataStart})`) as Uint8Array)).to.deep.equal([1, 2, 3, 4]);

    const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'wifi', '--erase-data', ...imageArgs('wifi')], { timeoutMs: 110000 });
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report.erased.dataRegionHadData).to.equal(true);
    expect(report.readBack.buildHash).to.equal(imageBuildHash(imageFile('wifi')));
    // the firmware booted on an erased region: a fresh, unprovisioned device
    expect(report.readBack.deviceId).to.match(/^unprovisioned-/);
  });

  it('a port that does not exist gives a clear error and a non-zero exit', async () => {
    const r = await runCli(['--port', '/dev/does-not-exist-psd', 'flash', '--board', 'wifi'], { timeoutMs: 30000 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain(`psd: error ${ErrorCode.NO_DEVICE}: no device at this port: /dev/does-not-exist-psd does not exist`);
    expect(r.stderr).to.contain('psd ports');
  });

  it('an --image that is not there is named, with no advice to build or to give --image', async () => {
    const pair = await ptyPair();
    try {
      const missing = join(tmpdir(), `psd-no-such-image-${process.pid}.js`);
      const r = await runCli(['--port', pair.a, '--json', 'flash', '--board', 'wifi', '--image', missing], { timeoutMs: 30000 });
      expect(r.code).to.equal(1);
      const e = JSON.parse(r.stdout).error;
      expect(e).to.include({ code: ErrorCode.BAD_ARGUMENT, message: `${missing} does not exist`, hint: 'check --image' });
    } finally {
      pair.close();
    }
  });

  it('a port where neither a REPL nor a PSD answers gives a clear error and a non-zero exit', async () => {
    const pair = await ptyPair();
    try {
      const r = await runCli(['--port', pair.a, '--json', 'flash', '--board', 'wifi', ...imageArgs('wifi')], { timeoutMs: 30000 });
      expect(r.code).to.equal(1);
      const e = jsonError(r.stderr);
      expect(e.code).to.equal(ErrorCode.NO_ANSWER);
      expect(e.message).to.contain('no Espruino REPL answered').and.contain('no PSD answered STATUS');
    } finally {
      await pair.close();
    }
  });

  it('an image over the board\'s budget, or built for another board, is refused before the board is touched', async () => {
    const s = await standin();
    const over = storageBytes(readImage(imageFile('wifi')).storageFiles.map((f) => f.code)) > pico.image.budgetBytes;
    if (over) {
      const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'wifi', '--image', imageFile('wifi')], { timeoutMs: 30000 });
      expect(r.code).to.equal(1);
      expect(jsonError(r.stderr).message).to.contain(`over the ${pico.name}'s image budget of ${pico.image.budgetBytes} bytes`);
    }
    const r2 = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'wifi', '--image', imageFile('pico'), '--over-budget'], { timeoutMs: 30000 });
    expect(r2.code).to.equal(1);
    expect(jsonError(r2.stderr).message).to.contain('was built for board "pico", not "wifi"');
    expect(s.boots()).to.equal(1);
    expect(s.storageFiles()).to.deep.equal([]);
  });
});

describe('psd flash: an image bigger than the board\'s Storage', () => {
  it('is refused before anything on the board changes (the Puck.js image on a stand-in with the Puck.js\'s 40 KB of Storage)', async function () {
    if (!hasSocat()) this.skip();
    this.timeout(60000);
    const puck = getBoard('puckjs');
    const need = storageBytes(readImage(imageFile('puckjs')).storageFiles.map((f) => f.code));
    // the Puck.js has no code area: every file of its image is a Storage file
    expect(need, 'the Puck.js image now fits its Storage: test another board here').to.be.greaterThan(puck.storageBytes!);
    const dir = mkdtempSync(join(tmpdir(), 'psd-flash-test-'));
    // its REPL on the wired serial port the flasher uses (the Puck.js's console is Bluetooth)
    const s = await startStandin({ board: { ...puck, consoleDefault: puck.dataPort }, dir });
    try {
      s.vb.evaluate(`require("Flash").write(new Uint8Array([1,2,3,4]), ${puck.flash.dataStart})`);
      const r = await runCli(['--port', s.ptyPath, '--json', 'flash', '--board', 'puckjs', '--erase-data', '--over-budget', '--image', imageFile('puckjs')], { timeoutMs: 30000 });
      expect(r.code).to.equal(1);
      expect(jsonError(r.stderr).message).to.contain(`need ${need} bytes`).and.contain(`holds ${puck.storageBytes} in all: nothing written`);
      expect(s.boots(), 'not even reset').to.equal(1);
      expect(Array.from(s.vb.evaluate(`require("Flash").read(4, ${puck.flash.dataStart})`) as Uint8Array)).to.deep.equal([1, 2, 3, 4]);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('flash image reading', () => {
  it('finds the build hash the build embedded, and the board and version of the build info', () => {
    const img = readImage(imageFile('wifi'));
    expect(img.buildHash).to.equal(imageBuildHash(imageFile('wifi')));
    expect(img.board).to.equal('wifi');
    expect(img.firmwareVersion).to.equal(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });

  it('refuses an image edited after the build, and a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'psd-flash-img-'));
    try {
      const f = join(dir, 'edited.js');
      // the build info is in the resident core, one of the image's Storage modules
      const version = readImage(imageFile('wifi')).firmwareVersion!;
      writeFileSync(f, readFileSync(imageFile('wifi')));
      writeFileSync(modulesFile(f), readFileSync(modulesFile(imageFile('wifi')), 'utf8').replace(version, version.replace(/\d/, (d) => String((+d + 1) % 10))));
      expect(() => readImage(f)).to.throw(ImageError, 'no valid build hash');
      expect(() => readImage(join(dir, 'missing.js'))).to.throw(ImageError, 'npm run build');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
