/** 95 % Wilson intervals on the accuracy and on every class's precision and recall, from the confusion matrix. */
import { formatWithInterval, wilson, type Interval } from './intervals.js';
import { correctCount, predictedCount } from './metrics.js';
import type { Metrics } from './types.js';

export interface MetricIntervals {
  accuracy: Interval;
  /** Per class, in the order of metrics.classes: precision over the images predicted as it, recall over its images. */
  perClass: { class: string; precision: Interval; recall: Interval }[];
}

export function metricIntervals(m: Metrics): MetricIntervals {
  return {
    accuracy: wilson(correctCount(m), m.n),
    perClass: m.classes.map((name, c) => {
      const tp = m.confusion[c]![c]!;
      return { class: name, precision: wilson(tp, predictedCount(m, c)), recall: wilson(tp, m.perClass[c]!.support) };
    }),
  };
}

/** `90.6 % (84.9–94.9)` for the accuracy. */
export function accuracyWithInterval(m: Metrics): string {
  return formatWithInterval(m.accuracy, wilson(correctCount(m), m.n));
}
