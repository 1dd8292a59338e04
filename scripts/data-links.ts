/**
 * What the data scripts (fer-ck-data.ts, wild-data.ts) share: class folders of symbolic links into
 * ../shared (nothing is copied), the CK+ subject split every bundled model holds out, and splits
 * of a flat folder by a group id read from the file name (a person, a film).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAPER_CLASSES } from '../src/data/classes.js';
import { prepareDataset } from '../src/data/dataset.js';
import type { ImageItem } from '../src/data/image-folder.js';
import { assignSplits, type SplitName } from '../src/data/split.js';
import type { SplitFractions } from '../src/config/recipe.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SHARED_DATASETS = path.resolve(here, '../../shared/datasets');
export const DEFAULT_OUT = path.resolve(here, '../../visemo-data');

/** An image to link, and how often (copies > 1 oversample it as name-c1.ext … name-cN.ext). */
export interface LinkItem {
  item: ImageItem;
  copies?: number;
}

/** Removes a folder this script made before: class folders of links only; anything else stops the script. */
export async function removeOwnLinks(dir: string): Promise<void> {
  for (const c of await fs.readdir(dir).catch(() => [])) {
    for (const f of await fs.readdir(path.join(dir, c))) {
      if (!(await fs.lstat(path.join(dir, c, f))).isSymbolicLink())
        throw new Error(`${path.join(dir, c, f)} is not a link this script made: move ${dir} away first`);
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/** The names of an item's links: its file name, or name-c1.ext … name-cN.ext for copies > 1. */
export function linkNames(item: ImageItem, copies = 1): string[] {
  const { name, ext } = path.parse(item.file);
  return copies === 1 ? [item.file] : Array.from({ length: copies }, (_, k) => `${name}-c${k + 1}${ext}`);
}

/** Replaces dir with dir/<class>/ links to the items, named by linkNames (every class in `classes` gets a folder). */
export async function linkClassFolders(dir: string, classes: readonly string[], items: LinkItem[]): Promise<void> {
  await removeOwnLinks(dir);
  for (const c of classes) await fs.mkdir(path.join(dir, c), { recursive: true });
  // A name taken twice fails (EEXIST) rather than silently dropping an image.
  for (const { item, copies = 1 } of items) for (const n of linkNames(item, copies)) await fs.symlink(item.path, path.join(dir, item.label, n));
}

export const once = (items: ImageItem[], copies = 1): LinkItem[] => items.map((item) => ({ item, copies }));

/**
 * CK+ split by subject as every bundled model has it: seed 42, 30% of subjects held out, stratified
 * over the paper's six classes. The held-out subjects are the CK+ test set of every model card.
 */
export async function ckplusSubjectSplit(): Promise<{ train: ImageItem[]; heldOut: ImageItem[] }> {
  const ck = await prepareDataset({
    data: path.join(SHARED_DATASETS, 'ckplus48'),
    classes: [...PAPER_CLASSES],
    split: 'subject',
    seed: 42,
    fractions: { val: 0, test: 0.3 },
  });
  return { train: ck.splits.train, heldOut: ck.splits.test };
}

/** Splits items by a group id read from each file name (no id: the file is its own group), stratified per class. */
export function splitByGroup(items: ImageItem[], groupOf: (file: string) => string, fractions: SplitFractions, seed: number): Record<SplitName, ImageItem[]> {
  const assignment = assignSplits(
    items.map((it) => ({ label: it.label, subject: groupOf(it.file) })),
    { mode: 'subject', seed, fractions },
  );
  const out: Record<SplitName, ImageItem[]> = { train: [], val: [], test: [] };
  items.forEach((it, i) => out[assignment[i]!].push(it));
  return out;
}

/** SFEW: `Airheads_000519240_00000005.jpg`, `OceansThirteen-010619400_00000087.jpg`, `IAmSam_013827920__00000055.jpg` → the film. */
export const sfewFilm = (file: string) => /^(.+?)[_-]\d{6,}_+\d+\.\w+$/.exec(file)?.[1] ?? file;
/** facial_expressions: `George_W_Bush_0001.jpg`, `Dwarakish_65.jpg` → the person (no number: the file is its own person). */
export const fePerson = (file: string) => /^(.+)_\d+\.\w+$/.exec(file)?.[1] ?? file;

export const groupCount = (items: ImageItem[], groupOf: (file: string) => string) => new Set(items.map((it) => groupOf(it.file))).size;
