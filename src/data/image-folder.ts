/**
 * Finds the images of a dataset folder: one subfolder per class (flat), or
 * train/val/test subfolders each holding class folders (split, used as given).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VisemoError } from '../util/errors.js';
import { NON_UTF8_REASON, readDirChecked } from '../util/dir-names.js';
import { normaliseClassName } from './classes.js';
import type { SplitName } from './split.js';
import { SPLIT_NAMES } from './split.js';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp', '.gif']);

export interface ImageItem {
  /** Absolute path. */
  path: string;
  /** Path relative to the dataset root, '/'-separated: the stable id of the image. */
  rel: string;
  /** Normalised class name. */
  label: string;
  /** Base file name. */
  file: string;
  /** Set when the folder is laid out as train/val/test. */
  split?: SplitName;
}

export interface ImageFolder {
  root: string;
  layout: 'flat' | 'split';
  classes: string[];
  items: ImageItem[];
  /** Classes found on disk but left out by the class filter. */
  ignoredClasses: string[];
  /** Files and folders whose names cannot be opened (not valid UTF-8): every command names them as skipped. */
  unreadable: UnreadableEntry[];
}

export interface ScanOptions {
  /** Keep only these (normalised) classes, in this order; every one must exist. */
  classes?: string[];
}

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** A file or folder the scan cannot use, with why: callers name it as skipped. */
export interface UnreadableEntry {
  path: string;
  reason: string;
}

/** Subfolders, links to folders included (a class folder may be a link into a shared dataset). */
async function subdirs(dir: string, unreadable: UnreadableEntry[]): Promise<string[]> {
  const out: string[] = [];
  const { entries, nonUtf8 } = await readDirChecked(dir);
  unreadable.push(...nonUtf8.map((p) => ({ path: p, reason: NON_UTF8_REASON })));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await fs.stat(path.join(dir, e.name)).catch(() => null))?.isDirectory())) out.push(e.name);
  }
  return out.sort();
}

/** Image files under `dir`, recursively, sorted for determinism. */
async function imagesUnder(dir: string, unreadable: UnreadableEntry[]): Promise<string[]> {
  const out: string[] = [];
  const { entries, nonUtf8 } = await readDirChecked(dir);
  unreadable.push(...nonUtf8.map((p) => ({ path: p, reason: NON_UTF8_REASON })));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await imagesUnder(p, unreadable)));
    else if ((e.isFile() || e.isSymbolicLink()) && isImageFile(e.name)) out.push(p);
  }
  return out.sort();
}

/** The images anywhere under `dir`, without labels (label ''): faces a teacher labels (train --unlabeled). */
export async function scanUnlabeled(dirArg: string, unreadable: UnreadableEntry[] = []): Promise<ImageItem[]> {
  const root = path.resolve(dirArg);
  const stat = await fs.stat(root).catch(() => null);
  if (!stat?.isDirectory())
    throw new VisemoError(`unlabeled image folder not found: ${dirArg}`, 'give a folder of face images (any layout; subfolders are searched)');
  const files = await imagesUnder(root, unreadable);
  if (files.length === 0) throw new VisemoError(`no images under ${dirArg}`, `add ${[...IMAGE_EXTENSIONS].join('/')} files`);
  return files.map((p) => ({ path: p, rel: `unlabeled/${path.relative(root, p).split(path.sep).join('/')}`, label: '', file: path.basename(p) }));
}

export async function scanImageFolder(rootArg: string, opts: ScanOptions = {}): Promise<ImageFolder> {
  const root = path.resolve(rootArg);
  const stat = await fs.stat(root).catch(() => null);
  if (!stat) throw new VisemoError(`dataset folder not found: ${rootArg}`, 'give the path of a folder with one subfolder per class');
  if (!stat.isDirectory()) throw new VisemoError(`${rootArg} is not a folder`, 'give a folder with one subfolder per class (e.g. anger/, happiness/)');

  const unreadable: UnreadableEntry[] = [];
  const top = await subdirs(root, unreadable);
  // train/ alone (val and test left empty by a small prepare) is still a split layout.
  const layout = top.includes('train') && top.every((d) => (SPLIT_NAMES as string[]).includes(d)) ? 'split' : 'flat';
  const groups: { dir: string; className: string; split?: SplitName }[] = [];
  if (layout === 'split') {
    for (const split of SPLIT_NAMES) {
      if (!top.includes(split)) continue;
      for (const c of await subdirs(path.join(root, split), unreadable)) groups.push({ dir: path.join(root, split, c), className: c, split });
    }
  } else {
    for (const c of top) groups.push({ dir: path.join(root, c), className: c });
  }

  const found = [...new Set(groups.map((g) => normaliseClassName(g.className)))].sort();
  const wanted = opts.classes ?? found;
  const unknown = wanted.filter((c) => !found.includes(c));
  if (unknown.length > 0) {
    throw new VisemoError(
      `class${unknown.length > 1 ? 'es' : ''} ${unknown.join(', ')} not found in ${rootArg}`,
      `the folder has: ${found.join(', ') || 'no class folders'}; adjust --classes`,
    );
  }
  if (wanted.length < 2) {
    throw new VisemoError(
      `${rootArg} has ${wanted.length} class${wanted.length === 1 ? '' : 'es'}; at least two are needed`,
      'put each class in its own subfolder (e.g. anger/, happiness/)',
    );
  }

  const items: ImageItem[] = [];
  const perClass = new Map<string, number>();
  for (const g of groups) {
    const label = normaliseClassName(g.className);
    if (!wanted.includes(label)) continue;
    for (const p of await imagesUnder(g.dir, unreadable)) {
      items.push({ path: p, rel: path.relative(root, p).split(path.sep).join('/'), label, file: path.basename(p), split: g.split });
      perClass.set(label, (perClass.get(label) ?? 0) + 1);
    }
  }
  const empty = wanted.filter((c) => !perClass.get(c));
  if (empty.length > 0) {
    throw new VisemoError(
      `no images for class ${empty.join(', ')} in ${rootArg}`,
      `add ${[...IMAGE_EXTENSIONS].join('/')} files to that folder, or leave the class out with --classes`,
    );
  }
  return { root, layout, classes: wanted, items, ignoredClasses: found.filter((c) => !wanted.includes(c)), unreadable };
}
