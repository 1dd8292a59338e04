import { fixed, formatTable } from '../util/table.js';
import { formatWithInterval } from './intervals.js';
import { accuracyWithInterval, metricIntervals } from './metric-intervals.js';
import type { Metrics } from './types.js';

const share = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The metrics as terminal tables: per-class report with 95 % intervals, averages, and the confusion matrix. */
export function formatMetrics(m: Metrics): string {
  const ci = metricIntervals(m);
  const report = formatTable(
    ['class', 'precision (95% CI)', 'recall (95% CI)', 'f1', 'support'],
    [
      ...m.perClass.map((c, i) => [
        c.class,
        formatWithInterval(c.precision, ci.perClass[i]!.precision),
        formatWithInterval(c.recall, ci.perClass[i]!.recall),
        fixed(c.f1),
        c.support,
      ]),
      ['macro avg', share(m.macro.precision), share(m.macro.recall), fixed(m.macro.f1), m.n],
      ['weighted avg', share(m.weighted.precision), share(m.weighted.recall), fixed(m.weighted.f1), m.n],
    ],
  );
  const short = m.classes.map((c) => c.slice(0, 5));
  const confusion = formatTable(
    ['true \\ predicted', ...short],
    m.confusion.map((row, i) => [m.classes[i]!, ...row]),
  );
  return (
    `accuracy ${accuracyWithInterval(m)} on ${m.n} images\n` +
    '(95 % Wilson intervals in brackets; they treat images as independent, so frames of one person make them too narrow)\n\n' +
    `${report}\n\nconfusion matrix (rows: true class, columns: predicted)\n${confusion}`
  );
}
