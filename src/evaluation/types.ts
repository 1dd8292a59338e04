/** metrics.json: what evaluate computes and the report shows. */
export interface ClassMetrics {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

export interface Metrics {
  classes: string[];
  n: number;
  accuracy: number;
  perClass: ClassMetrics[];
  macro: Averages;
  weighted: Averages;
  /** confusion[true][predicted], counts. */
  confusion: number[][];
}

/** One scored image: its dataset-relative path, true and predicted class index (for paired tests). */
export type Prediction = [rel: string, truth: number, predicted: number];
