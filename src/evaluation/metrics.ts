/** Accuracy, per-class precision/recall/F1/support, macro and weighted averages, confusion matrix. */
import type { Averages, ClassMetrics, Metrics } from './types.js';

export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]!]![predicted[i]!]!++;
  return m;
}

/** Precision or recall of a class with no predictions or no examples is 0 (as scikit-learn reports it). */
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function computeMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: string[]): Metrics {
  if (truth.length !== predicted.length) throw new Error(`truth and predictions differ in length (${truth.length} vs ${predicted.length})`);
  return metricsFromConfusion(confusionMatrix(truth, predicted, classes.length), classes);
}

/** The metrics of a confusion matrix (confusion[true][predicted]): how cross-validation folds are pooled. */
export function metricsFromConfusion(confusion: number[][], classes: string[]): Metrics {
  const k = classes.length;
  const n = confusion.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  let correct = 0;
  for (let c = 0; c < k; c++) correct += confusion[c]![c]!;
  const perClass: ClassMetrics[] = classes.map((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedC = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = ratio(tp, predictedC);
    const recall = ratio(tp, support);
    return { class: name, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const avg = (weight: (m: ClassMetrics) => number): Averages => {
    const total = perClass.reduce((a, m) => a + weight(m), 0);
    const mean = (key: keyof Averages) =>
      ratio(
        perClass.reduce((a, m) => a + m[key] * weight(m), 0),
        total,
      );
    return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') };
  };
  return { classes, n, accuracy: ratio(correct, n), perClass, macro: avg(() => 1), weighted: avg((m) => m.support), confusion };
}

/** The sum of confusion matrices of the same classes (the folds of a cross-validation). */
export function sumConfusions(matrices: number[][][]): number[][] {
  const k = matrices[0]?.length ?? 0;
  const out = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const m of matrices) m.forEach((row, t) => row.forEach((v, p) => (out[t]![p]! += v)));
  return out;
}

/** Images right (the diagonal), for intervals on the accuracy. */
export function correctCount(m: Metrics): number {
  return m.confusion.reduce((a, row, c) => a + row[c]!, 0);
}

/** Images predicted as class c (the column): the n of its precision. */
export function predictedCount(m: Metrics, c: number): number {
  return m.confusion.reduce((a, row) => a + row[c]!, 0);
}
