// `pss verify-indicium <image|hex>`: is this indicium authentic? Reads the Data Matrix of a
// scanned or printed indicium (PNG, JPEG, TIFF, SVG..., any rotation, any scanner resolution)
// or takes its hex digits (84; 80 for a layout-1 indicium), shows the fields and checks the MAC under the device's key.
// Exit 0 when authentic; 1 NOT AUTHENTIC with the reason (bad MAC, wrong length, unknown
// version, unknown device); 3 UNREADABLE (no symbol could be read: nothing is said about
// authenticity); 2 on a usage error (a file that does not exist or cannot be read too).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { verifyIndicium, verifyIndiciumWith, DEVICE_KEY_BYTES, type DeviceKeyLookup, type IndiciumCheck } from '../indicium.ts';
import { readDataMatrix, UnreadableBarcode } from '../datamatrix.ts';
import { isPostgresUrl } from '../pg-store.ts';
import { dataDir } from './common.ts';
import { dataOption } from './report.ts';

/** How the KMS finds device keys (derived from its master key): the data directory (its
 * master key file and registry), the database (--db / PSS_DB: a postgres:// URL or 'sqlite';
 * undefined: PSS_DB) and --master-key-file. server/kms-lookup.ts. */
export type KmsKeyLookupFactory = (opts: { dir: string; db?: string; masterKeyFile?: string }) => DeviceKeyLookup | Promise<DeviceKeyLookup>;

/**
 * Where the registry is, as every pss command finds it: --data (here or on pss), else PSS_DATA,
 * else the platform's data directory; --db (here or on pss) a postgres:// URL or 'sqlite', or,
 * as before, the path of a data directory's pss.sqlite (then that directory, unless --data).
 */
function registryOf(cmd: Command): { dir: string; db?: string } {
  const o = cmd.optsWithGlobals() as { data?: string; db?: string };
  // the pss program's own --db takes the value wherever it stands, and puts it in PSS_DB
  const db = o.db ?? (process.env.PSS_DB || undefined);
  if (db === undefined || db === 'sqlite' || isPostgresUrl(db)) return { dir: dataDir(cmd), db };
  let file = false;
  try {
    file = statSync(db).isFile();
  } catch {
    file = false;
  }
  if (!file && !/\.sqlite$/i.test(db)) throw new Error(`--db must be a postgres:// URL, 'sqlite', or the path of a data directory's pss.sqlite, not '${db}'`);
  if (!file) throw new Error(`--db ${db}: no such database file`);
  return { dir: o.data !== undefined ? dataDir(cmd) : path.dirname(path.resolve(db)), db: 'sqlite' };
}

export interface VerifyIndiciumDeps {
  kmsKeyLookup?: KmsKeyLookupFactory;
}

/** The input gave no indicium bytes: the code and reason of the verdict. */
class Unreadable extends Error {
  constructor(public source: string, message: string) {
    super(message);
  }
}

interface Verdict extends Omit<IndiciumCheck, 'code'> {
  code?: IndiciumCheck['code'] | 'UNREADABLE';
  /** where the bytes came from: hex, or the image's format (png, jpeg, svg...) */
  source: string;
  input: string;
  date?: string;
}

function keyHex(v: string): string {
  if (!new RegExp(`^[0-9a-fA-F]{${DEVICE_KEY_BYTES * 2}}$`).test(v)) throw new InvalidArgumentError(`must be ${DEVICE_KEY_BYTES} bytes as ${DEVICE_KEY_BYTES * 2} hex digits`);
  return v.toLowerCase();
}

function money(minor: number): string {
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

function dateOf(day: number): string {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

/** The argument as indicium bytes: hex digits when it is hex and no such file exists, else an
 * image. Throws Unreadable when it holds no indicium, Error (a usage error) when the file
 * cannot be read. */
async function readInput(arg: string): Promise<{ source: string; bytes: string }> {
  if (/^[0-9a-fA-F]+$/.test(arg) && !existsSync(arg)) {
    if (arg.length % 2) throw new Unreadable('hex', `not an indicium: odd number of hex digits (${arg.length})`);
    return { source: 'hex', bytes: Buffer.from(arg, 'hex').toString('latin1') };
  }
  let image: Buffer;
  try {
    image = readFileSync(arg);
  } catch (e: any) {
    // a mistyped path is the user's argument, not a verdict on an indicium (exit 2, not 3)
    throw new Error(e.code === 'ENOENT' ? `no such file: ${arg}` : `cannot read ${arg}: ${e.code ?? e.message}`);
  }
  const source = /\.svg$/i.test(arg) || /^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(image.subarray(0, 200).toString('latin1')) ? 'svg' : /^\x89PNG/.test(image.subarray(0, 4).toString('latin1')) ? 'png' : 'image';
  try {
    return { source, bytes: await readDataMatrix(image) };
  } catch (e) {
    if (e instanceof UnreadableBarcode) throw new Unreadable(source, `unreadable barcode: ${e.message}`);
    throw e;
  }
}

function human(v: Verdict): string {
  const f = v.fields;
  const lines = [v.ok ? (f!.test ? `authentic TEST IMPRINT of PSD-${f!.device}, MAC verified: NOT POSTAGE` : `authentic: indicium of PSD-${f!.device}, MAC verified`) : v.code === 'UNREADABLE' ? `UNREADABLE: ${v.reason} (nothing is known about its authenticity: scan it again)` : `NOT AUTHENTIC: ${v.reason}`];
  if (f) {
    const pairs: [string, string | number][] = [
      ['device', `PSD-${f.device}`],
      ['date', `${dateOf(f.day)} (day ${f.day})`],
      ['postage', money(f.postage)],
      ['piece', f.piece],
      ['AR', money(f.ascending)],
      ['DR', money(f.descending)],
      ['category', f.category],
      ['customer', f.customer],
      ...(f.rateVersion === undefined ? [] : ([['rates', f.rateVersion ? `table ${f.rateVersion}` : 'declared by the host (no table)']] as [string, string][])),
      ['version', f.version],
      ['MAC', f.mac]
    ];
    for (const [k, val] of pairs) lines.push(`  ${k.padEnd(9)} ${val}`);
  }
  return lines.join('\n');
}

export function verifyIndiciumCommand(deps: VerifyIndiciumDeps = {}): Command {
  return new Command('verify-indicium')
    .description('check an indicium: read the Data Matrix of a printed or scanned indicium (PNG, JPEG, TIFF, SVG; any rotation and scanner resolution), or take its hex digits (84, or 80 for a layout-1 indicium), and verify its MAC under the device key. Exit 0 when authentic, 1 NOT AUTHENTIC with the reason, 2 a usage error (no such file...), 3 UNREADABLE when no symbol could be read, 4 an authentic TEST imprint (not postage)')
    .argument('<image|hex>', 'image of the indicium (a scan or psd frank --print\'s PNG/SVG), or the indicium as hex digits (84, or 80 for a layout-1 indicium)')
    .addOption(dataOption())
    .option('--db <url|file>', "the KMS's database: postgres://... or 'sqlite' (default PSS_DB, else SQLite in the data directory), or the path of a data directory's pss.sqlite")
    .option('--master-key-file <f>', 'file holding the KMS master key (default: the data directory\'s, or PSS_MASTER_KEY_FILE / PSS_MASTER_KEY)')
    .addOption(new Option('--device-key <hex>', `the device's key, ${DEVICE_KEY_BYTES} bytes hex (instead of the KMS's)`).argParser(keyHex).conflicts(['data', 'db', 'masterKeyFile']))
    .option('--json', 'machine-readable output')
    .action(async (arg: string, o, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals().json);
      let verdict: Verdict;
      try {
        const { source, bytes } = await readInput(arg);
        let check: IndiciumCheck;
        if (o.deviceKey) check = verifyIndicium(bytes, Buffer.from(o.deviceKey, 'hex').toString('latin1'));
        else {
          // the KMS's keys, from the data directory (and database) every pss command uses
          if (!deps.kmsKeyLookup) throw new Error('device keys from the KMS (--data, --db, --master-key-file) are not available in this build: give --device-key <hex>');
          check = await verifyIndiciumWith(bytes, await deps.kmsKeyLookup({ ...registryOf(cmd), masterKeyFile: o.masterKeyFile }));
        }
        verdict = { ...check, source, input: arg, ...(check.fields ? { date: dateOf(check.fields.day) } : {}) };
      } catch (e: any) {
        if (!(e instanceof Unreadable)) {
          // a usage problem, not a verdict on the indicium
          if (json) console.error(JSON.stringify({ error: { message: e.message } }));
          else console.error(`pss verify-indicium: error: ${e.message}`);
          process.exitCode = 2;
          return;
        }
        verdict = { ok: false, fields: null, reason: e.message, code: 'UNREADABLE', source: e.source, input: arg };
      }
      if (json) console.log(JSON.stringify(verdict, null, 2));
      else (verdict.ok ? console.log : console.error)(human(verdict));
      if (!verdict.ok) process.exitCode = verdict.code === 'UNREADABLE' ? 3 : 1;
      // authentic, but a test imprint: not postage
      else if (verdict.fields?.test) process.exitCode = 4;
    });
}
