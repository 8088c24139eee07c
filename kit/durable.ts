// One durable file write for the host and the data center: write a temp file in the same
// folder, fsync it, rename it over the target (or link it, never replacing an existing file),
// fsync the folder. A crash leaves the old file or the new one, never half of one, and at most
// a temp file (`.tmp-<name>-<pid>-<random>`) that readers ignore.
//
//   await writeDurable(file, text);                                  // replace, 0600
//   if (!(await writeDurable(file, text, { mode: 'create' }))) ...   // the name was taken
//   writeDurableSync(file, bytes, { fileMode: 0o644, syncDir: false }); fsyncDirSync(dir);
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';

/** Temp files start with this (a folder listing skips and may clean them up). */
export const TEMP_PREFIX = '.tmp-';

export interface DurableOptions {
  /** `replace` (default): atomic rename over an old version; `create`: never replaces an
   * existing file (link() fails with EEXIST atomically) and the write returns false */
  mode?: 'create' | 'replace';
  /** the file's permissions (default 0600) */
  fileMode?: number;
  /** fsync the folder after the rename (default true); false when the caller writes several
   * files and fsyncs the folder once after the last */
  syncDir?: boolean;
}

/** Errors of opening or syncing a folder that mean "this platform cannot" (Windows): the rename
 * is still atomic there. */
const NO_DIR_SYNC = ['EISDIR', 'EPERM', 'EINVAL', 'EACCES'];
/** link() not supported (FAT, some network mounts): check, then rename. */
const NO_LINK = ['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'];

function tempFor(file: string): string {
  return path.join(path.dirname(file), `${TEMP_PREFIX}${path.basename(file)}-${process.pid}-${crypto.randomBytes(5).toString('hex')}`);
}

const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

export async function fsyncDir(dir: string): Promise<void> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(dir, 'r');
    await h.sync();
  } catch (e: any) {
    if (!NO_DIR_SYNC.includes(e.code)) throw e;
  } finally {
    await h?.close();
  }
}

export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e: any) {
    if (!NO_DIR_SYNC.includes(e.code)) throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes `data` as `file` durably; false only in `create` mode when the name was taken. */
export async function writeDurable(file: string, data: string | Uint8Array, o: DurableOptions = {}): Promise<boolean> {
  const temp = tempFor(file);
  try {
    const h = await fsp.open(temp, 'wx', o.fileMode ?? 0o600);
    try {
      await h.writeFile(bytesOf(data));
      await h.sync();
    } finally {
      await h.close();
    }
    if ((o.mode ?? 'replace') === 'replace') await fsp.rename(temp, file);
    else if (!(await linkNoClobber(temp, file))) return false;
    if (o.syncDir !== false) await fsyncDir(path.dirname(file));
    return true;
  } finally {
    await fsp.unlink(temp).catch((e) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}

/** writeDurable for synchronous callers. */
export function writeDurableSync(file: string, data: string | Uint8Array, o: DurableOptions = {}): boolean {
  const temp = tempFor(file);
  try {
    const fd = fs.openSync(temp, 'wx', o.fileMode ?? 0o600);
    try {
      fs.writeFileSync(fd, bytesOf(data));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if ((o.mode ?? 'replace') === 'replace') fs.renameSync(temp, file);
    else if (!linkNoClobberSync(temp, file)) return false;
    if (o.syncDir !== false) fsyncDirSync(path.dirname(file));
    return true;
  } finally {
    try {
      fs.unlinkSync(temp);
    } catch (e: any) {
      if (e.code !== 'ENOENT') throw e;
    }
  }
}

/** Puts `from` at `to` unless `to` exists (then false). */
export async function linkNoClobber(from: string, to: string): Promise<boolean> {
  try {
    await fsp.link(from, to);
    return true;
  } catch (e: any) {
    if (e.code === 'EEXIST') return false;
    if (!NO_LINK.includes(e.code)) throw e;
    if (await fsp.lstat(to).then(() => true, () => false)) return false;
    await fsp.rename(from, to);
    return true;
  }
}

function linkNoClobberSync(from: string, to: string): boolean {
  try {
    fs.linkSync(from, to);
    return true;
  } catch (e: any) {
    if (e.code === 'EEXIST') return false;
    if (!NO_LINK.includes(e.code)) throw e;
    if (fs.existsSync(to)) return false;
    fs.renameSync(from, to);
    return true;
  }
}
