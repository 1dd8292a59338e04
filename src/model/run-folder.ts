/**
 * What a model folder is: the files a training run writes (model.json + weights.bin, metadata.json,
 * history, split, checkpoint, metrics), the metadata's type and its one validating reader, the
 * bundled models and how a model name or path resolves to a folder. Every reader of run folders
 * (predict, the recogniser, the server, evaluate, average, train --init and --resume, experiment)
 * goes through this module; no other file spells these file names.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { completeRecipe, type Arch, type FoldSpec, type SplitMode, type TrainRecipe } from '../config/recipe.js';
import type { Normalisation } from '../data/decoded-set.js';
import type { Precision } from '../engine/precision.js';
import { datasetFaceCut, type FaceCut } from '../data/face-cut.js';
import type { Calibration } from './calibration.js';
import { readJson } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { metricsFile, RUN_FILES } from './run-files.js';

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

/** metadata.json's `training`: the recipe (less the model's shape, kept at the top) and what the run decided. */
export interface TrainingRecord extends Omit<TrainRecipe, 'arch' | 'size' | 'channels'> {
  optimizer: 'adam';
  loss: string;
  backend: string;
  /** What the run computed in (train --precision, resolved); --resume keeps it. Runs from before it was recorded: fp32. */
  precision: Precision;
  /** Per class, in `classes` order, when classWeights is not 'none'. */
  classWeightValues?: number[];
  /** The model folder whose weights the run started from (train --init). */
  initFrom?: string;
}

/** run/metadata.json */
export interface RunMetadata {
  format: 'visemo-run@1';
  arch: Arch;
  classes: string[];
  inputSize: number;
  channels: 1 | 3;
  normalisation: Normalisation;
  /** How its faces were cut, so inference cuts them the same way (older runs: read from their dataset's manifests). */
  faceCut: FaceCut;
  /** folds: the cross-validation fold tested (train --folds k --fold i, experiment --folds k). */
  split: { mode: SplitMode | 'given'; seed: number; subjectPattern?: string; folds?: FoldSpec };
  dataset: {
    path: string;
    fingerprint: string;
    images: Record<'train' | 'val' | 'test', number>;
    unlabeled?: { path: string; images: number };
    /** The dataset's soft-targets.csv (data/soft-targets.ts), when it has one: its hash and how many training images it covered. */
    softTargets?: { file: string; hash: string; images: number };
  };
  /** Class-prior offsets applied to the model's probabilities at inference (visemo calibrate; calibration.ts). */
  calibration?: Calibration;
  training: TrainingRecord;
  versions: Record<string, string>;
  commandLine: string;
  createdAt: string;
}

/**
 * Reads and checks a folder's metadata.json. Runs made before a recipe field existed trained
 * without it: the field reads as its default (no augmentation, constant rate, …), here and only here.
 */
export async function readRunMetadata(dir: string): Promise<RunMetadata> {
  const file = path.join(dir, RUN_FILES.metadata);
  const meta = await readJson<RunMetadata>(file, HOW_TO_GET);
  const bad =
    !meta || typeof meta !== 'object'
      ? 'is not an object'
      : !Array.isArray(meta.classes) || meta.classes.length < 2
        ? 'lacks its classes'
        : !(Number.isInteger(meta.inputSize) && meta.inputSize > 0)
          ? 'lacks its input size'
          : meta.channels !== 1 && meta.channels !== 3
            ? `has channels ${String(meta.channels)} (1 or 3)`
            : !meta.normalisation?.mean?.length || meta.normalisation.mean.length !== meta.normalisation.std?.length
              ? 'lacks its normalisation'
              : meta.calibration && !(meta.calibration.offsets?.length === meta.classes.length && meta.calibration.offsets.every(Number.isFinite))
                ? `has a calibration that is not one finite offset per class (${meta.classes.length})`
                : null;
  if (bad) throw new VisemoError(`${file} ${bad}`, 'give a run folder written by visemo train');
  const { arch = 'paper', training = {} as Partial<TrainingRecord> } = meta as Partial<RunMetadata>;
  const recipe = completeRecipe({ ...training, arch, size: meta.inputSize, channels: meta.channels });
  const { arch: _a, size: _s, channels: _c, ...rest } = recipe;
  const faceCut = meta.faceCut ?? (await datasetFaceCut(meta.dataset?.path)).cut;
  // Every run before precision was recorded computed in fp32.
  return { ...meta, arch, faceCut, training: { ...training, ...rest, precision: training.precision ?? 'fp32' } as TrainingRecord };
}

/** The recipe a run was trained with, as trainRun takes it (resume continues with it). */
export function recipeOfRun(meta: RunMetadata): TrainRecipe {
  const { optimizer: _o, loss: _l, backend: _b, precision: _p, classWeightValues: _w, initFrom: _i, ...training } = meta.training;
  return completeRecipe({ ...training, arch: meta.arch, size: meta.inputSize, channels: meta.channels });
}

export async function readHistory(dir: string): Promise<History> {
  return readJson<History>(path.join(dir, RUN_FILES.history), 'the run has no finished epoch yet, or the file is damaged');
}

export type RunDirState = 'absent' | 'empty' | 'run' | 'other';

/** The temporary files atomic writes make (util/atomic.ts, checkpoints): what a kill can leave behind. */
const isTempFile = (name: string) => name.startsWith('.') && name.endsWith('.tmp');

/** A run folder's state; temporary files left by a kill do not count (a folder of only those is empty). */
export async function runDirState(dir: string): Promise<RunDirState> {
  const entries = (await fs.readdir(dir).catch(() => null))?.filter((e) => !isTempFile(e)) ?? null;
  if (entries === null) return 'absent';
  if (entries.length === 0) return 'empty';
  return entries.includes(RUN_FILES.metadata) ? 'run' : 'other';
}

/** A finished model: its weights and metadata are there. */
export async function hasModel(dir: string): Promise<boolean> {
  return (await runDirState(dir)) === 'run' && (await isFile(path.join(dir, RUN_FILES.model)));
}

/** Files a run writes at its top level; --force removes these and nothing else. */
const OWNED = [
  RUN_FILES.model,
  RUN_FILES.weights,
  RUN_FILES.metadata,
  RUN_FILES.history,
  RUN_FILES.historyCsv,
  RUN_FILES.split,
  metricsFile('test'),
  metricsFile('val'),
];

/** Refuses a fresh run in `dir` when it would overwrite something without --force; changes nothing. */
export async function checkRunDirFree(dir: string, force: boolean): Promise<void> {
  const state = await runDirState(dir);
  if ((state === 'run' || state === 'other') && !force) {
    throw new VisemoError(
      `output folder ${dir} already exists and is not empty`,
      state === 'run'
        ? 'pass --resume to continue that run, --force to replace it, or choose another --out'
        : 'choose another --out (or --force to write into it)',
    );
  }
}

/**
 * Makes `dir` ready for a fresh run. Called only once the data and options have passed their
 * checks, so a run that fails early neither leaves an empty folder nor removes an old run.
 */
export async function claimRunDir(dir: string, force: boolean): Promise<void> {
  await checkRunDirFree(dir, force);
  await removeTempFiles(dir);
  if (force) {
    // Only our own files go; anything else the user put there stays.
    for (const f of OWNED) await fs.rm(path.join(dir, f), { force: true });
    await fs.rm(path.join(dir, RUN_FILES.checkpoint), { recursive: true, force: true });
    await fs.rm(path.join(dir, `${RUN_FILES.checkpoint}.old`), { recursive: true, force: true });
  }
  await fs.mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new VisemoError(
      `cannot make the run folder ${dir} (${err.code ?? err.message})`,
      err.code === 'ENOTDIR' || err.code === 'EEXIST' ? 'a file stands where a folder of that path should be: choose another --out' : 'choose another --out',
    );
  });
}

/** Removes what a killed write left in a run folder (one process at a time writes a run). */
export async function removeTempFiles(dir: string): Promise<void> {
  for (const e of await fs.readdir(dir).catch(() => [] as string[])) {
    if (isTempFile(e)) await fs.rm(path.join(dir, e), { recursive: true, force: true });
  }
}

/** Bundled models by name → their folder under models/. */
export const BUNDLED_MODELS: Record<string, string> = {
  paper: 'paper-fer50',
  visemo: 'visemo-fer48',
  visemo7: 'visemo7-wild48',
  visemo7p: 'visemo7p-posed48',
};

/**
 * The model used wherever none is named (predict, the library, the API and the web page). The one
 * place to change it. 'visemo7p' (visemo7's net, trained further on FER+'s crowd votes and CFEE's
 * posed faces) passed the rule fixed on validation before any test set was scored (its model card),
 * so it is the default; 'visemo7', 'visemo' and the paper's model stay available by name.
 */
export const DEFAULT_MODEL = 'visemo7p';

/** The package root: this file is src/model/run-folder.ts or dist/model/run-folder.js. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function bundledModelsDir(): string {
  return path.join(PACKAGE_ROOT, 'models');
}

export interface ResolvedModel {
  /** The bundled name ('paper'), or the folder's base name for a run folder. */
  name: string;
  dir: string;
  bundled: boolean;
}

const HOW_TO_GET = `train one with \`visemo train DATASET --out DIR\` and pass --model DIR, or name a bundled model (${Object.keys(BUNDLED_MODELS).join(', ')})`;

/**
 * undefined → the default bundled model; a bundled name → models/<dir>; anything else → a run
 * folder path. Throws a VisemoError naming the path when the folder holds no usable model.
 */
export async function resolveModel(nameOrPath?: string): Promise<ResolvedModel> {
  const key = nameOrPath ?? DEFAULT_MODEL;
  const bundledDir = BUNDLED_MODELS[key];
  const resolved: ResolvedModel = bundledDir
    ? { name: key, dir: path.join(bundledModelsDir(), bundledDir), bundled: true }
    : { name: path.basename(path.resolve(key)), dir: path.resolve(key), bundled: false };
  const missing: string[] = [];
  for (const file of [RUN_FILES.model, RUN_FILES.weights, RUN_FILES.metadata]) {
    if (!(await isFile(path.join(resolved.dir, file)))) missing.push(file);
  }
  if (missing.length > 0) {
    const what = resolved.bundled ? `the bundled model '${key}'` : `model folder ${key}`;
    const where = missing.length === 3 && !(await isDir(resolved.dir)) ? `${resolved.dir} does not exist` : `${resolved.dir} has no ${missing.join(', ')}`;
    throw new VisemoError(`cannot use ${what}: ${where}`, HOW_TO_GET);
  }
  return resolved;
}

/** Bundled models whose files are present, by name. */
export async function availableBundledModels(): Promise<ResolvedModel[]> {
  const out: ResolvedModel[] = [];
  // The default first: the web page opens with the first model listed.
  const names = [DEFAULT_MODEL, ...Object.keys(BUNDLED_MODELS).filter((n) => n !== DEFAULT_MODEL)];
  for (const name of names) {
    try {
      out.push(await resolveModel(name));
    } catch {
      // absent from this checkout: not listed
    }
  }
  return out;
}

async function isFile(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isFile() ?? false;
}

async function isDir(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
}
