import { randomUUID } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { firstLine, VisemoError } from './errors.js';

let counter = 0;

/** A temporary name beside `file`, unique for this process, so rename() stays on one filesystem. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
}

/** Write a file so that readers see either the old content or the whole new content, never a half. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes `files` (name → content) into a new temporary folder beside `dir`, then renames that
 * folder to `dir` in one step: readers see no folder or all of it. The temporary name is unique
 * across machines sharing the folder. When `dir` already exists (another writer finished first)
 * it is left as it is, the new files are dropped, and false is returned.
 */
export async function writeDirAtomic(dir: string, files: Record<string, string | Uint8Array>): Promise<boolean> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    await fs.mkdir(tmp);
    for (const [name, data] of Object.entries(files)) await fs.writeFile(path.join(tmp, name), data);
    if (await exists(dir)) return false;
    await fs.rename(tmp, dir);
    return true;
  } catch (err) {
    // rename() onto a folder that is there and not empty: another writer won the race.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** The largest JSON file read (256 MB): far beyond any file visemo writes, well within what a string holds. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/**
 * Reads a regular file of at most `maxBytes`. Anything else (a named pipe, a device, a folder) is
 * an error, before a byte is read: opening a FIFO without O_NONBLOCK waits for a writer forever,
 * and holds one of libuv's four file-system threads while it waits (four such reads froze the
 * whole server).
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  const handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (stat.size > maxBytes) throw new Error(`${file} holds ${stat.size} bytes, over the ${maxBytes} read at most`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The one JSON reader: a missing, unparsable or irregular file (a pipe, over MAX_JSON_BYTES) is a VisemoError naming it, with `hint`. */
export async function readJson<T>(file: string, hint = 'the file is missing or damaged: write it again with visemo'): Promise<T> {
  try {
    return JSON.parse((await readRegularFile(file, MAX_JSON_BYTES)).toString('utf8')) as T;
  } catch (err) {
    throw new VisemoError(`cannot read ${file}: ${firstLine(err)}`, hint);
  }
}

/** An optional JSON file: undefined when it is absent or unreadable. */
export async function readJsonIfPresent<T>(file: string): Promise<T | undefined> {
  return readJson<T>(file).catch(() => undefined);
}

/**
 * Checked before any work: `file` may be written when it is absent, or with `force`, or when it
 * is this command's own output (its `format`) for the same inputs: every field of `same` equal in
 * it, so a re-run refreshes its file while another dataset's result is never replaced. Never over
 * a folder.
 */
export async function checkOutputFile(file: string, format: string, force: boolean | undefined, same: Record<string, unknown>): Promise<void> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) return;
  if (stat.isDirectory()) throw new VisemoError(`${file} is a folder`, `give a file name for the output, e.g. ${path.join(file, 'out.json')}`);
  if (force) return;
  const existing = await readJsonIfPresent<Record<string, unknown>>(file);
  if (existing?.format !== format)
    throw new VisemoError(`${file} exists and was not written by this command`, 'choose another --out, or pass --force to replace it');
  const differ = Object.entries(same).filter(([k, v]) => JSON.stringify(existing[k]) !== JSON.stringify(v));
  if (differ.length > 0) {
    const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    throw new VisemoError(
      `${file} holds this command's result for other inputs (${differ.map(([k, v]) => `${k} ${show(existing[k])}, not ${show(v)}`).join('; ')})`,
      'choose another --out, or pass --force to replace it',
    );
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Removes `dir` and the folders under it that hold nothing (bottom-up); anything with a file stays. */
export async function removeEmptyFolders(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => null);
  if (!entries) return;
  for (const e of entries) if (e.isDirectory()) await removeEmptyFolders(path.join(dir, e.name));
  await fs.rmdir(dir).catch(() => {});
}
