// The native side of the virtual board's runtime (runtime.js calls these): serial and
// console, time and timers, pins and watches, Flash, Storage and require("crypto").
import { randomBytes, createHash, createCipheriv, createDecipheriv, pbkdf2Sync } from 'node:crypto';
import { crc32 as zcrc32 } from 'node:zlib';
import vm from 'node:vm';
import { FlashError, PowerCutError } from './flash.ts';
import { StorageError } from './storage.ts';
import type { MemoryModel } from './memory.ts';
import { BoardConsole } from './console.ts';
import { bin, bytes, moduleSource, plainSource, type BoardMemory, type Life, type Watch } from './state.ts';
import { topLevelEvals } from './transform.ts';

export abstract class BoardNatives extends BoardConsole {
  abstract powerCycle(): this;
  abstract memory(): BoardMemory;
  protected abstract memoryModel(l: Life): MemoryModel;

  // ------------------------------------------------------------------ the native side of the runtime

  protected makeNative(l: Life): object {
    const E = (msg: string) => new l.CtxError(msg);
    const check = () => {
      if (this.dead) throw E('Board has no power');
      if (l.abandoned || l.gen !== this.gen) throw E('Board was reset');
    };
    const wrap = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A): R => {
      check();
      return f(...a);
    };
    const flashCall = <R>(f: () => R): R => {
      try {
        return f();
      } catch (e) {
        if (e instanceof PowerCutError) {
          this.kill(l, e.message);
          throw E('Power cut: ' + e.message);
        }
        if (e instanceof FlashError) throw E(e.message);
        throw e;
      }
    };
    const storeCall = <R>(f: () => R): R => {
      try {
        return f();
      } catch (e) {
        if (e instanceof StorageError) throw E(e.message);
        throw e;
      }
    };
    const devOk = (d: string) => {
      if (!this.devices.includes(d)) throw E(`Unknown device ${d}`);
      return d;
    };
    const aesName = (key: Buffer, mode: string) => {
      if (![16, 24, 32].includes(key.length)) throw E('Invalid key length');
      return `aes-${key.length * 8}-${mode}`;
    };
    return {
      u8ToBin: (u: Uint8Array) => bin(u),
      out: wrap((dev: string, data: string) => this.out(l, devOk(dev), bytes(data))),
      consoleOut: wrap((s: string) => {
        this.removeInputLine(l);
        this.consoleWrite(l, s);
      }),
      inject: wrap((dev: string, s: string) => this.inject(devOk(dev), bytes(s))),
      setup: wrap((dev: string, _baud: number) => { devOk(dev); }),
      // jsiSetConsoleDevice: '-> new' on the old console, '<- old' on the new one
      setConsole: wrap((dev: string) => {
        const to = dev === '' ? this.defaultConsole() : dev === 'null' ? null : devOk(dev);
        if (to === l.console) return;
        const tell = l.echo && this.chrome();
        if (l.echo) this.removeInputLine(l);
        if (tell) this.consoleWrite(l, `-> ${to ?? 'null'}\r\n`);
        const from = l.console;
        l.console = to;
        if (tell) this.consoleWrite(l, `<- ${from ?? 'null'}\r\n`);
      }),
      getConsole: wrap(() => l.console ?? ''),
      echo: wrap((on: number) => { l.echo = !!on; }),
      getTime: wrap(() => this.uptime(l) + l.offset),
      setTime: wrap((t: number) => { l.offset = t - this.uptime(l); }),
      timerAdd: wrap((ms: number, interval: number) => {
        const id = l.nextTimer++;
        const sec = Math.max(0, ms) / 1000;
        l.timers.set(id, { due: this.uptime(l) + sec, interval: interval ? Math.max(sec, 0.001) : 0 });
        this.schedule(l);
        return id;
      }),
      timerClear: wrap((id: number) => {
        if (id === -1) l.timers.clear();
        else l.timers.delete(id);
        this.schedule(l);
      }),
      timerChange: wrap((id: number, ms: number) => {
        const t = l.timers.get(id);
        if (!t) throw E('Unknown Interval');
        const sec = Math.max(0.001, ms / 1000);
        t.interval = t.interval ? sec : 0;
        t.due = this.uptime(l) + sec;
        this.schedule(l);
      }),
      hwRand: wrap(() => randomBytes(4).readInt32LE(0)),
      crc32: wrap((s: string) => zcrc32(bytes(s)) >>> 0),
      errorFlags: wrap(() => {
        const s = [...l.errorFlags].join(',');
        l.errorFlags.clear();
        return s;
      }),
      getSerial: wrap(() => this.serialNumber()),
      btoa: wrap((s: string) => bytes(s).toString('base64')),
      atob: wrap((s: string) => Buffer.from(s, 'base64').toString('latin1')),
      memory: wrap(() => JSON.stringify(this.memory())),
      sizeOf: wrap((v: unknown) => this.memoryModel(l).sizeOf(v)),
      reboot: wrap(() => {
        l.abandoned = true;
        setImmediate(() => {
          if (this.gen === l.gen && !this.dead) {
            this.emit('reboot');
            this.powerCycle();
          }
        });
        throw E('Rebooting');
      }),
      // pins
      pinRead: wrap((p: string) => l.levels.get(p) ?? 0),
      pinWrite: wrap((p: string, v: number) => {
        l.levels.set(p, v ? 1 : 0);
        this.emit('pin', p, v ? 1 : 0);
      }),
      pinMode: wrap((p: string, m: string) => {
        l.modes.set(p, m);
        if (m === 'input_pullup' && !l.levels.has(p)) l.levels.set(p, 1);
      }),
      pinGetMode: wrap((p: string) => l.modes.get(p) ?? 'input'),
      watchAdd: wrap((p: string, edge: Watch['edge'], repeat: number, debounce: number) => {
        const id = l.nextWatch++;
        l.watches.set(id, { pin: p, edge, repeat: !!repeat, debounce, lastTime: this.getTime() });
        return id;
      }),
      watchClear: wrap((id: number) => {
        if (id === -1) l.watches.clear();
        else l.watches.delete(id);
      }),
      // Flash: the data region, and the code area on boards that have one
      flashGetPage: wrap((addr: number) => {
        const p = this.codeArea?.covers(addr) ? this.codeArea.getPage(addr) : this.flash.getPage(addr);
        return p ? JSON.stringify(p) : '';
      }),
      flashGetFree: wrap(() => JSON.stringify([...this.flash.getFree(), ...(this.codeArea ? [{ addr: this.codeArea.geo.addr, length: this.codeArea.geo.bytes }] : [])])),
      flashRead: wrap((len: number, addr: number) => flashCall(() => bin(this.codeArea?.covers(addr) ? this.codeArea.read(len, addr) : this.flash.read(len, addr)))),
      flashWrite: wrap((data: string, addr: number) => flashCall(() => (this.codeArea?.covers(addr) ? this.codeArea.write(bytes(data), addr) : this.flash.write(bytes(data), addr)))),
      flashErase: wrap((addr: number) => flashCall(() => (this.codeArea?.covers(addr) ? this.codeArea.erasePage(addr) : this.flash.erasePage(addr)))),
      // E.memoryArea over flash: the bytes as a string (Espruino reads them in place)
      memoryArea: wrap((addr: number, len: number) => flashCall(() => bin(this.codeArea?.covers(addr) ? this.codeArea.read(len, addr) : this.flash.read(len, addr)))),
      // whether code is exactly an image module's (Modules.addCached then runs that module's
      // registered function, which the memory model knows by its place in the boot source)
      isImageModule: wrap((name: string, code: string) => Object.prototype.hasOwnProperty.call(this.modules, name) && (this.modules[name] === code || this.storedModules[name] === code)),
      // Storage
      stWrite: wrap((name: string, data: string, offset: number, size: number) =>
        storeCall(() => this.storage.write(name, bytes(data), offset, size))),
      // jspEvaluateModule: a Storage file run in a scope of its own with exports and module
      plainSource: wrap((code: string) => plainSource(code)),
      scriptSource: wrap((code: string) => topLevelEvals(plainSource(code), '\u0275vbEval')),
      evalModule: wrap((name: string, code: string) => new vm.Script(moduleSource(code), { filename: name }).runInContext(l.ctx) as (e: object, m: object) => void),
      stRead: wrap((name: string, offset: number, length: number) => {
        const b = this.storage.read(name, offset, length);
        return b ? bin(b) : null;
      }),
      stErase: wrap((name: string) => this.storage.erase(name)),
      stEraseAll: wrap(() => this.storage.eraseAll()),
      stList: wrap(() => JSON.stringify(this.storage.list())),
      stFree: wrap(() => this.storage.free()),
      stStats: wrap(() => JSON.stringify(this.storage.stats())),
      // crypto (only reachable through require("crypto") members the board has)
      sha: wrap((alg: string, s: string) => createHash(alg.toLowerCase()).update(bytes(s)).digest().toString('latin1')),
      pbkdf2: wrap((pass: string, salt: string, keyBytes: number, iter: number, hasher: string) => {
        if (!['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'].includes(hasher)) throw E(`Unknown Hasher "${hasher}"`);
        return pbkdf2Sync(bytes(pass), bytes(salt), iter, keyBytes, hasher.toLowerCase()).toString('latin1');
      }),
      // jswrap_crypto_AEScrypt: mbedtls errors are printed (`ERROR: ...`) and give undefined;
      // returned here as '\u0100' + the message. CTR starts from a zero counter (the iv is not
      // used), OFB is not built in.
      aes: wrap((enc: number, msg: string, keyS: string, ivS: string, mode: string) => {
        const key = bytes(keyS);
        const iv = Buffer.alloc(16);
        bytes(ivS).copy(iv, 0, 0, 16);
        const m = bytes(msg);
        if (!['CBC', 'CFB', 'CTR', 'OFB', 'ECB'].includes(mode)) throw E(`Unknown Crypto mode "${mode}"`);
        if (![16, 24, 32].includes(key.length)) return '\u0100Unknown error: -0x20';
        if (mode === 'OFB') return '\u0100Feature unavailable';
        const mk = (name: string, withIv: boolean, ivOf: Buffer = iv) => {
          const c = enc ? createCipheriv(name, key, withIv ? ivOf : null) : createDecipheriv(name, key, withIv ? ivOf : null);
          c.setAutoPadding(false);
          return c;
        };
        let out: Buffer;
        switch (mode) {
          case 'CBC': {
            if (m.length % 16) return '\u0100Invalid input length';
            const c = mk(aesName(key, 'cbc'), true);
            out = Buffer.concat([c.update(m), c.final()]);
            break;
          }
          case 'ECB': {
            out = Buffer.alloc(m.length);
            const full = m.length - (m.length % 16);
            const c = mk(aesName(key, 'ecb'), false);
            Buffer.concat([c.update(m.subarray(0, full)), c.final()]).copy(out);
            break;
          }
          case 'CFB':
          case 'CTR': {
            const c = mk(aesName(key, mode === 'CFB' ? 'cfb8' : 'ctr'), true, mode === 'CTR' ? Buffer.alloc(16) : iv);
            out = Buffer.concat([c.update(m), c.final()]);
            break;
          }
          default:
            throw E(`Unknown Crypto mode "${mode}"`);
        }
        return out.toString('latin1');
      }),
      ccm: wrap((enc: number, msg: string, keyS: string, ivS: string, tagLen: number, tagS: string) => {
        const key = bytes(keyS);
        const name = aesName(key, 'ccm') as 'aes-128-ccm';
        const tag = bytes(tagS);
        try {
          if (enc) {
            const c = createCipheriv(name, key, bytes(ivS), { authTagLength: tagLen });
            const data = Buffer.concat([c.update(bytes(msg)), c.final()]);
            return JSON.stringify({ data: data.toString('base64'), tag: c.getAuthTag().toString('base64') });
          }
          const d = createDecipheriv(name, key, bytes(ivS), { authTagLength: tag.length });
          d.setAuthTag(tag);
          const data = Buffer.concat([d.update(bytes(msg)), d.final()]);
          return JSON.stringify({ data: data.toString('base64') });
        } catch (e) {
          throw E(`AES-CCM: ${(e as Error).message}`);
        }
      })
    };
  }
}
