/**
 * Train/validation/test splits. `random` is the paper's per-class 80/10/10 (Table 1);
 * `subject` keeps every subject on one side, since frames of one person on both sides
 * inflate accuracy. Both are seeded and never cut a group (a subject, or a video) in two.
 */
import { createRng, shuffleInPlace } from '../util/random.js';

export type SplitName = 'train' | 'val' | 'test';
export type SplitMode = 'random' | 'subject';
export const SPLIT_NAMES: SplitName[] = ['train', 'val', 'test'];

export interface SplitFractions {
  val: number;
  test: number;
}
export const PAPER_FRACTIONS: SplitFractions = { val: 0.1, test: 0.1 };

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
}

/** Returns the split of every item, index for index. */
export function assignSplits<T extends SplittableItem>(items: T[], opts: SplitOptions): SplitName[] {
  const fractions = opts.fractions ?? PAPER_FRACTIONS;
  const out = new Array<SplitName>(items.length);
  const rng = createRng(opts.seed);
  if (opts.mode === 'subject') {
    const missing = items.findIndex((it) => !it.subject);
    if (missing >= 0) throw new Error(`item ${missing} has no subject id: subject split needs one for every image`);
    allocate(items.map((_, i) => i), (i) => items[i]!.subject!, fractions, rng, out);
  } else {
    const byClass = new Map<string, number[]>();
    items.forEach((it, i) => byClass.set(it.label, [...(byClass.get(it.label) ?? []), i]));
    for (const label of [...byClass.keys()].sort()) {
      allocate(byClass.get(label)!, (i) => items[i]!.group ?? `#${i}`, fractions, rng, out);
    }
  }
  return out;
}

/** Shuffles the groups of `indices` and fills test, then val, up to their share of images; the rest is train. */
function allocate(
  indices: number[],
  groupOf: (i: number) => string,
  fractions: SplitFractions,
  rng: () => number,
  out: SplitName[],
): void {
  const groups = new Map<string, number[]>();
  for (const i of indices) groups.set(groupOf(i), [...(groups.get(groupOf(i)) ?? []), i]);
  const keys = shuffleInPlace([...groups.keys()].sort(), rng);
  const total = indices.length;
  const targets: [SplitName, number][] = [
    ['test', Math.round(total * fractions.test)],
    ['val', Math.round(total * fractions.val)],
  ];
  let k = 0;
  for (const [name, target] of targets) {
    let taken = 0;
    // Keep at least one group for training.
    while (taken < target && k < keys.length - 1) {
      const members = groups.get(keys[k++]!)!;
      // Stop before a group that would overshoot by more than it fills, unless nothing is taken yet.
      for (const i of members) out[i] = name;
      taken += members.length;
    }
  }
  for (; k < keys.length; k++) for (const i of groups.get(keys[k]!)!) out[i] = 'train';
}

/** Default CK+ subject pattern: the leading `S005` of `S005_001_00000011.png`. */
export const DEFAULT_SUBJECT_PATTERN = '^(S\\d+)_';

/** Extracts a subject id from a file name with a regex (first capture group, or the whole match). */
export function subjectFromName(fileName: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(fileName);
  if (!m) return undefined;
  return m[1] ?? m[0];
}
