/** What a training run saves beside its model, read by evaluate, experiment and report. */
import type { SplitMode } from '../data/split.js';
import type { Arch } from '../model/architectures.js';
import type { LrSchedule } from './schedule.js';
import type { TeacherSpec } from './teacher.js';

/** How the loss weighs classes: 'balanced' n/(k·n_c); 'sqrt' its square root (milder); 'none' equal. */
export type ClassWeightMode = 'none' | 'balanced' | 'sqrt';

export interface EpochRecord {
  epoch: number;
  loss: number;
  acc: number;
  valLoss: number;
  valAcc: number;
  /** Wall time of the epoch's training pass, validation excluded. */
  seconds: number;
  /** Mean wall time of one training step (one batch), milliseconds. */
  msPerStep: number;
  /** The epoch's learning rate (runs with a schedule). */
  learningRate?: number;
}

export interface History {
  epochs: EpochRecord[];
  bestEpoch: number;
}

export interface Normalisation {
  /** Per input channel, on 0–1 pixels (the paper's Fig. 4). */
  mean: number[];
  std: number[];
}

/** run/metadata.json */
export interface RunMetadata {
  format: 'visemo-run@1';
  arch: Arch;
  classes: string[];
  inputSize: number;
  channels: 1 | 3;
  normalisation: Normalisation;
  split: { mode: SplitMode | 'given'; seed: number; subjectPattern?: string };
  dataset: { path: string; fingerprint: string; images: Record<'train' | 'val' | 'test', number> };
  training: {
    epochs: number;
    batchSize: number;
    optimizer: string;
    learningRate: number;
    loss: string;
    seed: number;
    backend: string;
    /** The training recipe beyond the paper's (absent in runs made before it existed: none of it). */
    augment?: string;
    labelSmoothing?: number;
    classWeights?: ClassWeightMode;
    /** Per class, in `classes` order, when classWeights is not 'none'. */
    classWeightValues?: number[];
    lrSchedule?: LrSchedule;
    /** The model folder whose weights the run started from (train --init). */
    initFrom?: string;
    /** Knowledge distillation (train --teacher). */
    teacher?: TeacherSpec;
  };
  versions: Record<string, string>;
  commandLine: string;
  createdAt: string;
}
