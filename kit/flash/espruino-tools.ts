/**
 * A promise-shaped session over EspruinoTools (the `espruino` npm package), the code Espruino's
 * own IDE and CLI use to talk to a board's REPL. We use its pieces rather than its
 * sendFile()/sendCode(), because the flasher must look at the board (process.env, its flash)
 * between connecting and writing, and verify before it restarts the board.
 *
 * EspruinoTools is written for a browser page: it loads itself into globals (`Espruino`, `$`,
 * `require`, es6-shim) and logs everything with console.log. So it is loaded only when a flash
 * starts, one session per process, with the console captured for that session.
 */
import { createRequire } from 'node:module';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const require = createRequire(import.meta.url);

/** EspruinoTools' global, as far as we use it (it has no type declarations in its package). */
interface EspruinoGlobal {
  Config: Record<string, unknown>;
  Core: {
    Serial: {
      devices: { name: string; getPorts(cb: (ports: { path: string; description?: string }[], instant?: boolean) => void): void }[];
      open(port: string, onOpen: (status: unknown) => void, onClose: () => void): void;
      close(): void;
      write(data: string, showStatus?: boolean, callback?: () => void): void;
      isConnected(): boolean;
      connection: {
        writeLowLevel(data: string): Promise<void>;
        write(data: string): Promise<void>;
        on(evt: 'data', cb: (d: string) => void): void;
        removeListener(evt: 'data', cb: (d: string) => void): void;
      };
    };
    Env: { getData(): Record<string, unknown> };
    Utils: {
      executeExpression(expr: string, cb: (result: string | undefined) => void, opts?: { minTimeout?: number; maxTimeout?: number }): void;
    };
    CodeWriter: { writeToEspruino(code: string, cb: () => void): void };
    Status: { setStatus(s: string, total?: number): void; incrementProgress(n: number): void; hasProgress(): boolean };
  };
  callProcessor(event: string, data: unknown, cb: (result: any) => void): void;
}

export interface SessionOptions {
  baud: number;
  /** every line EspruinoTools logs (default: kept in `log` only) */
  onLog?: (line: string) => void;
}

export interface UploadProgress {
  sent: number;
  total: number;
}

export interface EspruinoSession {
  /** process.env of the board, as EspruinoTools read it on connect ({} when nothing answered) */
  env: Record<string, unknown>;
  /** what EspruinoTools logged during the session */
  log: string[];
  /** evaluates `expr` on the board and parses the JSON it prints; undefined when no answer */
  evaluate<T>(expr: string, timeoutSeconds?: number): Promise<T | undefined>;
  /** sends a statement that needs no answer (e.g. reset(), load()) */
  send(statement: string, settleMs?: number): Promise<void>;
  /** writes `code` to Storage file `.bootcde` the way the IDE's "Save on Send: Direct to Flash"
   * does; resolves with the errors the REPL printed meanwhile (`Uncaught ...` lines) */
  saveToFlash(code: string, onProgress?: (p: UploadProgress) => void): Promise<string[]>;
  close(): Promise<void>;
}

let used = false;

/** Captures console output for the session: EspruinoTools reports everything through it. */
function captureConsole(log: string[], onLog?: (line: string) => void): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  const sink = (...args: unknown[]) => {
    const line = args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : safeJson(a))).join(' ');
    log.push(line);
    if (log.length > 2000) log.splice(0, log.length - 2000);
    onLog?.(line);
  };
  console.log = console.info = console.warn = console.error = console.debug = sink;
  return () => Object.assign(console, saved);
}

function safeJson(a: unknown): string {
  try {
    return JSON.stringify(a);
  } catch {
    return String(a);
  }
}

function loadEspruinoTools(): Promise<EspruinoGlobal> {
  return new Promise((resolve) => {
    const tools = require('espruino') as { init(cb: () => void): void };
    tools.init(() => resolve((globalThis as any).Espruino as EspruinoGlobal));
  });
}

/**
 * Opens `port` through EspruinoTools. It asks the board for process.env on connect (as the IDE
 * does); `env` is empty when no REPL answered (no board, or firmware that moved its console).
 */
export async function openEspruinoSession(port: string, opts: SessionOptions): Promise<EspruinoSession> {
  if (used) throw new Error('EspruinoTools keeps its connection in globals: one session per process');
  used = true;
  const log: string[] = [];
  const restore = captureConsole(log, opts.onLog);
  let closed = false;
  let onDisconnect: (() => void) | null = null;
  try {
    const E = await loadEspruinoTools();
    E.Config.BAUD_RATE = opts.baud;
    // Bluetooth scanning (noble / node-ble over D-Bus) would start with the port list and
    // throws where there is no adapter; a USB or serial flash never needs it.
    E.Config.BLUETOOTH_LOW_ENERGY = false;
    E.Config.BLUETOOTH_LOW_ENERGY_DBUS = false;
    // On connect EspruinoTools fetches www.espruino.com/json/<BOARD>.json (for update notices)
    // and, for require()s the board lacks, module sources from the web. The flasher needs
    // neither and must work offline: point both at nothing.
    E.Config.BOARD_JSON_URL = join(tmpdir(), 'psd-flash-no-board-json');
    E.Config.MODULE_URL = '';
    E.Config.SET_TIME_ON_WRITE = false; // the PSD's clock is set by the host over the protocol
    E.Config.COMPILATION = false; // online compiler: not used by our image
    E.Config.MINIFICATION_LEVEL = ''; // the image is minified by the build already
    E.Config.PRETOKENISE = 0; // the build pretokenised the image already: store it byte for byte, so it can be verified
    E.Config.SAVE_ON_SEND = 1; // "Direct to Flash (execute code at boot)": Storage file .bootcde
    E.Config.LOAD_STORAGE_FILE = 0; // no load() after the upload: we verify first, then load()
    E.Config.RESET_BEFORE_SEND = false; // the flasher resets the board itself, before erasing

    // EspruinoTools opens only ports its serialport list reports. A pseudo-terminal (and a
    // port on a host without udev) is never listed, so add the asked-for path when it is a
    // character device.
    const nodeSerial = E.Core.Serial.devices.find((d) => d.name === 'Node Serial');
    if (!nodeSerial) throw new Error("EspruinoTools found no 'serialport' module: cannot open serial ports");
    const listPorts = nodeSerial.getPorts.bind(nodeSerial);
    nodeSerial.getPorts = (cb) =>
      listPorts((ports, instant) => {
        const known = ports.some((p) => p.path === port);
        const isTty = existsSync(port) && statSync(realpathSync(port)).isCharacterDevice();
        cb(known || !isTty ? ports : ports.concat([{ path: port, description: 'serial port given on the command line' }]), instant);
      });

    const opened = await new Promise<boolean>((resolve) => {
      E.Core.Serial.open(
        port,
        (status) => resolve(status !== undefined),
        () => {
          closed = true;
          onDisconnect?.();
          resolve(false);
        }
      );
    });
    if (!opened) throw new Error(`EspruinoTools could not open ${port}`);

    const env = { ...E.Core.Env.getData() };

    const session: EspruinoSession = {
      env,
      log,
      evaluate: <T>(expr: string, timeoutSeconds = 5) =>
        new Promise<T | undefined>((resolve, reject) => {
          if (closed) return reject(new Error('the serial port closed'));
          E.Core.Utils.executeExpression(
            expr,
            (result) => {
              if (result === undefined) return resolve(undefined);
              try {
                resolve(JSON.parse(result) as T);
              } catch {
                reject(new Error(`the board answered ${JSON.stringify(result.slice(0, 200))}, not JSON`));
              }
            },
            { minTimeout: timeoutSeconds, maxTimeout: Math.max(30, timeoutSeconds) }
          );
        }),
      send: (statement, settleMs = 300) =>
        new Promise<void>((resolve, reject) => {
          if (closed) return reject(new Error('the serial port closed'));
          // 0x10 at the start of a line: Espruino does not echo that line. (Serial.write calls
          // back only for long, status-showing writes; the connection's write always resolves.)
          E.Core.Serial.connection.write('\x10' + statement + '\n').then(() => setTimeout(resolve, settleMs), reject);
        }),
      saveToFlash: (code, onProgress) =>
        new Promise<string[]>((resolve, reject) => {
          if (closed) return reject(new Error('the serial port closed'));
          const conn = E.Core.Serial.connection;
          // what the REPL prints while the upload runs: a failed Storage.write shows up here
          let heard = '';
          const onData = (d: string) => {
            heard += d;
          };
          conn.on('data', onData);
          const lowLevel = conn.writeLowLevel;
          const status = E.Core.Status;
          const progress = { sent: 0, total: 0 };
          // EspruinoTools announces the size of what it sends with setStatus("Sending...", n);
          // counting what reaches the port gives exact progress.
          status.setStatus = (s, total) => {
            if (s === 'Sending...' && typeof total === 'number') {
              progress.total = total;
              progress.sent = 0;
            }
          };
          conn.writeLowLevel = (data: string) =>
            lowLevel(data).then(() => {
              progress.sent += data.length;
              // before the upload proper starts (the prompt check), the size is not known yet
              if (progress.total) onProgress?.({ sent: progress.sent, total: Math.max(progress.total, progress.sent) });
            });
          const done = () => {
            conn.writeLowLevel = lowLevel;
            // the last Storage.write may still be running: let its answer arrive
            setTimeout(() => {
              conn.removeListener('data', onData);
              resolve(heard.match(/Uncaught [^\r\n]*/g) ?? []);
            }, 300);
          };
          E.callProcessor('transformForEspruino', code, (wrapped: string) => {
            if (!/require\("Storage"\)\.write\("\.bootcde"/.test(wrapped)) {
              conn.writeLowLevel = lowLevel;
              conn.removeListener('data', onData);
              return reject(new Error('EspruinoTools did not turn the image into Storage writes (is process.env.VERSION below 1v96?)'));
            }
            E.Core.CodeWriter.writeToEspruino(wrapped, done);
          });
        }),
      close: () =>
        new Promise<void>((resolve) => {
          const finish = () => {
            restore();
            resolve();
          };
          if (closed || !E.Core.Serial.isConnected()) return finish();
          onDisconnect = finish;
          E.Core.Serial.close();
          setTimeout(finish, 2000).unref();
        })
    };
    return session;
  } catch (e) {
    restore();
    throw e;
  }
}
