/** DIR/results.json: everything an experiment measured, enough to re-render the report without retraining. */
import type { Metrics } from '../evaluation/types.js';
import type { ModelSummary } from '../model/summary.js';
import type { History, RunMetadata } from '../training/types.js';

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

export interface ExperimentSettings {
  sizes: number[];
  epochs: number;
  batchSize: number;
  seed: number;
  learningRate: number;
  channels: 1 | 3;
  /** The backend asked for; each run's metadata names the one used. */
  backend: string;
  split: 'random' | 'subject';
  subjectPattern?: string;
  /** The --classes asked for, undefined for every class found. */
  classes?: string[];
  limitPerClass?: number;
  /** Validation and test shares (default: the paper's 0.1 and 0.1). */
  fractions?: { val: number; test: number };
  /** The training recipe beyond the paper's (all default to the paper's plain training). */
  arch?: 'paper' | 'visemo';
  /** The --augment spec, as formatTrainAugment writes it. */
  augment?: string;
  labelSmoothing?: number;
  classWeights?: 'none' | 'balanced' | 'sqrt';
  lrSchedule?: 'constant' | 'cosine' | 'step';
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
