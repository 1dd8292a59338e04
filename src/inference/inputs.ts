/**
 * What `predict` was asked to look at: image and video files, and folders searched recursively.
 * Anything it cannot use is reported by name instead of stopping the run.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isImageFile } from '../data/image-folder.js';
import { isVideoFile } from '../image/video.js';
import { NON_UTF8_REASON, readDirChecked } from '../util/dir-names.js';

export type InputKind = 'image' | 'video';

export interface InputFile {
  path: string;
  kind: InputKind;
  /** Path relative to the folder given (or the file's own name): used for annotated copies. */
  rel: string;
}

export interface InputProblem {
  path: string;
  reason: string;
}

export function kindOf(file: string): InputKind | null {
  if (isImageFile(file)) return 'image';
  if (isVideoFile(file)) return 'video';
  return null;
}

/** Files under `dir`, sorted; files whose names cannot be opened (not UTF-8) are added to `problems`, not lost. */
async function walk(dir: string, problems: InputProblem[]): Promise<string[]> {
  const out: string[] = [];
  const { entries, nonUtf8 } = await readDirChecked(dir);
  problems.push(...nonUtf8.map((p) => ({ path: p, reason: NON_UTF8_REASON })));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    const stat = await fs.stat(p).catch(() => null);
    if (stat?.isDirectory()) out.push(...(await walk(p, problems)));
    else if (stat?.isFile()) out.push(p);
  }
  return out.sort();
}

/**
 * Expands `args` into files to process, in order. A file named on the command line with an
 * unknown extension is tried as an image (decoding tells); inside folders such files are
 * reported and skipped, as are empty folders and paths that do not exist.
 */
export async function collectInputs(args: string[]): Promise<{ files: InputFile[]; problems: InputProblem[] }> {
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  for (const arg of args) {
    const stat = await fs.stat(arg).catch(() => null);
    if (!stat) {
      problems.push({ path: arg, reason: 'does not exist' });
    } else if (stat.isDirectory()) {
      const found = await walk(arg, problems).catch((err: Error) => {
        problems.push({ path: arg, reason: `cannot read folder (${err.message})` });
        return null;
      });
      if (!found) continue;
      const usable = found.filter((f) => {
        if (kindOf(f)) return true;
        problems.push({ path: f, reason: 'not an image or video file' });
        return false;
      });
      if (usable.length === 0) problems.push({ path: arg, reason: 'folder has no images or videos' });
      for (const f of usable) files.push({ path: f, kind: kindOf(f)!, rel: path.relative(arg, f) });
    } else {
      files.push({ path: arg, kind: kindOf(arg) ?? 'image', rel: path.basename(arg) });
    }
  }
  return { files, problems };
}
