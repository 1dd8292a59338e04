import { InvalidArgumentError, Option, type Command } from 'commander';
import type { BackendChoice } from '../engine/backend.js';
import { parseClassOption } from '../data/classes.js';
import { DEFAULT_SUBJECT_PATTERN, type SplitFractions, type SplitMode } from '../data/split.js';
import { TRAIN_DEFAULTS } from '../training/train.js';
import { intOption } from './run-action.js';

export function floatOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${value}'`);
    return n;
  };
}

export function fractionOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n >= 0.5) throw new InvalidArgumentError(`${name} must be a share from 0 to under 0.5, got '${value}'`);
    return n;
  };
}

export function backendOption(): Option {
  return new Option('--backend <name>', "compute backend: 'auto' takes the fastest available (native oneDNN, else wasm)").choices(['auto', 'native', 'wasm', 'cpu']).default('auto');
}

/** What the options added by addTrainingOptions parse to. */
export interface TrainingCliOptions {
  classes: string;
  split: SplitMode;
  subjectPattern: string;
  valFraction: number;
  testFraction: number;
  epochs: number;
  batch: number;
  lr: number;
  channels: number;
  seed: number;
  backend: BackendChoice;
  limitPerClass?: number;
}

/** The data and training options `train` and `experiment` share, with the same names and defaults. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--classes <list>', "'paper' (anger,disgust,fear,happiness,sadness,surprise), 'all', or a comma list", 'all')
    .addOption(new Option('--split <mode>', "'random': per-class 80/10/10 as the paper's Table 1; 'subject': no person on two sides").choices(['random', 'subject']).default(TRAIN_DEFAULTS.split))
    .option('--subject-pattern <regex>', 'regex whose first group is the subject id in a file name', DEFAULT_SUBJECT_PATTERN)
    .option('--val-fraction <share>', 'share of images (of each class, or of subjects) for validation', fractionOption('--val-fraction'), 0.1)
    .option('--test-fraction <share>', 'share for the test split; 0 when you test on another folder (evaluate --data)', fractionOption('--test-fraction'), 0.1)
    .option('--epochs <n>', 'training epochs', intOption('--epochs', 1), TRAIN_DEFAULTS.epochs)
    .option('--batch <n>', 'batch size', intOption('--batch', 1), TRAIN_DEFAULTS.batchSize)
    .option('--lr <rate>', 'Adam learning rate (the paper names neither optimizer nor loss: Adam and categorical cross-entropy are our choice)', floatOption('--lr'), TRAIN_DEFAULTS.learningRate)
    .option('--channels <1|3>', '3 replicates monochrome to three channels as the paper did; 1 is leaner', intOption('--channels', 1), TRAIN_DEFAULTS.channels)
    .option('--seed <n>', 'seed for the split, shuffling and initial weights', intOption('--seed', 0), TRAIN_DEFAULTS.seed)
    .addOption(backendOption())
    .option('--limit-per-class <n>', 'use at most n images per class (quick trials)', intOption('--limit-per-class', 1));
}

/** The parsed shared options as trainRun/runExperiment settings. */
export function trainingSettings(o: TrainingCliOptions) {
  return {
    classes: parseClassOption(o.classes),
    split: o.split,
    subjectPattern: o.subjectPattern,
    fractions: { val: o.valFraction, test: o.testFraction } satisfies SplitFractions,
    epochs: o.epochs,
    batchSize: o.batch,
    learningRate: o.lr,
    channels: (o.channels === 1 ? 1 : 3) as 1 | 3,
    seed: o.seed,
    backend: o.backend,
    limitPerClass: o.limitPerClass,
  };
}
