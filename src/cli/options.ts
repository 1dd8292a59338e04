import { InvalidArgumentError, Option, type Command } from 'commander';
import type { BackendChoice } from '../engine/backend.js';
import { parseClassOption } from '../data/classes.js';
import { DEFAULT_SUBJECT_PATTERN, type SplitFractions, type SplitMode } from '../data/split.js';
import { TRAIN_DEFAULTS } from '../training/train.js';
import { ARCHITECTURES, type Arch } from '../model/architectures.js';
import { parseTrainAugment } from '../training/augment.js';
import { CLASS_WEIGHT_MODES } from '../training/loss.js';
import { LR_SCHEDULES, type LrSchedule } from '../training/schedule.js';
import type { ClassWeightMode } from '../training/types.js';
import { intOption } from './run-action.js';

/** Help text of --tta, shared by evaluate and predict. */
export const TTA_HELP = 'test-time flip: average each face with its mirror image (slower, often a little more accurate)';

export function floatOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${value}'`);
    return n;
  };
}

/** A number from 0 to 1 inclusive. */
export function unitOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be from 0 to 1, got '${value}'`);
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
  arch: Arch;
  augment: string;
  labelSmoothing: number;
  classWeights: ClassWeightMode;
  lrSchedule: LrSchedule;
}

function smoothingOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`--label-smoothing must be a share from 0 to under 1, got '${value}'`);
  return n;
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
    .option('--limit-per-class <n>', 'use at most n images per class (quick trials)', intOption('--limit-per-class', 1))
    .addOption(new Option('--arch <name>', "'paper': the paper's CNN exactly; 'visemo': our smaller, more accurate net (batch norm, global pooling)").choices([...ARCHITECTURES]).default('paper'))
    .option('--augment <spec>', "fresh random variants of the training images every epoch: 'none', 'default' (rotate=15,crop=0.15,flip,noise=0.03) or a comma list", 'none')
    .option('--label-smoothing <share>', 'spread this share of each target over all classes (e.g. 0.1)', smoothingOption, 0)
    .addOption(new Option('--class-weights <mode>', "weigh rare classes up in the loss: 'balanced' n/(k·n_c), 'sqrt' its square root").choices(CLASS_WEIGHT_MODES).default('none'))
    .addOption(new Option('--lr-schedule <name>', "learning rate per epoch: 'cosine' decays to 1% of --lr, 'step' ×0.1 at each third").choices([...LR_SCHEDULES]).default('constant'));
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
    arch: o.arch,
    augment: parseTrainAugment(o.augment),
    labelSmoothing: o.labelSmoothing,
    classWeights: o.classWeights,
    lrSchedule: o.lrSchedule,
  };
}
