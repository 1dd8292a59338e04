/**
 * The targets phase of `visemo train`: what each training row learns besides its label, the
 * teachers' probabilities (distillation) and the soft targets a dataset brings (soft-targets.csv).
 */
import { readSoftTargets, type SoftTargets } from '../data/soft-targets.js';
import { useBackend } from '../engine/backend.js';
import { FACEAPI_MODEL } from '../inference/classifier.js';
import { VisemoError } from '../util/errors.js';
import type { RunPlan } from './run-plan.js';
import { teacherTargets } from './teacher.js';
import type { TrainingData } from './training-data.js';
import type { Log, TrainOptions } from './train-types.js';

export interface TrainingTargets {
  /** The teachers' probabilities, a row per training row (null without --teacher). */
  teacherProbs: Float32Array | null;
  soft: SoftTargets | null;
  /** How many training rows the soft targets replace. */
  softInTrain: number;
}

export async function trainingTargets(plan: RunPlan, data: TrainingData, opts: TrainOptions, log: Log): Promise<TrainingTargets> {
  const teacherProbs = await teacherProbabilities(plan, data, opts, log);
  // Crowd votes or mixed expressions the dataset brings (soft-targets.csv) replace those images' one-hot labels.
  const { train, dataset, classes } = data;
  const soft = await readSoftTargets(dataset.folder.root, classes);
  const softInTrain = soft ? train.rels.filter((r) => soft.rows.has(r)).length : 0;
  if (soft) log(`soft targets: ${softInTrain} of ${train.rels.length} training images from ${soft.file}`);
  if (plan.resuming && plan.previous?.dataset.softTargets?.hash !== soft?.hash) {
    throw new VisemoError(`the soft targets of ${plan.data.data} changed since run ${plan.runDir} started`, 'start a new run (another --out, or --force)');
  }
  return { teacherProbs, soft, softInTrain };
}

/** Every training row scored by the teachers (each model loaded, used and freed by teacherTargets). */
async function teacherProbabilities(plan: RunPlan, data: TrainingData, opts: TrainOptions, log: Log): Promise<Float32Array | null> {
  const { teacher, dataset, unlabeledItems, train, classes } = data;
  if (!teacher) return null;
  // face-api.js scores on wasm, as the caches of earlier runs were made; our models on the training
  // backend (native is ~20× faster than wasm for a wide teacher, and agrees within 1e-3). Either way
  // an image is scored once and read back from the cache.
  const backendFor = (name: string) => useBackend(name === FACEAPI_MODEL ? 'wasm' : plan.backendChoice, { quiet: true });
  const byRel = new Map([...dataset.splits.train, ...unlabeledItems].map((it) => [it.rel, it]));
  const probs = await teacherTargets(
    train.rels.map((r) => byRel.get(r)!),
    classes,
    teacher,
    { cacheDir: opts.cacheDir, log, backendFor },
  );
  await useBackend(plan.backendChoice, { quiet: true });
  return probs;
}
