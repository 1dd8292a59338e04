/**
 * The training recipe: every setting a run is trained with, typed once, with its defaults in one
 * place (as @vladmandic/human keeps one config.ts of defaults). The CLI's flags default to these,
 * trainRun and experiment take a complete recipe, a run's metadata.json records it, and resume
 * and the report read it back. Adding a training option means: a field here, its CLI flag, and the
 * code that uses it.
 *
 * This folder sits below every other: it names the vocabulary (architectures, schedules, class
 * weight modes, split modes) without importing the code that implements it.
 */

export const ARCHITECTURES = ['paper', 'visemo'] as const;
/** 'paper': exactly the paper's CNN; 'visemo': our smaller, more accurate net (src/model/visemo-net.ts). */
export type Arch = (typeof ARCHITECTURES)[number];

export const LR_SCHEDULES = ['constant', 'cosine', 'step'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export const CLASS_WEIGHT_MODES = ['none', 'balanced', 'sqrt'] as const;
/** How the loss weighs classes: 'balanced' n/(k·n_c); 'sqrt' its square root (milder); 'none' equal. */
export type ClassWeightMode = (typeof CLASS_WEIGHT_MODES)[number];

export const SPLIT_MODES = ['random', 'subject'] as const;
/** 'random': the paper's per-class split; 'subject': no person on two sides. */
export type SplitMode = (typeof SPLIT_MODES)[number];

export interface SplitFractions {
  val: number;
  test: number;
}

/**
 * One fold of k-fold cross-validation: the images of fold `fold` (1 … k) are the test split, a
 * validation share (fractions.val) of the rest is taken by the split mode (by subject for
 * 'subject'), and the remainder is trained on. Folds are groups of whole subjects for 'subject'
 * and of single images, stratified by class, for 'random'; fractions.test is then unused.
 */
export interface FoldSpec {
  k: number;
  fold: number;
}

/** Knowledge distillation (train --teacher). */
export interface TeacherSpec {
  /** 'faceapi', bundled model names or run folders (absolute once resolved). */
  models: string[];
  /** Share of each target taken from the teachers (0–1). */
  weight: number;
  /** Teachers' probabilities are softened as p^(1/T), renormalised. */
  temperature: number;
}

/** How a model is trained. */
export interface TrainRecipe {
  arch: Arch;
  /** Input width and height in pixels. */
  size: number;
  /** 3 replicates monochrome to three channels, as the paper did; 1 is leaner. */
  channels: 1 | 3;
  /** The visemo net's filters per stage times this (1: 32, 64, 128, 192); undefined is 1. */
  width?: number;
  epochs: number;
  batchSize: number;
  /** Adam's learning rate (the paper names neither optimizer nor loss). */
  learningRate: number;
  lrSchedule: LrSchedule;
  /** Seeds the split, the shuffles, the augmentations and the initial weights. */
  seed: number;
  /** Fresh random variants of the training images every epoch, as formatTrainAugment writes them ('none' for none). */
  augment: string;
  /** Share of each target's mass spread over all classes. */
  labelSmoothing: number;
  classWeights: ClassWeightMode;
  teacher?: TeacherSpec;
}

/** Which images a run trains, validates and tests on. */
export interface DataRecipe {
  /** Classes to keep (normalised names), in this order; undefined keeps every class found. */
  classes?: string[];
  split: SplitMode;
  /** Regex whose first group is the subject id in a file name (subject split). */
  subjectPattern: string;
  /** Validation and test shares for a folder without train/val/test. */
  fractions: SplitFractions;
  /** At most this many images per class (seeded choice): quick trials and tests. */
  limitPerClass?: number;
  /** Test on one fold of a k-fold cross-validation instead of a test share. */
  folds?: FoldSpec;
  /** A folder of faces without labels, trained on the teachers' probabilities alone (needs a teacher). */
  unlabeled?: string;
}

/** CK+'s S005_001_00000011.png → S005. */
export const DEFAULT_SUBJECT_PATTERN = '^(S\\d+)_';
/** The paper's Table 1: 80/10/10. */
export const PAPER_FRACTIONS: SplitFractions = { val: 0.1, test: 0.1 };

export const RECIPE_DEFAULTS: TrainRecipe = {
  arch: 'paper',
  size: 50,
  channels: 3,
  epochs: 15,
  batchSize: 32,
  learningRate: 1e-3,
  lrSchedule: 'constant',
  seed: 42,
  augment: 'none',
  labelSmoothing: 0,
  classWeights: 'none',
};

export const DATA_DEFAULTS: DataRecipe = {
  split: 'random',
  subjectPattern: DEFAULT_SUBJECT_PATTERN,
  fractions: PAPER_FRACTIONS,
};

export const DISTILL_DEFAULTS = { weight: 0.5, temperature: 2 };

/** The recipe with every unset field at its default: the one place defaults are filled in. */
export function completeRecipe(partial: Partial<TrainRecipe>): TrainRecipe {
  return { ...RECIPE_DEFAULTS, ...definedOnly(partial) };
}

export function completeDataRecipe(partial: Partial<DataRecipe>): DataRecipe {
  return { ...DATA_DEFAULTS, ...definedOnly(partial) };
}

function definedOnly<T extends object>(o: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
