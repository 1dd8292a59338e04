/**
 * The record phase of `visemo train`: metadata.json (a new run's, or the resumed run's with its
 * epochs and backend updated) and split.json, written before the first epoch so a killed run resumes.
 */
import path from 'node:path';
import { datasetFaceCut } from '../data/face-cut.js';
import { pixelStats } from '../data/decoded-set.js';
import { tf } from '../engine/tf.js';
import { claimRunDir, type RunMetadata } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { version } from '../version.js';
import { formatTrainAugment } from './augment.js';
import { classWeightValues } from './loss.js';
import type { RunPlan } from './run-plan.js';
import type { TrainingData } from './training-data.js';
import type { TrainingTargets } from './training-targets.js';
import type { TrainOptions } from './train-types.js';

export async function recordRun(plan: RunPlan, data: TrainingData, targets: TrainingTargets, opts: TrainOptions): Promise<RunMetadata> {
  const { runDir, resuming, recipe, backend } = plan;
  const metadata = plan.previous ?? (await newMetadata(plan, data, targets, opts));
  if (resuming && metadata.dataset.fingerprint !== data.dataset.fingerprint) {
    throw new VisemoError(`the images in ${plan.data.data} changed since run ${runDir} started`, 'start a new run (another --out, or --force)');
  }
  metadata.training.epochs = recipe.epochs;
  metadata.training.backend = backend;
  if (!resuming) await claimRunDir(runDir, opts.force === true);
  await writeJsonAtomic(path.join(runDir, RUN_FILES.metadata), metadata);
  if (!resuming) await writeJsonAtomic(path.join(runDir, RUN_FILES.split), data.dataset.record);
  return metadata;
}

/** A new run's metadata: its model, data, split and recipe, and the versions that trained it. */
async function newMetadata(plan: RunPlan, data: TrainingData, targets: TrainingTargets, opts: TrainOptions): Promise<RunMetadata> {
  const { recipe, augment, backend, precision } = plan;
  const { dataset, classes, labeled, unlabeled, initFrom, teacher } = data;
  const { soft, softInTrain } = targets;
  const { arch: _a, size: _s, channels: _c, ...training } = recipe;
  const { arch, size, channels, seed } = recipe;
  const weighted = recipe.classWeights !== 'none';
  // Weights learned on one input encoding keep it: the start model's mean and std, not this data's.
  const normalisation = initFrom?.metadata.normalisation ?? pixelStats(labeled, channels);
  return {
    format: 'visemo-run@1',
    arch,
    classes,
    inputSize: size,
    channels,
    normalisation,
    faceCut: (await datasetFaceCut(dataset.folder.root)).cut,
    split: { mode: dataset.record.mode, seed, subjectPattern: dataset.record.subjectPattern, folds: dataset.record.folds },
    dataset: {
      path: dataset.folder.root,
      fingerprint: dataset.fingerprint,
      images: { train: dataset.splits.train.length, val: dataset.splits.val.length, test: dataset.splits.test.length },
      unlabeled: plan.data.unlabeled ? { path: path.resolve(plan.data.unlabeled), images: unlabeled.labels.length } : undefined,
      softTargets: soft ? { file: soft.file, hash: soft.hash, images: softInTrain } : undefined,
    },
    training: {
      ...training,
      augment: formatTrainAugment(augment),
      teacher,
      optimizer: 'adam',
      loss: weighted ? 'weightedCategoricalCrossentropy' : 'categoricalCrossentropy',
      backend,
      precision,
      classWeightValues: weighted ? classWeightValues(labeled.labels, classes.length, recipe.classWeights) : undefined,
      initFrom: initFrom?.dir,
    },
    versions: { visemo: version, tfjs: tf.version.tfjs, node: process.version },
    commandLine: opts.commandLine ?? '',
    createdAt: new Date().toISOString(),
  };
}
