/**
 * `psd flash`: puts a built firmware image on a real Espruino board so that it runs from flash
 * at every boot, then checks through the PSD protocol that the board runs exactly that build.
 *
 * 1. Check the image (its embedded build hash and board) and the port, before touching the board.
 * 2. Connect with EspruinoTools, which asks the REPL for process.env; refuse a board that is not
 *    the image's (process.env.BOARD vs board-defs espruinoBoard) unless forced.
 * 3. Refuse to erase a PSD data region that holds data (registers, keys, statistics) unless told.
 * 4. On a board with a code area (board-defs codeArea), refuse unless Flash.getFree() reports it.
 * 5. reset(), erase Storage and the data region; on a board with a code area, erase it, write the
 *    code-area image (resident core, on-demand modules) and verify each file's CRC-32 as the
 *    board reads it back; write the image's Storage files (all of them, or only the boot code
 *    `.bootcde` with a code area), verify their length and CRC-32 on the board, then load():
 *    the board restarts and runs the image, which moves the console off the data port.
 * 6. Read back STATUS over the framed protocol and compare firmware version and build hash.
 */
import { existsSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { resolve } from 'node:path';
import { getBoard, type BoardDef } from '../board-defs/index.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { Command } from '../protocol/commands.ts';
import { PsdError } from './errors.ts';
import { openLink } from './link.ts';
import { PsdClient } from './client.ts';
import { readImage, ImageError, storageBytes, type FirmwareImage } from '../kit/flash/image.ts';
import { openEspruinoSession, type EspruinoSession, type UploadProgress } from '../kit/flash/espruino-tools.ts';
import { freeFlashExpr, covers, eraseCodeAreaExpr, writeCodeArea, verifyCodeAreaExpr, codeAreaMismatch } from './flash-code-area.ts';

export const DIST_FIRMWARE = resolve(import.meta.dirname, '../dist/firmware');

export interface FlashOptions {
  board: string;
  port: string;
  /** default dist/firmware/<board>.js */
  image?: string;
  /** flash even if the board on the port (or the image's build info) is another board */
  force?: boolean;
  /** erase the PSD data region even though it holds data */
  eraseData?: boolean;
  /** write an image larger than the board's image budget */
  overBudget?: boolean;
  /** how long to wait for the flashed board to answer STATUS (default 20 s) */
  bootTimeoutMs?: number;
  /** what EspruinoTools logs */
  onLog?: (line: string) => void;
  /** one line per step, for people */
  onStep?: (line: string) => void;
  onProgress?: (p: UploadProgress) => void;
}

export interface FlashReport {
  board: string;
  port: string;
  espruino: { board: string; version: string } | null;
  image: { file: string; bytes: number; buildHash: string; firmwareVersion: string | null };
  /** true when the board already ran this build (nothing was written) */
  alreadyRunning: boolean;
  erased: { dataRegionHadData: boolean; storageFiles: string[] } | null;
  upload: { bytes: number; crc32: string; sentBytes: number; ms: number } | null;
  /** what went to the code area (boards with one): its address, the image's bytes, files verified */
  codeArea: { addr: string; bytes: number; files: string[] } | null;
  readBack: { board: string; firmwareVersion: string; buildHash: string; deviceId: string; matches: true };
  next: string;
}

/** A PsdError with our own wording (the code keeps its meaning for --json users). */
function fail(code: number, message: string, hint?: string): PsdError {
  const e = new PsdError(code, undefined, hint);
  e.message = message;
  return e;
}

/** How a lab gets an Espruino board to boot without its saved code (Espruino's documented way). */
function skipSavedCodeHint(board: BoardDef): string {
  if (board.dataPort === 'USB')
    return `restart the ${board.name} without running its saved code: unplug it, plug it in and press its button right after (holding it while plugging in starts the bootloader instead), then run psd flash again`;
  return `restart the ${board.name} without running its saved code (Espruino skips it when BTN1 is pressed as the board starts; holding it too long can enter the bootloader: see the board's page on espruino.com), then run psd flash again`;
}

/** Read-only check of the PSD data region and Storage, as one REPL expression (ES5, runs on the board). */
function storageExpr(): string {
  return `(function(){var S=require("Storage");return {files:S.list(),storageBytes:S.getStats().totalBytes};})()`;
}

/** true when the PSD data region holds anything but erased bytes. Asked after the Storage
 * check: on a board whose Storage is smaller than the definition expects (a lab board still on
 * Espruino's standard firmware) the region may lie beyond what that firmware maps. */
function dataUsedExpr(b: BoardDef): string {
  const bytes = b.flash.pageBytes * b.flash.dataPages;
  return `(function(a,n){var F=require("Flash"),ff="",i,used=false;for(i=0;i<256;i++)ff+="\\xff";` +
    `for(i=0;i<n&&!used;i+=256)used=E.toString(F.read(256,a+i))!==ff;return used;})(${b.flash.dataStart},${bytes})`;
}

/** Erases Storage (so .bootcde starts at its beginning) and the PSD data region. */
function eraseExpr(b: BoardDef): string {
  return `(function(a,p,n){require("Storage").eraseAll();var F=require("Flash"),i;for(i=0;i<n;i++)F.erasePage(a+i*p);` +
    `var S=require("Storage");return {files:S.list().length,free:S.getFree()};})(${b.flash.dataStart},${b.flash.pageBytes},${b.flash.dataPages})`;
}

/** Length and CRC-32 of each named Storage file (null where it is missing). */
function verifyExpr(names: string[]): string {
  return `(function(n){var S=require("Storage"),r=[],i,f;for(i=0;i<n.length;i++){f=S.read(n[i]);r.push(f===undefined?null:{bytes:f.length,crc:E.CRC32(f)>>>0});}return r;})(${JSON.stringify(names)})`;
}

/** Bytes of a module file per REPL write (one line of base64): each write waits for the REPL's answer, so fewer, larger lines upload faster */
const MODULE_CHUNK_BYTES = 2048;

/** Writes one Storage file through the REPL, a chunk at a time (Storage.write with offset and
 * total size), each chunk acknowledged before the next. */
async function writeStorageFile(session: { evaluate<T>(expr: string, timeoutSeconds?: number): Promise<T | undefined> }, name: string, data: Buffer, onChunk: (bytes: number) => void): Promise<void> {
  for (let off = 0; off < data.length; off += MODULE_CHUNK_BYTES) {
    const chunk = data.subarray(off, off + MODULE_CHUNK_BYTES);
    const ok = await session.evaluate<number>(`(function(){require("Storage").write(${JSON.stringify(name)},atob(${JSON.stringify(chunk.toString('base64'))}),${off},${data.length});return 1;})()`, 10);
    if (ok !== 1) throw fail(ErrorCode.INTERNAL, `writing Storage file ${name} at byte ${off} got no acknowledgement`, 'run with --verbose to see the REPL');
    onChunk(chunk.length);
  }
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** STATUS through the framed protocol, retried until the deadline (the board is booting, and
 * a port may vanish and come back meanwhile); also keeps what else came back, to say what went wrong. */
async function readStatus(port: string, deadlineMs: number): Promise<{ status: any | null; text: string }> {
  const until = Date.now() + deadlineMs;
  let text = '';
  for (;;) {
    let client: PsdClient | null = null;
    try {
      const link = await openLink(port);
      link.onData((b) => {
        text = (text + b.toString('latin1')).slice(-400);
      });
      client = new PsdClient(link, { timeoutMs: 1000, retries: 0 });
      for (;;) {
        try {
          return { status: await client.request(Command.STATUS), text };
        } catch (e) {
          if (!(e instanceof PsdError) || (e.code !== ErrorCode.NO_ANSWER && e.code !== ErrorCode.WRONG_DEVICE)) throw e;
          if (Date.now() >= until) return { status: null, text };
        }
      }
    } catch (e) {
      // the port went away (or is not back yet): try again until the deadline
      if (!(e instanceof PsdError) || Date.now() >= until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client?.close();
    }
  }
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e\r\n]/g, '').replace(/\r?\n/g, ' | ').trim();
}

function checkImage(o: FlashOptions, board: BoardDef): FirmwareImage {
  const file = resolve(o.image ?? `${DIST_FIRMWARE}/${board.id}.js`);
  let image: FirmwareImage;
  try {
    image = readImage(file);
  } catch (e) {
    // an --image that is not there is the argument's fault, not a build to run
    if (e instanceof ImageError && o.image && !existsSync(file)) throw fail(ErrorCode.BAD_ARGUMENT, `${file} does not exist`, 'check --image');
    if (e instanceof ImageError) throw fail(ErrorCode.BAD_ARGUMENT, e.message);
    throw e;
  }
  if (image.board !== board.id && !o.force) {
    throw fail(
      ErrorCode.BAD_ARGUMENT,
      image.board ? `${file} was built for board "${image.board}", not "${board.id}"` : `${file}: cannot tell which board it was built for`,
      'build the image for this board (npm run build -- --board ' + board.id + '), or give --force'
    );
  }
  const inStorage = storageBytes(image.storageFiles.map((f) => f.code));
  if (board.codeArea && image.codeArea && image.codeArea.bytes.length > board.codeArea.bytes)
    throw fail(
      ErrorCode.BAD_ARGUMENT,
      `${file}: its code-area image is ${image.codeArea.bytes.length} bytes, larger than the ${board.name}'s code area (${board.codeArea.bytes} bytes at 0x${board.codeArea.addr.toString(16)}, board-defs/${board.id}.json)`,
      'shrink the image (see the size table of npm run build)'
    );
  if (inStorage > board.image.budgetBytes && !o.overBudget) {
    throw fail(
      ErrorCode.BAD_ARGUMENT,
      `${file} needs ${inStorage} bytes in Storage, over the ${board.name}'s image budget of ${board.image.budgetBytes} bytes (board-defs/${board.id}.json)`,
      `the budget is what the board's Storage holds without reaching the PSD data region at 0x${board.flash.dataStart.toString(16)}; a bigger .bootcde can overwrite the statistics pages. Shrink the image, or give --over-budget on a board whose data you do not need`
    );
  }
  return image;
}

async function checkPort(port: string): Promise<void> {
  if (!port) throw new PsdError(ErrorCode.NO_DEVICE, 'no port given (use --port or set PSD_PORT)');
  if (port.startsWith('tcp://'))
    throw fail(ErrorCode.BAD_ARGUMENT, `${port}: flashing needs the board's serial port`, 'a virtual board (psd sim) runs dist/firmware/<board>.js itself and needs no flashing');
  if (!existsSync(port)) throw new PsdError(ErrorCode.NO_DEVICE, `${port} does not exist`);
  // EspruinoTools' serialport has no error handler on open (a busy or forbidden port would crash
  // the process): open and close it here first, for a clear error.
  const probe = await openLink(port);
  await probe.close();
}

export async function flashBoard(o: FlashOptions): Promise<FlashReport> {
  let board: BoardDef;
  try {
    board = getBoard(o.board);
  } catch (e) {
    throw fail(ErrorCode.BAD_ARGUMENT, (e as Error).message);
  }
  const step = o.onStep ?? (() => {});
  await checkPort(o.port);
  const image = checkImage(o, board);
  const imageInfo = { file: image.file, bytes: image.bytes, buildHash: image.buildHash, firmwareVersion: image.firmwareVersion };
  const bootTimeout = o.bootTimeoutMs ?? 20000;

  step(`connecting to ${o.port} (EspruinoTools, ${board.serial.baud} baud)`);
  let session: EspruinoSession | null = await openEspruinoSession(o.port, { baud: board.serial.baud, onLog: o.onLog });
  try {
    const env = session.env;
    if (typeof env.BOARD !== 'string') {
      await session.close();
      session = null;
      return await alreadyRunningOrNoRepl(o, board, imageInfo);
    }
    const espruino = { board: env.BOARD, version: String(env.VERSION) };
    step(`found ${espruino.board}, Espruino ${espruino.version}`);
    if (espruino.board !== board.espruinoBoard && !o.force) {
      throw fail(
        ErrorCode.WRONG_DEVICE,
        `the board on ${o.port} is ${espruino.board} (Espruino ${espruino.version}), but ${image.file} is for the ${board.name} (${board.espruinoBoard}): nothing written`,
        'give the --board that matches the hardware (board-defs/*.json espruinoBoard), or --force'
      );
    }

    const seen = await session.evaluate<{ files: string[]; storageBytes: number }>(storageExpr(), 10);
    if (!seen) throw fail(ErrorCode.NO_ANSWER, `the REPL on ${o.port} did not answer the flash check`, 'try again; if it persists, run with --verbose');
    // every check before anything is changed: the image's files must fit the board's Storage
    const storageNeed = storageBytes(image.storageFiles.map((f) => f.code));
    if (seen.storageBytes && storageNeed > seen.storageBytes)
      throw fail(
        ErrorCode.BAD_ARGUMENT,
        `the image's ${image.files.length} Storage files need ${storageNeed} bytes; the board's Storage holds ${seen.storageBytes} in all: nothing written`,
        board.storageBytes && seen.storageBytes < board.storageBytes
          ? `board-defs/${board.id}.json expects ${board.storageBytes} bytes of Storage: flash the Espruino firmware its notes name first (README: the lab firmware), or give the --board of the firmware on it`
          : 'see the size table of npm run build (the in Storage column against the board)'
      );
    const dataUsed = await session.evaluate<boolean>(dataUsedExpr(board), 10);
    if (dataUsed === undefined) throw fail(ErrorCode.NO_ANSWER, `the REPL on ${o.port} did not answer the flash check of the PSD data region`, 'try again; if it persists, run with --verbose');
    if (dataUsed && !o.eraseData) {
      throw fail(
        ErrorCode.BAD_ARGUMENT,
        `the PSD data region (0x${board.flash.dataStart.toString(16)}, ${board.flash.dataPages} x ${board.flash.pageBytes} bytes) on ${o.port} holds data: registers, keys and statistics of a PSD. Flashing erases it: nothing written`,
        'upload the statistics and get them confirmed first; then run psd flash again with --erase-data'
      );
    }

    const area = board.codeArea && image.codeArea ? { ...board.codeArea, image: image.codeArea } : null;
    if (area) {
      // the area may be flash outside the chip's datasheet: only what Espruino hands out is used
      const free = await session.evaluate<{ addr: number; length: number }[]>(freeFlashExpr(), 10);
      if (!covers(free, area))
        throw fail(
          ErrorCode.BAD_ARGUMENT,
          `the ${board.name}'s code area (0x${area.addr.toString(16)}, ${area.bytes} bytes) is not free flash on the board on ${o.port} (Flash.getFree(): ${JSON.stringify(free ?? null)}): nothing written`,
          `this image keeps its code there (board-defs/${board.id}.json codeArea); is the board a ${board.name} with Espruino 2v29?`
        );
    }

    step(`resetting and erasing Storage${seen.files.length ? ` (${seen.files.join(', ')})` : ''} and the PSD data region`);
    await session.send('reset();', 500);
    const erased = await session.evaluate<{ files: number; free: number }>(eraseExpr(board), 30);
    if (!erased || erased.files !== 0) throw fail(ErrorCode.INTERNAL, `erasing Storage on ${o.port} failed (answer: ${JSON.stringify(erased)})`, 'run with --verbose to see the REPL');
    if (erased.free < storageNeed)
      throw fail(ErrorCode.BAD_ARGUMENT, `the board's Storage has ${erased.free} bytes free after erasing; the image needs ${storageNeed}: Storage is erased, the image not stored`, 'shrink the image (see the size table of npm run build)');

    const t0 = Date.now();
    let sentBytes = 0;
    const total = image.storageFiles.reduce((n, f) => n + Buffer.byteLength(f.code, 'latin1'), 0) + (area ? area.image.bytes.length : 0);
    const sent = (n: number) => {
      sentBytes += n;
      o.onProgress?.({ sent: sentBytes, total });
    };
    // the code area first: until .bootcde is written the board stays at its REPL
    if (area) {
      step(`erasing the code area (0x${area.addr.toString(16)}, ${area.bytes / area.pageBytes} x ${area.pageBytes} bytes)`);
      if ((await session.evaluate<boolean>(eraseCodeAreaExpr(area), 60)) !== true) throw fail(ErrorCode.INTERNAL, `erasing the code area at 0x${area.addr.toString(16)} on ${o.port} failed: Storage is erased, the image not stored`, 'run with --verbose to see the REPL');
      step(`writing ${area.image.bytes.length} bytes to the code area: ${area.image.directory.map((e) => e[0]).join(', ')}`);
      if (!(await writeCodeArea(session, area, area.image, sent))) throw fail(ErrorCode.INTERNAL, `writing the code area at 0x${area.addr.toString(16)} got no acknowledgement: Storage is erased, the image not stored`, 'run with --verbose to see the REPL');
      step('verifying every file of the code area');
      const mismatch = codeAreaMismatch(area.image, await session.evaluate<{ head: string; crc: number[] }>(verifyCodeAreaExpr(area, area.image), 30));
      if (mismatch) throw fail(ErrorCode.CRC, `the code area the board wrote differs: ${mismatch}; the boot code not written, the board stays at its REPL`, 'check the cable and run psd flash again (--verbose shows the REPL traffic)');
    }
    // every file the same way, through the REPL a chunk at a time (EspruinoTools' own upload
    // resolves the boot code's require("psd.core") as a module to fetch, and stalls)
    step(`writing ${image.storageFiles.reduce((n, f) => n + f.code.length, 0)} bytes to Storage: ${image.storageFiles.map((f) => f.name).join(', ')}`);
    for (const f of image.storageFiles) await writeStorageFile(session, f.name, Buffer.from(f.code, 'latin1'), sent);
    const ms = Date.now() - t0;

    step('verifying every file the board stored');
    const names = image.storageFiles.map((f) => f.name);
    const stored = (await session.evaluate<({ bytes: number; crc: number } | null)[]>(verifyExpr(names), 15)) ?? [];
    const bad: string[] = [];
    image.storageFiles.forEach((f, i) => {
      const code = Buffer.from(f.code, 'latin1');
      const got = stored[i];
      if (!got || got.bytes !== code.length || got.crc >>> 0 !== crc32(code) >>> 0)
        bad.push(`${f.name}: ${got ? `${got.bytes} bytes, CRC-32 ${hex8(got.crc)}` : 'nothing'} for ${code.length} bytes, CRC-32 ${hex8(crc32(code))}`);
    });
    if (bad.length) {
      await session.send(`(function(n){for(var i=0;i<n.length;i++)require("Storage").erase(n[i]);})(${JSON.stringify(names)});`);
      throw fail(
        ErrorCode.CRC,
        `the board stored ${bad.join('; ')}` +
          ': upload corrupted' +
          '; the image\'s files erased',
        'check the cable and run psd flash again (--verbose shows the REPL traffic)'
      );
    }
    const got = stored[0]!;

    step('restarting the board into the image (load())');
    await session.send('load();', 300);
    await session.close();
    session = null;

    step('reading back STATUS through the PSD protocol');
    const { status, text } = await readStatus(o.port, bootTimeout);
    const readBack = checkReadBack(status, text, board, imageInfo, o.port, bootTimeout);
    return {
      board: board.id,
      port: o.port,
      espruino,
      image: imageInfo,
      alreadyRunning: false,
      erased: { dataRegionHadData: dataUsed, storageFiles: seen.files },
      upload: { bytes: got.bytes, crc32: hex8(got.crc), sentBytes, ms },
      codeArea: area ? { addr: '0x' + area.addr.toString(16), bytes: area.image.bytes.length, files: area.image.directory.map((e) => e[0]) } : null,
      readBack,
      next: nextStep(o.port, readBack.deviceId)
    };
  } finally {
    if (session) await session.close();
  }
}

function checkReadBack(status: any, text: string, board: BoardDef, image: FlashReport['image'], port: string, timeoutMs: number): FlashReport['readBack'] {
  if (!status) {
    const said = printable(text);
    throw fail(
      ErrorCode.NO_ANSWER,
      `the image is stored, but the board did not answer STATUS within ${timeoutMs} ms after restarting` + (said ? `; it printed: ${said.slice(-300)}` : ''),
      said ? 'the image failed at boot and left the REPL on the port: see what it printed' : 'power-cycle the board and run psd --port ' + port + ' status'
    );
  }
  const problems: string[] = [];
  if (status.board !== board.id) problems.push(`board ${status.board}, expected ${board.id}`);
  if (status.buildHash !== image.buildHash) problems.push(`build ${status.buildHash}, expected ${image.buildHash}`);
  if (image.firmwareVersion && status.firmwareVersion !== image.firmwareVersion) problems.push(`firmware ${status.firmwareVersion}, expected ${image.firmwareVersion}`);
  if (problems.length) throw fail(ErrorCode.WRONG_DEVICE, `the board restarted but does not run the image: ${problems.join('; ')}`, 'run psd flash again; if it persists, run with --verbose');
  return { board: status.board, firmwareVersion: status.firmwareVersion, buildHash: status.buildHash, deviceId: status.deviceId, matches: true };
}

function nextStep(port: string, deviceId: string): string {
  // the data center's way, as the README's lab flow goes on; keys given by hand are LAB/TEST only
  if (/^unprovisioned/.test(deviceId)) return `psd --port ${port} provision --kms <pss host:port>`;
  return `psd --port ${port} status`;
}

/** No REPL answered: the board may already run PSD firmware (its console is off the port). */
async function alreadyRunningOrNoRepl(o: FlashOptions, board: BoardDef, image: FlashReport['image']): Promise<FlashReport> {
  const { status } = await readStatus(o.port, 1500).catch(() => ({ status: null }));
  if (!status) {
    throw fail(
      ErrorCode.NO_ANSWER,
      `no Espruino REPL answered on ${o.port} (EspruinoTools could not read process.env) and no PSD answered STATUS`,
      `is it an Espruino board with its console on this port? (${board.name}: console on ${board.consoleDefault}) Run with --verbose to see the traffic`
    );
  }
  if (status.board === board.id && status.buildHash === image.buildHash) {
    return {
      board: board.id,
      port: o.port,
      espruino: null,
      image,
      alreadyRunning: true,
      erased: null,
      upload: null,
      codeArea: null,
      readBack: { board: status.board, firmwareVersion: status.firmwareVersion, buildHash: status.buildHash, deviceId: status.deviceId, matches: true },
      next: nextStep(o.port, status.deviceId)
    };
  }
  throw fail(
    ErrorCode.WRONG_DEVICE,
    `${o.port} runs PSD firmware ${status.firmwareVersion} build ${status.buildHash} (${status.board}, ${status.deviceId}), which keeps the REPL off its data port: it cannot be flashed over it. Nothing written`,
    skipSavedCodeHint(board)
  );
}
