import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  ARCHITECTURES,
  CLASS_WEIGHT_MODES,
  DATA_DEFAULTS,
  DISTILL_DEFAULTS,
  LR_SCHEDULES,
  RECIPE_DEFAULTS,
  SPLIT_MODES,
  type Arch,
  type ClassWeightMode,
  type DataRecipe,
  type LrSchedule,
  type SplitMode,
  type TrainRecipe,
} from '../config/recipe.js';
import { parseClassOption } from '../data/classes.js';
import { BACKEND_CHOICES, INFERENCE_BACKEND_CHOICES, type BackendChoice, type InferenceBackendChoice } from '../engine/backend.js';
import { PRECISION_CHOICES } from '../engine/precision.js';
import { AUGMENT_SYNTAX, formatTrainAugment, parseTrainAugment } from '../training/augment.js';
import { userLine, VisemoError } from '../util/errors.js';
import { DEFAULT_MAX_PENDING, DEFAULT_PIXEL_BUDGET, defaultWorkers, MAX_DEFAULT_WORKERS } from '../server/server.js';
import { DETECTOR_CHOICES, type DetectorChoice } from '../image/face-detector.js';
import { DEFAULT_VIDEO_FPS } from '../inference/predict.js';
import { INFERENCE_DEFAULTS } from '../config/inference.js';
import { DEFAULT_MODEL } from '../model/run-folder.js';
import { DEFAULT_QUEUE, DEFAULT_REDIS_URL } from '../queue/job.js';
import { parseRedisUrl } from '../queue/redis-url.js';

/** Help text of --tta, shared by evaluate and predict. */
export const TTA_HELP = 'test-time flip: average each face with its mirror image (slower, often a little more accurate)';

/** --models of compare and audit: what a model may be named. */
export const MODELS_HELP = "comma list of bundled model names, run folders, and 'faceapi' (face-api.js's expression net)";

/** Parses an integer option (min ≤ n ≤ max), naming it in the error. */
export function intOption(name: string, min = 1, max = Infinity): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer ${max < Infinity ? `from ${min} to ${max}` : `of at least ${min}`}, got '${value}'`);
    }
    return n;
  };
}

/** A number within [min, max]. */
export function numberOption(name: string, min: number, max = Infinity): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number from ${min}${max < Infinity ? ` to ${max}` : ''}, got '${value}'`);
    return n;
  };
}

/** --min-face-score, the same for prepare and predict. */
export function minFaceScoreOption(defaultScore = INFERENCE_DEFAULTS.minFaceScore): Option {
  return new Option('--min-face-score <p>', 'ignore detections the face detector scores below this')
    .argParser(numberOption('--min-face-score', 0.05, 1))
    .default(defaultScore);
}

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

/** The one --backend option ('auto' by default: native oneDNN where its addon is built, else wasm). */
export function backendOption(
  defaultBackend: BackendChoice = INFERENCE_DEFAULTS.backend,
  help = "compute backend: 'auto' takes the fastest available (native oneDNN, else wasm)",
): Option {
  return new Option('--backend <name>', help).choices([...BACKEND_CHOICES]).default(defaultBackend);
}

/**
 * The one --precision option. Its help says what this version does: its native addon has no bf16
 * kernels yet, so 'auto' computes in fp32 and 'bf16' is refused with the reason.
 */
export function precisionOption(extra = ''): Option {
  return new Option(
    '--precision <p>',
    "compute precision: 'fp32', or 'bf16' on the native backend where the CPU has avx512_bf16 or AMX (amx_bf16); 'auto' takes bf16 where the CPU, the backend and the addon all allow it, else fp32. " +
      `This version's native addon has no bf16 kernels yet: 'auto' computes in fp32 and 'bf16' is refused, naming what is missing${extra}`,
  )
    .choices([...PRECISION_CHOICES])
    .default('auto');
}

/** --backend of predict and compare: the tfjs backends, and 'onnx' for the emotion model on onnxruntime-node. */
export function inferenceBackendOption(defaultBackend: InferenceBackendChoice, help: string): Option {
  return new Option('--backend <name>', `${help}; 'onnx' runs the emotion model on onnxruntime-node (the same graph visemo export writes), the rest on wasm`)
    .choices([...INFERENCE_BACKEND_CHOICES])
    .default(defaultBackend);
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
  channels: '1' | '3';
  seed: number;
  backend: BackendChoice;
  limitPerClass?: number;
  arch: Arch;
  width?: number;
  augment: string;
  labelSmoothing: number;
  classWeights: ClassWeightMode;
  lrSchedule: LrSchedule;
  teacher?: string;
  unlabeled?: string;
  distillWeight: number;
  temperature: number;
  folds?: number;
  /** train only: which fold of --folds to test on. */
  fold?: number;
}

function smoothingOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`--label-smoothing must be a share from 0 to under 1, got '${value}'`);
  return n;
}

/** --augment: checked and written in its one canonical form, so runs and experiments compare equal. */
function augmentOption(value: string): string {
  try {
    return formatTrainAugment(parseTrainAugment(value));
  } catch (err) {
    throw new InvalidArgumentError(userLine(err));
  }
}

const R = RECIPE_DEFAULTS;
const D = DATA_DEFAULTS;

/** The data and training options `train` and `experiment` share, with the same names and the recipe's defaults. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--classes <list>', "'paper' (anger,disgust,fear,happiness,sadness,surprise), 'all', or a comma list", 'all')
    .addOption(
      new Option('--split <mode>', "'random': per-class 80/10/10 as the paper's Table 1; 'subject': no person on two sides")
        .choices([...SPLIT_MODES])
        .default(D.split),
    )
    .option('--subject-pattern <regex>', 'regex whose first group is the subject id in a file name', D.subjectPattern)
    .option('--val-fraction <share>', 'share of images (of each class, or of subjects) for validation', fractionOption('--val-fraction'), D.fractions.val)
    .option(
      '--test-fraction <share>',
      'share for the test split; 0 when you test on another folder (evaluate --data)',
      fractionOption('--test-fraction'),
      D.fractions.test,
    )
    .option('--epochs <n>', 'training epochs', intOption('--epochs', 1), R.epochs)
    .option('--batch <n>', 'batch size', intOption('--batch', 1), R.batchSize)
    .option(
      '--lr <rate>',
      'Adam learning rate (the paper names neither optimizer nor loss: Adam and categorical cross-entropy are our choice)',
      floatOption('--lr'),
      R.learningRate,
    )
    .addOption(
      new Option('--channels <n>', '3 replicates monochrome to three channels as the paper did; 1 is leaner').choices(['1', '3']).default(String(R.channels)),
    )
    .option('--seed <n>', 'seed for the split, shuffling and initial weights', intOption('--seed', 0), R.seed)
    .option(
      '--folds <k>',
      'k-fold cross-validation: folds of whole subjects for --split subject (stratified by class as far as subjects allow), of single images for --split random; --val-fraction of the other folds validates, --test-fraction is unused',
      intOption('--folds', 2),
    )
    .addOption(backendOption())
    .option('--limit-per-class <n>', 'use at most n images per class (quick trials)', intOption('--limit-per-class', 1))
    .addOption(
      new Option('--arch <name>', "'paper': the paper's CNN exactly; 'visemo': our smaller, more accurate net (batch norm, global pooling)")
        .choices([...ARCHITECTURES])
        .default(R.arch),
    )
    .option(
      '--width <factor>',
      "the visemo net's filters per stage times this (default 1: 32, 64, 128, 192); --init from a narrower model widens it, keeping what it computes",
      floatOption('--width'),
    )
    .option('--augment <spec>', `fresh random variants of the training images every epoch: ${AUGMENT_SYNTAX} (erase: random erasing)`, augmentOption, R.augment)
    .option('--label-smoothing <share>', 'spread this share of each target over all classes (e.g. 0.1)', smoothingOption, R.labelSmoothing)
    .addOption(
      new Option('--class-weights <mode>', "weigh rare classes up in the loss: 'balanced' n/(k·n_c), 'sqrt' its square root")
        .choices([...CLASS_WEIGHT_MODES])
        .default(R.classWeights),
    )
    .addOption(
      new Option('--lr-schedule <name>', "learning rate per epoch: 'cosine' decays to 1% of --lr, 'step' ×0.1 at each third")
        .choices([...LR_SCHEDULES])
        .default(R.lrSchedule),
    )
    .option(
      '--teacher <models>',
      "knowledge distillation: mix these models' class probabilities into the targets ('faceapi', a bundled name or a run folder; a comma list is averaged); scored once per image and cached",
    )
    .option('--unlabeled <dir>', 'also train on the faces under this folder, which have no labels: they learn from the teachers alone (needs --teacher)')
    .option(
      '--distill-weight <w>',
      'share of each target taken from the teachers, 0 to 1 (unlabeled images: all)',
      unitOption('--distill-weight'),
      DISTILL_DEFAULTS.weight,
    )
    .option('--temperature <T>', "soften the teachers' probabilities: p^(1/T), renormalised", floatOption('--temperature'), DISTILL_DEFAULTS.temperature);
}

/** The training recipe the shared options describe (the input size is each command's own). */
export function recipeFromCli(o: TrainingCliOptions): Omit<TrainRecipe, 'size' | 'channels'> & { channels?: 1 | 3 } {
  return {
    arch: o.arch,
    width: o.width,
    channels: o.channels === undefined ? undefined : o.channels === '1' ? 1 : 3,
    epochs: o.epochs,
    batchSize: o.batch,
    learningRate: o.lr,
    lrSchedule: o.lrSchedule,
    seed: o.seed,
    augment: o.augment,
    labelSmoothing: o.labelSmoothing,
    classWeights: o.classWeights,
    teacher: o.teacher
      ? {
          models: o.teacher
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean),
          weight: o.distillWeight,
          temperature: o.temperature,
        }
      : undefined,
  };
}

/** The data recipe the shared options describe; --folds becomes one fold only where --fold names it (train). */
export function dataRecipeFromCli(o: TrainingCliOptions): DataRecipe {
  if (o.fold !== undefined && o.folds === undefined) throw new VisemoError('--fold needs --folds k', 'e.g. --folds 10 --fold 3');
  if (o.fold !== undefined && o.folds !== undefined && o.fold > o.folds)
    throw new VisemoError(`--fold ${o.fold} is beyond --folds ${o.folds}`, `folds are numbered 1 to ${o.folds}`);
  return {
    folds: o.folds !== undefined && o.fold !== undefined ? { k: o.folds, fold: o.fold } : undefined,
    classes: parseClassOption(o.classes),
    split: o.split,
    subjectPattern: o.subjectPattern,
    fractions: { val: o.valFraction, test: o.testFraction },
    limitPerClass: o.limitPerClass,
    unlabeled: o.unlabeled,
  };
}

/** `visemo serve`'s options for recognition under load. */
export interface ServeLoadCliOptions {
  workers: number;
  /** Megapixels. */
  decodeBudget: number;
  maxPending: number;
}

export function addServeLoadOptions(cmd: Command): Command {
  return cmd
    .option(
      '--workers <n>',
      `worker threads that run POST /api/recognize, each with its own tfjs engine: one per core by default, at most ${MAX_DEFAULT_WORKERS}; 0 runs them in the server's own thread, one at a time`,
      intOption('--workers', 0, 64),
      defaultWorkers(),
    )
    .option(
      '--decode-budget <megapixels>',
      'megapixels decoded at once over all requests (each image weighed from its header); requests beyond it wait their turn',
      intOption('--decode-budget', 1),
      DEFAULT_PIXEL_BUDGET / 1e6,
    )
    .option(
      '--max-pending <n>',
      'recognition requests in progress at most (uploading, waiting or running); beyond it 503 with Retry-After, before the body is read',
      intOption('--max-pending', 1),
      DEFAULT_MAX_PENDING,
    );
}

/** --detector, as predict, queue add and serve take it. */
export function detectorOption(help: string): Option {
  return new Option('--detector <model>', help).choices(DETECTOR_CHOICES).default(INFERENCE_DEFAULTS.detector);
}

/** --redis URL, checked as the queue will read it (queue add, queue status, worker). */
export function redisOption(): Option {
  return new Option('--redis <url>', 'the Redis server holding the queue: redis://[user:password@]host[:port][/db], rediss:// for TLS')
    .argParser((value: string) => {
      try {
        parseRedisUrl(value);
      } catch (err) {
        throw new InvalidArgumentError(userLine(err));
      }
      return value;
    })
    .default(DEFAULT_REDIS_URL);
}

/** --queue NAME: one queue per corpus or set of settings, if you like. */
export function queueNameOption(): Option {
  return new Option('--queue <name>', 'the BullMQ queue name').default(DEFAULT_QUEUE).argParser((value: string) => {
    if (!/^[A-Za-z0-9._-]+$/.test(value)) throw new InvalidArgumentError(`--queue must be letters, digits, '.', '_' or '-', got '${value}'`);
    return value;
  });
}

/** What addVideoAnalysisOptions parses to: predict's options that decide a video's result. */
export interface VideoAnalysisCliOptions {
  model?: string;
  fps: number;
  detector: DetectorChoice;
  minFaceScore: number;
  margin?: number;
  tta?: boolean;
}

/** predict's result-deciding options, declared once for predict and queue add. */
export function addVideoAnalysisOptions(cmd: Command): Command {
  return cmd
    .option('-m, --model <name|dir>', `a bundled model name or a run folder written by visemo train (default: the bundled '${DEFAULT_MODEL}')`)
    .option('--fps <n>', 'video frames analysed per second (0: every frame)', numberOption('--fps', 0), DEFAULT_VIDEO_FPS)
    .addOption(
      detectorOption(
        "face detector: 'auto' (SSD on images; BlazeFace, about 8x cheaper, on video frames), 'ssd' (most accurate; the crop margin is measured on its boxes), 'tiny' (about 3x faster than ssd, looser boxes) or 'blazeface' (boxes mapped onto SSD's)",
      ),
    )
    .addOption(minFaceScoreOption())
    .option(
      '--margin <fraction>',
      "room around the face box on each side (default: the margin the model's training faces were cut with)",
      numberOption('--margin', -0.2, 2),
    )
    .option('--tta', TTA_HELP);
}

/** Parses "subject,random" into split modes, naming a bad entry. */
export function splitModeList(value: string): SplitMode[] {
  return value.split(',').map((s) => {
    const m = s.trim();
    if (!(SPLIT_MODES as readonly string[]).includes(m)) throw new InvalidArgumentError(`--splits takes ${SPLIT_MODES.join(', ')}, got '${s}'`);
    return m as SplitMode;
  });
}

/** A duration: '0.5s', '500ms' or a bare number of seconds; 0 allowed (off). */
export function secondsOption(name: string): (value: string) => number {
  return (value: string) => {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(s|ms)?\s*$/i.exec(value);
    if (!m) throw new InvalidArgumentError(`${name} must be a duration such as 0.5s, 500ms or 0 (off), got '${value}'`);
    const n = Number(m[1]);
    return m[2]?.toLowerCase() === 'ms' ? n / 1000 : n;
  };
}
