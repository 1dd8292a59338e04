/** DIR/results.json: everything an experiment measured, enough to re-render the report without retraining. */
import type { DataRecipe, TrainRecipe } from '../config/recipe.js';
import type { Metrics } from '../evaluation/types.js';
import type { ModelSummary } from '../model/summary.js';
import type { History, RunMetadata } from '../model/run-folder.js';

import { SPLIT_NAMES, type SplitName } from '../data/split.js';

export type { SplitName };
export const SPLITS = SPLIT_NAMES;

export interface SizeResult {
  size: number;
  /** The run's directory, relative to the experiment directory (size-50). */
  runDir: string;
  metadata: RunMetadata;
  history: History;
  /** Metrics on the test split. */
  metrics: Metrics;
  /** Figs. 3.1–3.3: the model built for this size. */
  summary: ModelSummary;
}

export interface MachineInfo {
  /** os.cpus()[0].model */
  processor: string;
  cores: number;
  platform: string;
  node: string;
}

/** The experiment's recipe: every size trains with it; the data recipe's subject pattern only matters for a subject split. */
export interface ExperimentSettings extends Omit<TrainRecipe, 'size'>, Omit<DataRecipe, 'subjectPattern'> {
  sizes: number[];
  /** The backend asked for; each run's metadata names the one used. */
  backend: string;
  subjectPattern?: string;
}

export interface ExperimentResults {
  format: 'visemo-experiment@1';
  dataset: string;
  settings: ExperimentSettings;
  machine: MachineInfo;
  /** Table 1: images per class and split (the split is the same for every size). */
  counts: Record<string, Partial<Record<SplitName, number>>>;
  /** Finished sizes, in the order of settings.sizes. */
  sizes: SizeResult[];
  createdAt: string;
  updatedAt: string;
}
