/**
 * Folder listings that lose no file to its name. A name that is not valid UTF-8 (`\xff\xfe bad.png`
 * from another system's encoding) comes back from Node's readdir with U+FFFD in place of the bad
 * bytes, a path that names no file: such names are set apart here, shown with their bytes escaped,
 * so every command can name them as unreadable instead of losing them or calling them missing.
 */
import { isUtf8 } from 'node:buffer';
import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Why such a file is skipped, and what to do. */
export const NON_UTF8_REASON = 'its name is not valid UTF-8, so it cannot be opened by name: rename it (e.g. convmv -f latin1 -t utf8 -r --notest FOLDER)';

/** A name's bytes, printable ASCII as is and every other byte as \xNN. */
export function escapeName(name: Buffer): string {
  return Array.from(name, (c) => (c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
}

export interface DirListing {
  /** Entries whose names are valid UTF-8 (their paths open). */
  entries: Dirent[];
  /** Paths (names escaped) of the entries whose names are not. */
  nonUtf8: string[];
}

/** `readdir(dir, { withFileTypes: true })`, with the entries of non-UTF-8 names set apart. */
export async function readDirChecked(dir: string): Promise<DirListing> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  // The byte-level listing is read only when a lossy name may be there.
  if (!entries.some((e) => e.name.includes('\uFFFD'))) return { entries, nonUtf8: [] };
  const bad = (await fs.readdir(dir, { encoding: 'buffer' })).filter((b) => !isUtf8(b));
  const lossy = new Set(bad.map((b) => b.toString('utf8')));
  return { entries: entries.filter((e) => !lossy.has(e.name)), nonUtf8: bad.map((b) => path.join(dir, escapeName(b))) };
}
