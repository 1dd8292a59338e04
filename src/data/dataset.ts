/**
 * From a dataset folder to the three splits a run trains, validates and tests on.
 * The split is recorded (split.json) so that evaluation later uses exactly the same test set.
 */
import { promises as fs } from 'node:fs';
import { VisemoError } from '../util/errors.js';
import { hashHex } from '../util/hash.js';
import { createRng, shuffleInPlace } from '../util/random.js';
import { scanImageFolder, type ImageFolder, type ImageItem } from './image-folder.js';
import { assignSplits, SPLIT_NAMES, subjectFromName, type SplitName } from './split.js';
import { DEFAULT_SUBJECT_PATTERN, PAPER_FRACTIONS, type FoldSpec, type SplitFractions, type SplitMode } from '../config/recipe.js';

export interface DatasetOptions {
  data: string;
  classes?: string[];
  split: SplitMode;
  seed: number;
  subjectPattern?: string;
  /** Keep at most this many images per class (seeded choice): for quick runs and tests. */
  limitPerClass?: number;
  /** Shares of validation and test images (default: the paper's 10% and 10%). */
  fractions?: SplitFractions;
  /** Test on one fold of a k-fold cross-validation. */
  folds?: FoldSpec;
}

/** split.json */
export interface SplitRecord {
  mode: SplitMode | 'given';
  seed: number;
  subjectPattern?: string;
  fractions?: SplitFractions;
  classes: string[];
  limitPerClass?: number;
  /** The cross-validation fold tested (absent for a plain split). */
  folds?: FoldSpec;
  /** [dataset-relative path, class] per image. */
  files: Record<SplitName, [string, string][]>;
}

export interface PreparedDataset {
  folder: ImageFolder;
  splits: Record<SplitName, ImageItem[]>;
  record: SplitRecord;
  fingerprint: string;
}

export async function prepareDataset(opts: DatasetOptions): Promise<PreparedDataset> {
  const folder = await scanImageFolder(opts.data, { classes: opts.classes });
  let items = folder.items;
  if (opts.limitPerClass) items = limitPerClass(items, opts.limitPerClass, opts.seed);

  let assignment: SplitName[];
  let mode: SplitMode | 'given' = opts.split;
  if (folder.layout === 'split') {
    if (opts.folds)
      throw new VisemoError(
        `${opts.data} has its own train/val/test folders, so it cannot be cross-validated`,
        'give a folder with one subfolder per class, or drop --folds',
      );
    mode = 'given';
    assignment = items.map((it) => it.split!);
  } else if (opts.split === 'subject') {
    const pattern = compileSubjectPattern(opts.subjectPattern ?? DEFAULT_SUBJECT_PATTERN);
    const subjects = items.map((it) => subjectFromName(it.file, pattern));
    const bad = items.filter((_, i) => subjects[i] === undefined);
    if (bad.length > 0) {
      throw new VisemoError(
        `${bad.length} of ${items.length} file names have no subject id for pattern /${pattern.source}/ (e.g. ${bad[0]!.rel})`,
        'pass --subject-pattern with a regex whose first group is the subject, or use --split random',
      );
    }
    assignment = assignSplits(
      items.map((it, i) => ({ label: it.label, subject: subjects[i] })),
      { mode: 'subject', seed: opts.seed, fractions: opts.fractions, folds: opts.folds },
    );
  } else {
    assignment = assignSplits(items, { mode: 'random', seed: opts.seed, fractions: opts.fractions, folds: opts.folds });
  }

  const splits: Record<SplitName, ImageItem[]> = { train: [], val: [], test: [] };
  items.forEach((it, i) => splits[assignment[i]!].push(it));
  if (splits.train.length === 0) throw new VisemoError(`no training images in ${opts.data}`, 'add images or check the train/ folder');
  const record: SplitRecord = {
    mode,
    seed: opts.seed,
    subjectPattern: opts.split === 'subject' && mode !== 'given' ? (opts.subjectPattern ?? DEFAULT_SUBJECT_PATTERN) : undefined,
    fractions: mode === 'given' ? undefined : (opts.fractions ?? PAPER_FRACTIONS),
    classes: folder.classes,
    limitPerClass: opts.limitPerClass,
    folds: opts.folds,
    files: Object.fromEntries(SPLIT_NAMES.map((s) => [s, splits[s].map((it) => [it.rel, it.label])])) as SplitRecord['files'],
  };
  return { folder, splits, record, fingerprint: await fingerprint(items) };
}

export function compileSubjectPattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new VisemoError(`--subject-pattern '${source}' is not a valid regular expression (${(err as Error).message})`, "e.g. '^(S\\d+)_' for CK+ names");
  }
}

function limitPerClass(items: ImageItem[], n: number, seed: number): ImageItem[] {
  const rng = createRng(seed ^ 0x9e3779b9);
  const byClass = new Map<string, ImageItem[]>();
  for (const it of items) byClass.set(it.label, [...(byClass.get(it.label) ?? []), it]);
  const kept = new Set([...byClass.values()].flatMap((list) => shuffleInPlace([...list], rng).slice(0, n)));
  return items.filter((it) => kept.has(it));
}

/** A short hash of the image list with file sizes: changes when images are added, removed or replaced. */
async function fingerprint(items: ImageItem[]): Promise<string> {
  const lines: string[] = [];
  for (const it of items) {
    const st = await fs.stat(it.path).catch(() => null);
    lines.push(`${it.rel}\t${it.label}\t${st?.size ?? -1}\n`);
  }
  return hashHex(lines, 16);
}
