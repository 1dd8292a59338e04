import { fixed, formatTable, pct } from '../util/table.js';
import type { Metrics } from './types.js';

/** The metrics as terminal tables: per-class report, averages, and the confusion matrix. */
export function formatMetrics(m: Metrics): string {
  const report = formatTable(
    ['class', 'precision', 'recall', 'f1', 'support'],
    [
      ...m.perClass.map((c) => [c.class, fixed(c.precision), fixed(c.recall), fixed(c.f1), c.support]),
      ['macro avg', fixed(m.macro.precision), fixed(m.macro.recall), fixed(m.macro.f1), m.n],
      ['weighted avg', fixed(m.weighted.precision), fixed(m.weighted.recall), fixed(m.weighted.f1), m.n],
    ],
  );
  const short = m.classes.map((c) => c.slice(0, 5));
  const confusion = formatTable(['true \\ predicted', ...short], m.confusion.map((row, i) => [m.classes[i]!, ...row]));
  return `accuracy ${pct(m.accuracy)} on ${m.n} images\n\n${report}\n\nconfusion matrix (rows: true class, columns: predicted)\n${confusion}`;
}
