import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEspruino } from '../kit/real/binary.ts';
import { loadBoards, getBoard, BOARD_IDS, NATIVE_CRYPTO_NAMES } from '../board-defs/index.ts';

const PORTS = ['USB', 'Serial1', 'Bluetooth'];
const CONSOLES = ['USB', 'Serial1', 'Bluetooth', 'Terminal', 'stdio'];

describe('board-defs', () => {
  const boards = loadBoards();

  it('loads all 10 boards', () => {
    expect(boards.map((b) => b.id)).to.have.members(['pico', 'wifi', 'original', 'puckjs', 'puckjs-lab', 'mdbt42q', 'mdbt42q-lab', 'banglejs2', 'esp32', 'linux']);
    expect(boards).to.have.length(10);
    const files = readdirSync(new URL('../board-defs/', import.meta.url)).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
    expect(files).to.have.members([...BOARD_IDS]);
  });

  it('has unique ids and Espruino board names', () => {
    expect(new Set(boards.map((b) => b.id)).size).to.equal(boards.length);
    // a lab firmware keeps its board's BOARD (process.env.BOARD, which the flasher checks) and
    // differs from the standard firmware by its Storage
    expect(new Set(boards.map((b) => `${b.espruinoBoard} ${b.storageBytes}`)).size).to.equal(boards.length);
  });

  it('lab firmware boards: the standard board with a larger Storage whose last pages hold the statistics', () => {
    for (const [lab, std] of [['puckjs-lab', 'puckjs'], ['mdbt42q-lab', 'mdbt42q']]) {
      const l = getBoard(lab);
      const s = getBoard(std);
      expect(l.espruinoBoard, lab).to.equal(s.espruinoBoard);
      expect(l.storageBytes!, lab).to.be.greaterThan(s.storageBytes!);
      expect(l.storageBytes! % l.flash.pageBytes, lab).to.equal(0);
      // Storage ends below the BLE peer-manager pages 118-119 (0x76000), as on the standard layout
      const end = 118 * 4096;
      expect(l.flash.inStorage, lab).to.equal(true);
      expect(l.flash.dataStart + l.flash.dataPages * l.flash.pageBytes, lab).to.equal(end);
      expect(l.image.budgetBytes + l.flash.dataPages * l.flash.pageBytes, lab).to.be.at.most(l.storageBytes!);
      expect(l.sources.join(' '), lab).to.contain(`board-defs/espruino/${l.espruinoBoard}_PSDLAB.diff`);
    }
  });

  for (const b of loadBoards()) {
    describe(b.id, () => {
      it('has every required field with the right type', () => {
        for (const k of ['id', 'name', 'espruinoBoard', 'mcu', 'notes']) expect(b[k as keyof typeof b], k).to.be.a('string').and.not.equal('');
        for (const k of ['clockMHz', 'variables', 'ramKB', 'flashKB']) {
          const v = b[k as keyof typeof b] as number;
          expect(v, k).to.be.a('number');
          expect(Number.isInteger(v) && v >= 0, k).to.equal(true);
        }
        expect(b.variables).to.be.greaterThan(0);
        expect(b.flashKB).to.be.greaterThan(0);
        expect(b.image.budgetBytes).to.be.a('number').and.greaterThan(0);
        for (const k of ['dataStart', 'pageBytes', 'dataPages', 'writeAlignBytes', 'eraseCycles'] as const) {
          expect(Number.isInteger(b.flash[k]), `flash.${k}`).to.equal(true);
          expect(b.flash[k], `flash.${k}`).to.be.at.least(0);
        }
        expect(b.flash.writeAlignBytes).to.equal(4);
        expect(b.flash.eraseCycles).to.be.greaterThan(0);
        expect(PORTS).to.include(b.dataPort);
        expect(CONSOLES).to.include(b.consoleDefault);
        expect(b.serial.baud).to.be.a('number').and.greaterThan(0);
        for (const p of [b.serial.rx, b.serial.tx]) expect(p === null || typeof p === 'string').to.equal(true);
        expect(b.nativeCrypto).to.be.an('array');
        expect(['hmac', 'ed25519']).to.include(b.seal);
        if (b.tamper !== null) {
          expect(b.tamper.pin).to.be.a('string');
          expect([0, 1]).to.include(b.tamper.activeLevel);
        }
        expect(b.leds).to.be.an('array');
        b.leds.forEach((l) => expect(l).to.match(/^LED\d$/));
        expect(b.sources).to.be.an('array').that.is.not.empty;
        b.sources.forEach((s) => expect(s).to.be.a('string'));
      });

      it('has a statistics region of at least 16 KB, page aligned', () => {
        expect(b.flash.dataPages * b.flash.pageBytes).to.be.at.least(16384);
        expect(b.flash.pageBytes & (b.flash.pageBytes - 1), 'power of two').to.equal(0);
        expect(b.flash.dataStart % b.flash.pageBytes).to.equal(0);
      });

      if (b.codeArea) {
        const area = b.codeArea;
        it('has a code area in whole erase pages, clear of the statistics, with its source', () => {
          expect(area.bytes % area.pageBytes).to.equal(0);
          expect(area.addr % area.pageBytes).to.equal(0);
          const stats = [b.flash.dataStart, b.flash.dataStart + b.flash.dataPages * b.flash.pageBytes];
          expect(area.addr >= stats[1] || area.addr + area.bytes <= stats[0], 'no overlap with the statistics').to.equal(true);
          expect(area.source).to.contain('Flash.getFree()');
          expect(b.notes, 'the notes say the flash is outside the datasheet').to.match(/outside/i);
        });
      }

      it('lists only known native crypto names', () => {
        expect([...NATIVE_CRYPTO_NAMES]).to.include.members(b.nativeCrypto);
      });

      it('seals with ed25519 only where variables >= 12000', () => {
        if (b.seal === 'ed25519') expect(b.variables).to.be.at.least(12000);
        if (b.variables < 12000) expect(b.seal).to.equal('hmac');
      });

      it('uses Serial1 pins only when the data port is a wire', () => {
        if (b.dataPort === 'Bluetooth') expect(b.serial.rx).to.equal(null);
      });
    });
  }

  it('matches the measured board table', () => {
    expect(getBoard('pico')).to.deep.include({ variables: 5100, ramKB: 96, flashKB: 384, espruinoBoard: 'PICO_R1_3', nativeCrypto: ['SHA256', 'AES'] });
    expect(getBoard('original').nativeCrypto).to.deep.equal(['SHA1']);
    expect(getBoard('mdbt42q').nativeCrypto).to.deep.equal(['SHA256']);
    expect(getBoard('puckjs-lab').nativeCrypto).to.deep.equal(['SHA256', 'AES']);
    expect(getBoard('mdbt42q-lab').nativeCrypto).to.deep.equal(['SHA256', 'AES']);
    expect(getBoard('banglejs2').nativeCrypto).to.deep.equal(['SHA256', 'SHA512', 'AES-CCM']);
    expect(getBoard('linux')).to.deep.include({ flashKB: 256, consoleDefault: 'stdio' });
    // what the Linux build reports: 1 KB pages of a 256 KB file at 0x10000000; statistics at its end
    const f = getBoard('linux').flash;
    expect(f.pageBytes).to.equal(1024);
    expect(f.dataStart + f.dataPages * f.pageBytes).to.equal(0x10000000 + 256 * 1024);
  });

  (findEspruino() ? it : it.skip)('the linux board\'s flash is what the real interpreter reports (Flash.getFree, Flash.getPage of every page)', function () {
    this.timeout(20000);
    const f = getBoard('linux').flash;
    const dir = mkdtempSync(join(tmpdir(), 'psd-boarddef-'));
    try {
      const probe = `var F=require("Flash"),p=[];for(var a=${f.dataStart};a<${f.dataStart + f.dataPages * f.pageBytes};a+=${f.pageBytes})p.push(F.getPage(a));print("FACTS"+JSON.stringify({free:F.getFree(),pages:p}));`;
      const r = spawnSync(findEspruino()!, ['-e', probe], { cwd: dir, encoding: 'latin1', timeout: 15000, stdio: ['ignore', 'pipe', 'pipe'] });
      const facts = JSON.parse(r.stdout.slice(r.stdout.indexOf('FACTS') + 5).split('\n')[0]);
      expect(facts.free.some((a: any) => f.dataStart >= a.addr && f.dataStart + f.dataPages * f.pageBytes <= a.addr + a.length), JSON.stringify(facts.free)).to.equal(true);
      expect(facts.pages).to.have.length(f.dataPages);
      facts.pages.forEach((p: any, i: number) => expect(p).to.deep.equal({ addr: f.dataStart + i * f.pageBytes, length: f.pageBytes }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('getBoard returns a board and throws listing the valid ids for an unknown one', () => {
    expect(getBoard('wifi').name).to.equal('Espruino WiFi');
    expect(() => getBoard('nope')).to.throw(Error, /nope.*pico, wifi, original, puckjs, puckjs-lab, mdbt42q, mdbt42q-lab, banglejs2, esp32, linux/);
  });

  it('returns copies', () => {
    const a = getBoard('pico');
    a.flash.dataStart = 0;
    expect(getBoard('pico').flash.dataStart).to.equal(0x08008000);
  });
});
