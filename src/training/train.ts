/**
 * `visemo train`: the paper's CNN on an image folder. Adam and categorical cross-entropy by default
 * (the paper names neither), batch 32, seeded; validation after every epoch; the best model by
 * validation accuracy is kept; a checkpoint after every epoch makes --resume possible.
 *
 * trainRun runs the phases in order: plan (run-plan.ts), data (training-data.ts), targets
 * (training-targets.ts), record (run-record.ts), then the model built or restored and the epochs
 * here; what it allocates is freed in a finally, also when a phase throws.
 */
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { buildModel } from '../model/architectures.js';
import { loadModel, saveModel } from '../model/model-io.js';
import { readRunMetadata, type History, type RunMetadata } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { findCheckpoint, replaceCheckpoint } from './checkpoint.js';
import { writeHistory } from './history-files.js';
import { initWeightsFrom } from './init-weights.js';
import { labelTargets } from '../data/soft-targets.js';
import { weightedCrossentropy } from './loss.js';
import { restoreOptimizer, saveOptimizer } from './optimizer-state.js';
import { planRun, type RunPlan } from './run-plan.js';
import { recordRun } from './run-record.js';
import { learningRateAt, setLearningRate } from './schedule.js';
import { formatEpoch, trainEpoch } from './train-epoch.js';
import { loadTrainingData, type TrainingData } from './training-data.js';
import { trainingTargets, type TrainingTargets } from './training-targets.js';
import type { Log, TrainHooks, TrainOptions, TrainResult } from './train-types.js';

export type { TrainHooks, TrainOptions, TrainResult } from './train-types.js';

interface CheckpointState {
  epoch: number;
  history: History;
  bestValAcc: number;
}

/** The model being trained with its optimizer and class weights: what trainRun must free. */
interface Trainer {
  model: tf.LayersModel;
  optimizer: tf.AdamOptimizer;
  weights: tf.Tensor1D | null;
}

export async function trainRun(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const plan = await planRun(opts, log);
  const data = await loadTrainingData(plan, opts, log);
  const targets = await trainingTargets(plan, data, opts, log);
  const metadata = await recordRun(plan, data, targets, opts);
  const trainer = buildTrainer(plan, data.classes.length, metadata);
  try {
    const state = await restoreTrainer(trainer, plan, data.classes, metadata, log);
    await runEpochs(trainer, state, { plan, data, targets, metadata }, hooks, log);
    if (state.history.epochs.length === 0) await writeHistory(plan.runDir, state.history);
    return { runDir: plan.runDir, history: state.history, metadata, skipped: data.skipped };
  } finally {
    disposeTrainer(trainer);
  }
}

function buildTrainer(plan: RunPlan, numClasses: number, metadata: RunMetadata): Trainer {
  const { arch, size, channels, seed, width = 1, learningRate } = plan.recipe;
  const model = buildModel({ arch, size, numClasses, channels, seed, width });
  const optimizer = tf.train.adam(learningRate);
  const weightValues = metadata.training.classWeightValues;
  const trainer: Trainer = { model, optimizer, weights: weightValues ? tf.tensor1d(weightValues) : null };
  try {
    model.compile({ optimizer, loss: trainer.weights ? weightedCrossentropy(trainer.weights) : 'categoricalCrossentropy', metrics: ['accuracy'] });
  } catch (err) {
    disposeTrainer(trainer);
    throw err;
  }
  return trainer;
}

function disposeTrainer(t: Trainer): void {
  t.model.dispose();
  t.optimizer.dispose();
  t.weights?.dispose();
}

/** A fresh state, with the --init model's weights copied in, or a resumed run's last checkpoint restored. */
async function restoreTrainer(t: Trainer, plan: RunPlan, classes: string[], metadata: RunMetadata, log: Log): Promise<CheckpointState> {
  const { runDir, resuming, recipe } = plan;
  const ckpt = resuming ? await findCheckpoint(runDir) : null;
  // A run killed before its first checkpoint resumes from its --init weights again.
  const initDir = ckpt ? undefined : metadata.training.initFrom;
  if (initDir) {
    const initMeta = await readRunMetadata(initDir);
    const start = await loadModel(initDir, initMeta);
    try {
      const { fresh } = initWeightsFrom(t.model, start, initMeta.classes, classes, recipe.seed);
      log(`starting from the weights of ${initDir}${fresh.length ? ` (new classes start fresh: ${fresh.join(', ')})` : ''}`);
    } finally {
      start.dispose();
    }
  }
  if (!ckpt) return { epoch: 0, history: { epochs: [], bestEpoch: 0 }, bestValAcc: -1 };
  const state = await readJson<CheckpointState>(path.join(ckpt, RUN_FILES.checkpointState));
  const saved = await loadModel(ckpt);
  try {
    t.model.setWeights(saved.getWeights());
  } finally {
    saved.dispose();
  }
  await restoreOptimizer(t.optimizer, ckpt);
  log(`resuming ${runDir} after epoch ${state.epoch} of ${recipe.epochs}`);
  return state;
}

/** Trains from the epoch after `state`'s to the recipe's last, keeping the best model and a checkpoint after each. */
async function runEpochs(
  t: Trainer,
  state: CheckpointState,
  run: { plan: RunPlan; data: TrainingData; targets: TrainingTargets; metadata: RunMetadata },
  hooks: TrainHooks,
  log: Log,
): Promise<void> {
  const { plan, data, targets, metadata } = run;
  const { recipe, augment, runDir } = plan;
  const { train, val, classes } = data;
  const { soft, teacherProbs } = targets;
  const teacher = data.teacher;
  const epochTargets = {
    labelSmoothing: recipe.labelSmoothing,
    teacher: teacherProbs && teacher ? { probs: teacherProbs, weight: teacher.weight } : null,
    labelRows: soft ? labelTargets(train.rels, train.labels, classes.length, soft) : null,
  };
  for (let epoch = state.epoch + 1; epoch <= recipe.epochs; epoch++) {
    const learningRate = learningRateAt(recipe.lrSchedule, recipe.learningRate, epoch, recipe.epochs);
    setLearningRate(t.optimizer, learningRate);
    const record = await trainEpoch(t.model, train, val, {
      recipe,
      augment,
      norm: metadata.normalisation,
      epoch,
      numClasses: classes.length,
      learningRate,
      kept: state.epoch,
      runDir,
      ...epochTargets,
    });
    if (recipe.lrSchedule !== 'constant') record.learningRate = learningRate;
    state.history.epochs.push(record);
    hooks.onEpoch?.(record);
    const improved = val.labels.length === 0 || record.valAcc > state.bestValAcc;
    if (improved) {
      state.bestValAcc = record.valAcc;
      state.history.bestEpoch = epoch;
      await saveModel(t.model, runDir);
    }
    state.epoch = epoch;
    await replaceCheckpoint(runDir, async (dir) => {
      await saveModel(t.model, dir);
      await saveOptimizer(t.optimizer, dir);
      await writeJsonAtomic(path.join(dir, RUN_FILES.checkpointState), state);
    });
    await writeHistory(runDir, state.history);
    log(formatEpoch(record, recipe.epochs, improved));
  }
}
