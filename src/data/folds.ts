/**
 * k-fold cross-validation folds that never cut a group: with subjects as the groups, every
 * person's images are tested in exactly one fold and the model tested on them never saw that
 * person. Folds are stratified by class as far as whole groups allow: groups are placed largest
 * first (seeded order among equals), each into the fold whose per-class counts it brings closest
 * to an equal share (sum of squared shortfalls), so a rare class spreads across the folds.
 */
import { VisemoError } from '../util/errors.js';
import { createRng, shuffleInPlace } from '../util/random.js';

export interface FoldItem {
  label: string;
  /** Items of one group (a subject, a video) always share a fold; undefined: the item alone. */
  group?: string;
}

/** The fold (0 … k−1) of every item, index for index; deterministic for a seed. */
export function assignFolds(items: FoldItem[], k: number, seed: number): number[] {
  if (!Number.isInteger(k) || k < 2) throw new VisemoError(`cross-validation needs at least 2 folds, got ${k}`, 'give --folds 2 or more (10 is usual for CK+)');
  const groups = new Map<string, number[]>();
  items.forEach((it, i) => {
    const g = it.group ?? `#${i}`;
    const list = groups.get(g);
    if (list) list.push(i);
    else groups.set(g, [i]);
  });
  if (groups.size < k) throw new VisemoError(`${k} folds need at least ${k} groups (subjects), found ${groups.size}`, `give --folds ${groups.size} or fewer`);
  const classes = [...new Set(items.map((it) => it.label))].sort();
  const ci = new Map(classes.map((c, j) => [c, j]));
  const target = classes.map((c) => items.filter((it) => it.label === c).length / k);
  const targetSize = items.length / k;
  const counts = Array.from({ length: k }, () => new Array<number>(classes.length).fill(0));
  const sizes = new Array<number>(k).fill(0);

  const rng = createRng(seed ^ 0x2545f491);
  const order = shuffleInPlace([...groups.keys()].sort(), rng);
  // Stable sort: largest groups first, the seeded order among groups of one size.
  order.sort((a, b) => groups.get(b)!.length - groups.get(a)!.length);
  const out = new Array<number>(items.length);
  let empty = k;
  order.forEach((key, placed) => {
    const members = groups.get(key)!;
    const g = new Array<number>(classes.length).fill(0);
    for (const i of members) g[ci.get(items[i]!.label)!]!++;
    // Every fold gets a group: once the groups left are as many as the empty folds, only those qualify.
    const onlyEmpty = order.length - placed <= empty;
    let best = -1;
    let bestCost = Infinity;
    for (let f = 0; f < k; f++) {
      if (onlyEmpty && sizes[f]! > 0) continue;
      let cost = 0;
      for (let j = 0; j < classes.length; j++) {
        if (g[j] === 0) continue;
        cost += (counts[f]![j]! + g[j]! - target[j]!) ** 2 - (counts[f]![j]! - target[j]!) ** 2;
      }
      cost += ((sizes[f]! + members.length - targetSize) ** 2 - (sizes[f]! - targetSize) ** 2) / classes.length;
      if (cost < bestCost - 1e-9 || (Math.abs(cost - bestCost) <= 1e-9 && sizes[f]! < sizes[best]!)) [best, bestCost] = [f, cost];
    }
    if (sizes[best] === 0) empty--;
    for (let j = 0; j < classes.length; j++) counts[best]![j]! += g[j]!;
    sizes[best]! += members.length;
    for (const i of members) out[i] = best;
  });
  return out;
}
