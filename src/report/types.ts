/** DIR/results.json: everything an experiment measured, enough to re-render the report without retraining. */
import type { DataRecipe, SplitMode, TrainRecipe } from '../config/recipe.js';
import type { Metrics, Prediction } from '../evaluation/types.js';
import type { ModelSummary } from '../model/summary.js';
import type { History, RunMetadata } from '../model/run-folder.js';

import { SPLIT_NAMES, type SplitName } from '../data/split.js';

export type { SplitName };
export const SPLITS = SPLIT_NAMES;

/** One fold of a cross-validated size. */
export interface FoldResult {
  /** 1 … k */
  fold: number;
  /** The fold's run directory, relative to the experiment directory (size-50/fold-01). */
  runDir: string;
  history: History;
  /** Metrics on the fold's test images. */
  metrics: Metrics;
}

export interface SizeResult {
  size: number;
  /** The run's directory, relative to the experiment directory (size-50; with folds, the folder of the fold runs). */
  runDir: string;
  /** With folds: fold 1's. */
  metadata: RunMetadata;
  /** With folds: fold 1's (the curves figure); each fold's is in folds. */
  history: History;
  /** Metrics on the test split; with folds, of the folds' test images pooled (every image once). */
  metrics: Metrics;
  /** Every test image with its truth and prediction (absent in results of older versions). */
  predictions?: Prediction[];
  /** Cross-validation: the finished folds, in order. */
  folds?: FoldResult[];
  /** Figs. 3.1–3.3: the model built for this size. */
  summary: ModelSummary;
}

/** The sizes trained on one split mode (experiment --splits names several). */
export interface SplitResults {
  split: SplitMode;
  counts: Record<string, Partial<Record<SplitName, number>>>;
  sizes: SizeResult[];
}

export interface MachineInfo {
  /** os.cpus()[0].model */
  processor: string;
  cores: number;
  platform: string;
  node: string;
}

/** The experiment's recipe: every size trains with it; the data recipe's subject pattern only matters for a subject split. */
export interface ExperimentSettings extends Omit<TrainRecipe, 'size'>, Omit<DataRecipe, 'subjectPattern' | 'folds'> {
  sizes: number[];
  /** k of a subject-wise (or, for split 'random', image-wise) k-fold cross-validation; absent: one split. */
  folds?: number;
  /** Every split mode trained, the first being `split` (absent: `split` alone). */
  splits?: SplitMode[];
  /** The backend asked for; each run's metadata names the one used. */
  backend: string;
  subjectPattern?: string;
}

export interface ExperimentResults {
  format: 'visemo-experiment@1';
  dataset: string;
  settings: ExperimentSettings;
  machine: MachineInfo;
  /** Table 1: images per class and split (the split is the same for every size; with folds, fold 1's). */
  counts: Record<string, Partial<Record<SplitName, number>>>;
  /** Finished sizes, in the order of settings.sizes (of the first split mode). */
  sizes: SizeResult[];
  /** The further split modes of --splits, each with its sizes, in order. */
  otherSplits?: SplitResults[];
  createdAt: string;
  updatedAt: string;
}
