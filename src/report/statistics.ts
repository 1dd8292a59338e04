/**
 * The statistics the report states about an experiment's results: intervals on accuracies,
 * cross-validation folds' mean and standard deviation, and how two split modes differ.
 */
import { meanSd, newcombeDifference, wilson, type Interval } from '../evaluation/intervals.js';
import { mcnemarExact, type McNemarResult } from '../evaluation/mcnemar.js';
import { correctCount } from '../evaluation/metrics.js';
import type { Metrics } from '../evaluation/types.js';
import type { ExperimentResults, SizeResult, SplitResults } from './types.js';

export function accuracyInterval(m: Metrics): Interval {
  return wilson(correctCount(m), m.n);
}

/** The primary split's sizes and every further split's, in the order --splits named them. */
export function splitParts(results: ExperimentResults): SplitResults[] {
  return [{ split: results.settings.split, counts: results.counts, sizes: results.sizes }, ...(results.otherSplits ?? [])];
}

export interface FoldSummary {
  /** Folds finished (of settings.folds). */
  finished: number;
  accuracies: number[];
  mean: number;
  sd: number;
}

export function foldSummary(r: SizeResult): FoldSummary | undefined {
  if (!r.folds) return undefined;
  const accuracies = r.folds.map((f) => f.metrics.accuracy);
  return { finished: r.folds.length, accuracies, ...meanSd(accuracies) };
}

/** `90.4 ± 3.1 %` */
export function formatMeanSd(s: FoldSummary): string {
  return `${(s.mean * 100).toFixed(1)} ± ${Number.isNaN(s.sd) ? '—' : (s.sd * 100).toFixed(1)} %`;
}

export interface SplitDifference {
  /** first − second, with Newcombe's interval (as if the two test sets were independent). */
  difference: Interval & { difference: number };
  /** When both scored the same images (cross-validation covers every image): the exact McNemar test. */
  paired?: McNemarResult & { images: number };
}

/** How much higher the first split's accuracy is than the second's, for one size. */
export function splitDifference(first: SizeResult, second: SizeResult): SplitDifference {
  const a = first.metrics;
  const b = second.metrics;
  const difference = newcombeDifference(correctCount(a), a.n, correctCount(b), b.n);
  if (!first.predictions || !second.predictions) return { difference };
  const other = new Map(second.predictions.map(([rel, truth, predicted]) => [rel, { truth, predicted }]));
  let shared = 0;
  let onlyFirst = 0;
  let onlySecond = 0;
  for (const [rel, truth, predicted] of first.predictions) {
    const o = other.get(rel);
    if (!o || o.truth !== truth) continue;
    shared++;
    const r1 = predicted === truth;
    const r2 = o.predicted === truth;
    if (r1 && !r2) onlyFirst++;
    else if (r2 && !r1) onlySecond++;
  }
  // Paired only when the two test sets are the same images (not two single splits that overlap by chance).
  if (shared !== first.predictions.length || shared !== second.predictions.length) return { difference };
  return { difference, paired: { ...mcnemarExact(onlyFirst, onlySecond), images: shared } };
}
