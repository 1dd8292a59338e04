/**
 * Train/validation/test splits. `random` is the paper's per-class 80/10/10 (Table 1);
 * `subject` keeps every subject on one side, since frames of one person on both sides
 * inflate accuracy. Both are seeded and never cut a group (a subject, or a video) in two.
 */
import { PAPER_FRACTIONS, type FoldSpec, type SplitFractions, type SplitMode } from '../config/recipe.js';
import { assignFolds } from './folds.js';
import { createRng, shuffleInPlace } from '../util/random.js';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: SplitName[] = ['train', 'val', 'test'];

export interface SplittableItem {
  label: string;
  /** Subject id; required for `subject` mode. */
  subject?: string;
  /** Items that share a group (e.g. frames of one video) always land on the same side. */
  group?: string;
}

export interface SplitOptions {
  mode: SplitMode;
  seed: number;
  fractions?: SplitFractions;
  /** Test on this fold of a k-fold cross-validation (fractions.test is then unused). */
  folds?: FoldSpec;
}

/** Returns the split of every item, index for index. */
export function assignSplits<T extends SplittableItem>(items: T[], opts: SplitOptions): SplitName[] {
  const fractions = opts.fractions ?? PAPER_FRACTIONS;
  if (opts.folds) return assignFoldSplits(items, opts.mode, opts.seed, fractions.val, opts.folds);
  const out = new Array<SplitName>(items.length);
  const rng = createRng(opts.seed);
  if (opts.mode === 'subject') {
    const missing = items.findIndex((it) => !it.subject);
    if (missing >= 0) throw new Error(`item ${missing} has no subject id: subject split needs one for every image`);
    allocateStratified(items, (i) => items[i]!.subject!, fractions, rng, out);
  } else {
    const byClass = new Map<string, number[]>();
    items.forEach((it, i) => byClass.set(it.label, [...(byClass.get(it.label) ?? []), i]));
    for (const label of [...byClass.keys()].sort()) {
      const members = byClass.get(label)!;
      allocateStratified(items, (i) => items[i]!.group ?? `#${i}`, fractions, rng, out, members);
    }
  }
  return out;
}

/** Fold `fold` of k is the test split; validation is taken from the other folds the split's own way. */
function assignFoldSplits<T extends SplittableItem>(items: T[], mode: SplitMode, seed: number, val: number, folds: FoldSpec): SplitName[] {
  const { k, fold } = folds;
  if (!Number.isInteger(fold) || fold < 1 || fold > k) throw new Error(`fold ${fold} of ${k}: folds are numbered 1 to ${k}`);
  if (mode === 'subject') {
    const missing = items.findIndex((it) => !it.subject);
    if (missing >= 0) throw new Error(`item ${missing} has no subject id: subject split needs one for every image`);
  }
  const groupOf = (it: T) => (mode === 'subject' ? it.subject : it.group);
  const foldOf = assignFolds(
    items.map((it) => ({ label: it.label, group: groupOf(it) })),
    k,
    seed,
  );
  const rest = items.map((_, i) => i).filter((i) => foldOf[i] !== fold - 1);
  const restSplits = assignSplits(
    rest.map((i) => items[i]!),
    { mode, seed, fractions: { val, test: 0 } },
  );
  const out = new Array<SplitName>(items.length).fill('test');
  rest.forEach((i, j) => (out[i] = restSplits[j]!));
  return out;
}

/**
 * Assigns whole groups (subjects, videos) to test and val so that each split gets close to its
 * share of every class, then the rest to train. Groups are visited in seeded random order; a group
 * goes where it fills the most unmet per-class need without overshooting more than it fills.
 */
function allocateStratified(
  items: SplittableItem[],
  groupOf: (i: number) => string,
  fractions: SplitFractions,
  rng: () => number,
  out: SplitName[],
  indices: number[] = items.map((_, i) => i),
): void {
  const groups = new Map<string, number[]>();
  for (const i of indices) {
    const g = groupOf(i);
    const list = groups.get(g);
    if (list) list.push(i);
    else groups.set(g, [i]);
  }
  const classTotals = countByClass(items, indices);
  const need: Record<'test' | 'val', Map<string, number>> = {
    test: new Map([...classTotals].map(([c, n]) => [c, Math.round(n * fractions.test)])),
    val: new Map([...classTotals].map(([c, n]) => [c, Math.round(n * fractions.val)])),
  };
  const keys = shuffleInPlace([...groups.keys()].sort(), rng);
  const gainFor = (split: 'test' | 'val', counts: Map<string, number>) => {
    let filled = 0;
    let over = 0;
    for (const [c, n] of counts) {
      const want = need[split].get(c) ?? 0;
      filled += Math.min(n, want);
      over += Math.max(0, n - want);
    }
    return { filled, gain: filled - over };
  };
  const side = new Map<string, SplitName>();
  const take = (key: string, split: 'test' | 'val', counts: Map<string, number>) => {
    side.set(key, split);
    for (const [c, n] of counts) need[split].set(c, Math.max(0, (need[split].get(c) ?? 0) - n));
  };
  for (const key of keys) {
    const counts = countByClass(items, groups.get(key)!);
    let best: 'test' | 'val' | 'train' = 'train';
    let bestGain = 0;
    for (const split of ['test', 'val'] as const) {
      const { filled, gain } = gainFor(split, counts);
      if (filled > 0 && gain > bestGain) [best, bestGain] = [split, gain];
    }
    if (best === 'train') side.set(key, 'train');
    else take(key, best, counts);
  }
  // With few groups every one may overshoot: still give test and val one group each when a
  // wanted split is empty and at least one group would stay for training.
  for (const split of ['test', 'val'] as const) {
    const wanted = [...need[split].values()].some((n) => n > 0);
    if (!wanted || [...side.values()].includes(split)) continue;
    const trainKeys = keys.filter((k) => side.get(k) === 'train');
    if (trainKeys.length < 2) continue;
    const scored = trainKeys.map((k) => ({ k, counts: countByClass(items, groups.get(k)!) })).map((g) => ({ ...g, gain: gainFor(split, g.counts).gain }));
    const pick = scored.reduce((a, b) => (b.gain > a.gain ? b : a));
    take(pick.k, split, pick.counts);
  }
  // Keep at least one group for training.
  if (![...side.values()].includes('train') && keys.length > 0) side.set(keys[keys.length - 1]!, 'train');
  for (const [key, members] of groups) for (const i of members) out[i] = side.get(key)!;
}

function countByClass(items: SplittableItem[], indices: number[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of indices) m.set(items[i]!.label, (m.get(items[i]!.label) ?? 0) + 1);
  return m;
}

/** Extracts a subject id from a file name with a regex (first capture group, or the whole match). */
export function subjectFromName(fileName: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(fileName);
  if (!m) return undefined;
  return m[1] ?? m[0];
}
