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
  const k = classes.length;
  const confusion = confusionMatrix(truth, predicted, k);
  const n = truth.length;
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
    const mean = (key: keyof Averages) => ratio(perClass.reduce((a, m) => a + m[key] * weight(m), 0), total);
    return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') };
  };
  return { classes, n, accuracy: ratio(correct, n), perClass, macro: avg(() => 1), weighted: avg((m) => m.support), confusion };
}
