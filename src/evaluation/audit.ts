/**
 * `visemo audit`'s arithmetic: does a model recognise emotions as well for every group of people?
 * From each image's true class, group and every model's prediction: per group the accuracy with
 * its Wilson interval, macro F1, recall per class, the confusion matrix and the predicted classes
 * against the true ones; between groups Pearson's chi-square test of homogeneity and every two
 * groups' difference (Newcombe's interval, Fisher's exact test, Holm-corrected); with several
 * models, the exact McNemar test between every two within each group. Pure: no model, no files
 * (run-audit.ts gets the predictions), so it is tested on made-up predictions.
 */
import { computeMetrics, correctCount, predictedCount } from './metrics.js';
import { formatWithInterval, newcombeDifference, wilson, type Interval } from './intervals.js';
import { proportionsHomogeneity, type ChiSquareResult } from './chi-square.js';
import { fisherExact } from './fisher.js';
import { holmAdjust } from './holm.js';
import { mcnemarFromPredictions, pStatement } from './mcnemar.js';
import type { PairedTest } from './compare.js';

/** Groups with fewer images are shown but left out of the between-group tests. */
export const DEFAULT_MIN_GROUP = 20;

export interface GroupScore {
  group: string;
  n: number;
  correct: number;
  accuracy: number;
  /** 95 % Wilson interval on the accuracy. */
  interval: Interval;
  macroF1: number;
  /** Per class (the audit's classes, in order): recall, null where the group has no image of the class. */
  recall: (number | null)[];
  /** 95 % Wilson intervals on those recalls (null likewise). */
  recallIntervals: (Interval | null)[];
  /** confusion[true][predicted]. */
  confusion: number[][];
  /** Images per true class, and per predicted class: a model calling one group's faces 'neutral' shows here. */
  trueCounts: number[];
  predictedCounts: number[];
  /** n ≥ the minimum group size: in the between-group tests. */
  tested: boolean;
}

/** Two groups' accuracies compared: first − second. */
export interface GroupPair {
  first: string;
  second: string;
  /** Difference of accuracies with Newcombe's 95 % interval. */
  difference: Interval & { difference: number };
  /** Fisher's exact two-sided p, and Holm's adjustment over every pair of the breakdown. */
  p: number;
  pHolm: number;
  /** pHolm < 0.05 */
  significant: boolean;
}

export interface ModelAudit {
  model: string;
  /** Every image of the breakdown that has a group. */
  overall: { n: number; correct: number; accuracy: number; interval: Interval; macroF1: number };
  groups: GroupScore[];
  /** Chi-square test of homogeneity of accuracy over the tested groups; null with fewer than two. */
  homogeneity: ChiSquareResult | null;
  pairs: GroupPair[];
  /** In words: whether accuracy differs, which gaps are significant at 5 %, which groups were left out. */
  summary: string;
}

/** The exact McNemar test of two models on one group's images (first and second index the audit's models). */
export interface ModelPairInGroup extends PairedTest {
  group: string;
}

export interface BreakdownAudit {
  /** 'dataset', a CSV column, or the regex's group name. */
  name: string;
  /** Images with a group in this breakdown, and those without (not scored here). */
  n: number;
  ungrouped: number;
  /** Groups under the minimum size: shown, not tested. */
  leftOut: string[];
  models: ModelAudit[];
  /** With several models: every two, within every group (tested or not). */
  modelPairs: ModelPairInGroup[];
}

export interface BreakdownInput {
  name: string;
  /** Each image's group, null for none. */
  groups: (string | null)[];
  /** Each image's true class index. */
  truth: ArrayLike<number>;
  /** Each model's predicted class index per image. */
  predictions: { model: string; predicted: ArrayLike<number> }[];
  classes: string[];
  minGroup?: number;
}

/** Group names in natural order (A2 before A10). */
const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export function auditBreakdown(input: BreakdownInput): BreakdownAudit {
  const { groups, truth, classes } = input;
  const minGroup = input.minGroup ?? DEFAULT_MIN_GROUP;
  if (groups.length !== truth.length) throw new Error(`audit: ${groups.length} groups for ${truth.length} images`);
  const names = [...new Set(groups.filter((g): g is string => g !== null))].sort(byName);
  const members = new Map(names.map((g) => [g, [] as number[]]));
  groups.forEach((g, i) => g !== null && members.get(g)!.push(i));
  const grouped = groups.flatMap((g, i) => (g === null ? [] : [i]));
  const pick = (idx: number[], xs: ArrayLike<number>) => idx.map((i) => xs[i]!);

  const models = input.predictions.map(({ model, predicted }): ModelAudit => {
    if (predicted.length !== truth.length) throw new Error(`audit: ${model} has ${predicted.length} predictions for ${truth.length} images`);
    const all = computeMetrics(pick(grouped, truth), pick(grouped, predicted), classes);
    const allCorrect = correctCount(all);
    const scores = names.map((g) => groupScore(g, members.get(g)!, truth, predicted, classes, minGroup));
    const tested = scores.filter((s) => s.tested);
    const homogeneity =
      tested.length >= 2
        ? proportionsHomogeneity(
            tested.map((s) => s.correct),
            tested.map((s) => s.n),
          )
        : null;
    const pairs = groupPairs(tested);
    const audit: ModelAudit = {
      model,
      overall: { n: all.n, correct: allCorrect, accuracy: all.accuracy, interval: wilson(allCorrect, all.n), macroF1: all.macro.f1 },
      groups: scores,
      homogeneity,
      pairs,
      summary: '',
    };
    audit.summary = describeGroups(audit, minGroup);
    return audit;
  });

  const modelPairs: ModelPairInGroup[] = [];
  for (const g of names) {
    const idx = members.get(g)!;
    const t = pick(idx, truth);
    for (let i = 0; i < input.predictions.length; i++) {
      for (let j = i + 1; j < input.predictions.length; j++) {
        const r = mcnemarFromPredictions(t, pick(idx, input.predictions[i]!.predicted), pick(idx, input.predictions[j]!.predicted));
        modelPairs.push({ group: g, first: i, second: j, ...r, significant: r.p < 0.05 });
      }
    }
  }
  return {
    name: input.name,
    n: grouped.length,
    ungrouped: groups.length - grouped.length,
    leftOut: names.filter((g) => members.get(g)!.length < minGroup),
    models,
    modelPairs,
  };
}

function groupScore(group: string, idx: number[], truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: string[], minGroup: number): GroupScore {
  const m = computeMetrics(
    idx.map((i) => truth[i]!),
    idx.map((i) => predicted[i]!),
    classes,
  );
  const correct = correctCount(m);
  const trueCounts = m.perClass.map((c) => c.support);
  // Macro F1 over the classes this group has: a class absent from a group says nothing about it.
  const present = m.perClass.filter((c) => c.support > 0);
  return {
    group,
    n: m.n,
    correct,
    accuracy: m.accuracy,
    interval: wilson(correct, m.n),
    macroF1: present.length ? present.reduce((a, c) => a + c.f1, 0) / present.length : 0,
    recall: m.perClass.map((c) => (c.support > 0 ? c.recall : null)),
    recallIntervals: m.perClass.map((c, k) => (c.support > 0 ? wilson(m.confusion[k]![k]!, c.support) : null)),
    confusion: m.confusion,
    trueCounts,
    predictedCounts: classes.map((_, k) => predictedCount(m, k)),
    tested: m.n >= minGroup,
  };
}

/** Every two tested groups, in order: the difference of accuracies, Fisher's p, Holm over all pairs. */
export function groupPairs(tested: GroupScore[]): GroupPair[] {
  const raw: Omit<GroupPair, 'pHolm' | 'significant'>[] = [];
  for (let i = 0; i < tested.length; i++) {
    for (let j = i + 1; j < tested.length; j++) {
      const a = tested[i]!;
      const b = tested[j]!;
      raw.push({
        first: a.group,
        second: b.group,
        difference: newcombeDifference(a.correct, a.n, b.correct, b.n),
        p: fisherExact(a.correct, a.n, b.correct, b.n),
      });
    }
  }
  const holm = holmAdjust(raw.map((r) => r.p));
  return raw.map((r, k) => ({ ...r, pHolm: holm[k]!, significant: holm[k]! < 0.05 }));
}

/** Names joined with commas, the first `max` only when there are more (one group per person makes hundreds). */
export function listSome(names: string[], max = 20): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

const pp = (x: number) => `${Math.abs(x * 100).toFixed(1)} pp`;

/** The sentence under a model's group table. */
export function describeGroups(a: ModelAudit, minGroup: number): string {
  const parts: string[] = [];
  const left = a.groups.filter((g) => !g.tested);
  const h = a.homogeneity;
  if (!h) {
    parts.push(
      a.groups.length < 2 ? 'Only one group: nothing to compare it with.' : `Fewer than two groups have ${minGroup} images or more: no between-group test.`,
    );
  } else if (h.df === 0) {
    parts.push(`Every tested group's faces are all right (or all wrong): no difference to test.`);
  } else {
    // Pearson's approximation is rough when expected counts fall under 5 (Cochran's rule): say so.
    const chi = `χ² = ${h.statistic.toFixed(2)}, ${h.df} df, ${pStatement(h.p)}${h.minExpected < 5 ? `; an expected count is ${h.minExpected.toFixed(1)}, under 5, so p is approximate` : ''}`;
    parts.push(
      h.p < 0.05 ? `Accuracy differs between the groups beyond chance (${chi}).` : `No difference in accuracy between the groups beyond chance (${chi}).`,
    );
    const sig = a.pairs.filter((p) => p.significant);
    const family = `Fisher's exact test, Holm-corrected over ${a.pairs.length} pair${a.pairs.length === 1 ? '' : 's'}`;
    if (sig.length === 0) parts.push(`No gap between two groups is significant at 5 % (${family}).`);
    else {
      const gaps = sig.map((p) => {
        const [hi, lo] = p.difference.difference >= 0 ? [p.first, p.second] : [p.second, p.first];
        return `${hi} above ${lo} by ${pp(p.difference.difference)} (${pStatement(p.pHolm)})`;
      });
      parts.push(`Significant at 5 % (${family}): ${gaps.join('; ')}.`);
    }
  }
  if (left.length > 0) parts.push(`Left out of the tests, under ${minGroup} images: ${listSome(left.map((g) => `${g.group} (${g.n})`))}.`);
  return parts.join(' ');
}

/** The class a group's faces are most over-called as: largest predicted share minus true share (null when none is over-called). */
export function mostOverPredicted(g: GroupScore, classes: string[]): { class: string; excess: number } | null {
  if (g.n === 0) return null;
  let best: { class: string; excess: number } | null = null;
  classes.forEach((c, k) => {
    const excess = (g.predictedCounts[k]! - g.trueCounts[k]!) / g.n;
    if (excess > 0 && (!best || excess > best.excess)) best = { class: c, excess };
  });
  return best;
}

/** `72.5 % (61.2–81.5)`. */
export const accuracyText = (g: { accuracy: number; interval: Interval }) => formatWithInterval(g.accuracy, g.interval);
