/**
 * `visemo train`: the paper's CNN on an image folder. Adam and categorical cross-entropy by default
 * (the paper names neither), batch 32, seeded; validation after every epoch; the best model by
 * validation accuracy is kept; a checkpoint after every epoch makes --resume possible.
 */
import os from 'node:os';
import path from 'node:path';
import { tf, useBackend, type BackendChoice } from '../engine/backend.js';
import { batchInput, decodeItems, pixelStats, type DecodedSet } from '../data/decoded-set.js';
import { prepareDataset, type SplitRecord } from '../data/dataset.js';
import type { SplitFractions, SplitMode } from '../data/split.js';
import { buildModel, MIN_SIZE, type Arch } from '../model/architectures.js';
import { resolveModel } from '../inference/models.js';
import { loadModel, loadTensors, saveModel, saveTensors } from '../model/model-io.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { createRng, shuffleInPlace } from '../util/random.js';
import { startProgress } from '../util/progress.js';
import { version } from '../version.js';
import { argmax, predictSet } from '../model/predict-set.js';
import { checkRunDirFree, claimRunDir, findCheckpoint, replaceCheckpoint, RUN_FILES, runDirState } from './run-files.js';
import { augmentBatch, formatTrainAugment, isIdentity, parseTrainAugment, type TrainAugment } from './augment.js';
import { classWeightValues, weightedCrossentropy } from './loss.js';
import { initWeightsFrom } from './init-weights.js';
import { mixTargets, teacherTargets, type TeacherSpec } from './teacher.js';
import { FACEAPI_MODEL } from '../inference/classifier.js';
import { learningRateAt, setLearningRate, type LrSchedule } from './schedule.js';
import type { ClassWeightMode, EpochRecord, History, RunMetadata } from './types.js';

export interface TrainOptions {
  data: string;
  out: string;
  size: number;
  classes?: string[];
  split: SplitMode;
  subjectPattern?: string;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  channels: 1 | 3;
  backend: BackendChoice;
  force?: boolean;
  resume?: boolean;
  limitPerClass?: number;
  /** Validation and test shares for a folder without train/val/test (default 0.1 and 0.1). */
  fractions?: SplitFractions;
  /** Recorded in metadata.json. */
  commandLine?: string;
  /** Model architecture (default 'paper', the paper's CNN). */
  arch?: Arch;
  /** Random variants of every training batch, fresh each epoch (default none). */
  augment?: TrainAugment;
  /** Share of each target's mass spread over all classes (default 0). */
  labelSmoothing?: number;
  /** Class weights in the loss, for rare classes (default 'none'). */
  classWeights?: ClassWeightMode;
  /** Learning rate per epoch (default 'constant'). */
  lrSchedule?: LrSchedule;
  /**
   * Start from this model's weights instead of random ones (fine-tuning, or a warm restart): a
   * bundled model's name or a run folder.
   * It must have the same architecture, input size and channels; its normalisation is kept. Classes
   * it lacks start with fresh classifier weights.
   */
  init?: string;
  /** Knowledge distillation: teacher models whose probabilities are mixed into the targets. */
  teacher?: TeacherSpec;
  /** Where teacher probabilities are cached (default: see defaultCacheDir). */
  cacheDir?: string;
}

export interface TrainResult {
  runDir: string;
  history: History;
  metadata: RunMetadata;
  skipped: { path: string; reason: string }[];
}

export interface TrainHooks {
  /** One line per event (epoch finished, files written, warnings). */
  log?: (line: string) => void;
  onEpoch?: (record: EpochRecord) => void;
}

interface CheckpointState {
  epoch: number;
  history: History;
  bestValAcc: number;
}

export const TRAIN_DEFAULTS = {
  size: 50,
  split: 'random' as SplitMode,
  seed: 42,
  epochs: 15,
  batchSize: 32,
  learningRate: 1e-3,
  channels: 3 as 1 | 3,
  backend: 'auto' as BackendChoice,
};

export async function trainRun(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const arch = opts.arch ?? 'paper';
  if (!(opts.size >= MIN_SIZE[arch])) throw new VisemoError(`--size ${opts.size} is too small for the ${arch} architecture`, `give --size ${MIN_SIZE[arch]} or more`);
  const runDir = path.resolve(opts.out);
  const resuming = opts.resume === true && (await runDirState(runDir)) === 'run';
  if (opts.resume && !resuming) log(`no run to resume in ${runDir}: starting a new one`);
  if (resuming) opts = await optionsForResume(runDir, opts);
  else await checkRunDirFree(runDir, opts.force === true);

  const backend = await useBackend(opts.backend);
  const dataset = await prepareDataset({ data: opts.data, classes: opts.classes, split: opts.split, seed: opts.seed, subjectPattern: opts.subjectPattern, limitPerClass: opts.limitPerClass, fractions: opts.fractions });
  const classes = dataset.folder.classes;
  // Checked before decoding, so a mismatched --init fails at once.
  const initFrom = !resuming && opts.init ? await readInitModel(opts.init, { arch, size: opts.size, channels: opts.channels }) : null;
  const teacher = opts.teacher ? { ...opts.teacher, models: await Promise.all(opts.teacher.models.map(resolveTeacher)) } : undefined;
  if (initFrom && initFrom.metadata.dataset?.fingerprint === dataset.fingerprint && initFrom.metadata.training?.seed === opts.seed) {
    // Shuffles and augmentations are seeded by (seed, epoch): a second cycle would replay the first.
    log(`warning: --init ${opts.init} was trained on these same images with seed ${opts.seed}; this run replays its shuffles and augmentations epoch by epoch: give another --seed for fresh ones`);
  }
  const skipped: TrainResult['skipped'] = [];
  const warnSkip = (s: { path: string; reason: string }) => {
    skipped.push(s);
    log(`warning: skipped ${s.path}: ${s.reason}`);
  };
  const { set: train } = await decodeItems(dataset.splits.train, classes, opts.size, { label: 'decoding train', onSkip: warnSkip });
  const { set: val } = await decodeItems(dataset.splits.val, classes, opts.size, { label: 'decoding val', onSkip: warnSkip });
  if (train.labels.length === 0) throw new VisemoError(`no readable training images in ${opts.data}`, 'check the files named in the warnings above');
  if (val.labels.length === 0) log('warning: the validation split is empty; the last epoch is kept as the model');
  let teacherProbs: Float32Array | null = null;
  if (teacher) {
    // Teachers run on wasm, where face-api's depthwise convolutions are fast; training goes back to its backend.
    await useBackend('wasm', { quiet: true });
    const byRel = new Map(dataset.splits.train.map((it) => [it.rel, it]));
    teacherProbs = await teacherTargets(train.rels.map((r) => byRel.get(r)!), classes, teacher, { cacheDir: opts.cacheDir, log });
    await useBackend(opts.backend, { quiet: true });
  }
  // Weights learned on one input encoding keep it: the start model's mean and std, not this data's.
  const normalisation = initFrom?.metadata.normalisation ?? pixelStats(train, opts.channels);

  const metadata: RunMetadata = resuming
    ? await readJson<RunMetadata>(path.join(runDir, RUN_FILES.metadata))
    : {
        format: 'visemo-run@1',
        arch: opts.arch ?? 'paper',
        classes,
        inputSize: opts.size,
        channels: opts.channels,
        normalisation,
        split: { mode: dataset.record.mode, seed: opts.seed, subjectPattern: dataset.record.subjectPattern },
        dataset: {
          path: dataset.folder.root,
          fingerprint: dataset.fingerprint,
          images: { train: dataset.splits.train.length, val: dataset.splits.val.length, test: dataset.splits.test.length },
        },
        training: {
          epochs: opts.epochs,
          batchSize: opts.batchSize,
          optimizer: 'adam',
          learningRate: opts.learningRate,
          loss: opts.classWeights && opts.classWeights !== 'none' ? 'weightedCategoricalCrossentropy' : 'categoricalCrossentropy',
          seed: opts.seed,
          backend,
          augment: formatTrainAugment(opts.augment ?? parseTrainAugment('none')),
          labelSmoothing: opts.labelSmoothing ?? 0,
          classWeights: opts.classWeights ?? 'none',
          classWeightValues: opts.classWeights && opts.classWeights !== 'none' ? classWeightValues(train.labels, classes.length, opts.classWeights) : undefined,
          lrSchedule: opts.lrSchedule ?? 'constant',
          initFrom: initFrom?.dir,
          teacher,
        },
        versions: { visemo: version, tfjs: tf.version.tfjs, node: process.version },
        commandLine: opts.commandLine ?? '',
        createdAt: new Date().toISOString(),
      };
  if (resuming && metadata.dataset.fingerprint !== dataset.fingerprint) {
    throw new VisemoError(`the images in ${opts.data} changed since run ${runDir} started`, 'start a new run (another --out, or --force)');
  }
  metadata.training.epochs = opts.epochs;
  metadata.training.backend = backend;
  if (!resuming) await claimRunDir(runDir, opts.force === true);
  await writeJsonAtomic(path.join(runDir, RUN_FILES.metadata), metadata);
  if (!resuming) await writeJsonAtomic(path.join(runDir, RUN_FILES.split), dataset.record);

  const model = buildModel({ arch: metadata.arch ?? 'paper', size: opts.size, numClasses: classes.length, channels: opts.channels, seed: opts.seed });
  const optimizer = tf.train.adam(opts.learningRate);
  const weightValues = metadata.training.classWeightValues;
  const weights = weightValues ? tf.tensor1d(weightValues) : null;
  model.compile({ optimizer, loss: weights ? weightedCrossentropy(weights) : 'categoricalCrossentropy', metrics: ['accuracy'] });

  let state: CheckpointState = { epoch: 0, history: { epochs: [], bestEpoch: 0 }, bestValAcc: -1 };
  const ckpt = resuming ? await findCheckpoint(runDir) : null;
  // A run killed before its first checkpoint resumes from its --init weights again.
  const initDir = ckpt ? undefined : metadata.training.initFrom;
  if (initDir) {
    const start = await loadModel(initDir);
    const startClasses = (await readJson<RunMetadata>(path.join(initDir, RUN_FILES.metadata))).classes;
    const { fresh } = initWeightsFrom(model, start, startClasses, classes);
    start.dispose();
    log(`starting from the weights of ${initDir}${fresh.length ? ` (new classes start fresh: ${fresh.join(', ')})` : ''}`);
  }
  if (resuming) {
    if (ckpt) {
      state = await readJson<CheckpointState>(path.join(ckpt, RUN_FILES.checkpointState));
      const saved = await loadModel(ckpt);
      model.setWeights(saved.getWeights());
      saved.dispose();
      await optimizer.setWeights(await loadTensors(ckpt, 'optimizer'));
      log(`resuming ${runDir} after epoch ${state.epoch} of ${opts.epochs}`);
    }
  }

  const norm = metadata.normalisation;
  for (let epoch = state.epoch + 1; epoch <= opts.epochs; epoch++) {
    const schedule = metadata.training.lrSchedule ?? 'constant';
    const learningRate = learningRateAt(schedule, opts.learningRate, epoch, opts.epochs);
    setLearningRate(optimizer, learningRate);
    const record = await trainEpoch(model, train, val, { ...opts, numClasses: classes.length, norm, epoch, teacher: teacherProbs && teacher ? { probs: teacherProbs, weight: teacher.weight } : null });
    if (schedule !== 'constant') record.learningRate = learningRate;
    state.history.epochs.push(record);
    hooks.onEpoch?.(record);
    const improved = val.labels.length === 0 || record.valAcc > state.bestValAcc;
    if (improved) {
      state.bestValAcc = record.valAcc;
      state.history.bestEpoch = epoch;
      await saveModel(model, runDir);
    }
    state.epoch = epoch;
    await replaceCheckpoint(runDir, async (dir) => {
      await saveModel(model, dir);
      await saveTensors(await optimizer.getWeights(), dir, 'optimizer');
      await writeJsonAtomic(path.join(dir, RUN_FILES.checkpointState), state);
    });
    await writeHistory(runDir, state.history);
    log(formatEpoch(record, opts.epochs, improved));
  }
  if (state.history.epochs.length === 0) await writeHistory(runDir, state.history);
  model.dispose();
  optimizer.dispose();
  weights?.dispose();
  return { runDir, history: state.history, metadata, skipped };
}

/** A resumed run keeps its data, size, classes, split and seed; only --epochs may grow. */
async function optionsForResume(runDir: string, opts: TrainOptions): Promise<TrainOptions> {
  const meta = await readJson<RunMetadata>(path.join(runDir, RUN_FILES.metadata));
  const split = await readJson<SplitRecord>(path.join(runDir, RUN_FILES.split));
  return {
    ...opts,
    data: meta.dataset.path,
    size: meta.inputSize,
    channels: meta.channels,
    classes: meta.classes,
    split: split.mode === 'given' ? 'random' : split.mode,
    subjectPattern: split.subjectPattern,
    seed: meta.split.seed,
    batchSize: meta.training.batchSize,
    learningRate: meta.training.learningRate,
    limitPerClass: split.limitPerClass,
    fractions: split.fractions,
    epochs: Math.max(opts.epochs, meta.training.epochs),
    arch: meta.arch ?? 'paper',
    augment: parseTrainAugment(meta.training.augment ?? 'none'),
    labelSmoothing: meta.training.labelSmoothing ?? 0,
    classWeights: meta.training.classWeights ?? 'none',
    lrSchedule: meta.training.lrSchedule ?? 'constant',
    teacher: meta.training.teacher,
  };
}

/** The --init model's metadata, checked against the run it starts: a mismatch names the field and the fix. */
async function readInitModel(dir: string, want: { arch: Arch; size: number; channels: 1 | 3 }): Promise<{ dir: string; metadata: RunMetadata }> {
  let abs: string;
  try {
    abs = (await resolveModel(dir)).dir;
  } catch (err) {
    if (err instanceof VisemoError) throw new VisemoError(`--init: ${err.message}`, err.hint);
    throw err;
  }
  const metadata = await readJson<RunMetadata>(path.join(abs, RUN_FILES.metadata));
  const have = { arch: metadata.arch ?? 'paper', size: metadata.inputSize, channels: metadata.channels };
  const need = { arch: want.arch, size: want.size, channels: want.channels };
  const flags = { arch: '--arch', size: '--size', channels: '--channels' } as const;
  for (const key of Object.keys(need) as (keyof typeof need)[]) {
    if (have[key] !== need[key]) throw new VisemoError(`--init ${dir} has ${key} ${have[key]}, this run ${need[key]}`, `train with ${flags[key]} ${have[key]}`);
  }
  return { dir: abs, metadata };
}

/** A teacher is 'faceapi', a bundled model's name (kept as the name) or a run folder (made absolute). */
async function resolveTeacher(name: string): Promise<string> {
  if (name === FACEAPI_MODEL) return name;
  try {
    const resolved = await resolveModel(name);
    return resolved.bundled ? name : resolved.dir;
  } catch (err) {
    if (err instanceof VisemoError) throw new VisemoError(`--teacher: ${err.message}`, err.hint);
    throw err;
  }
}

interface EpochContext extends Omit<TrainOptions, 'teacher'> {
  numClasses: number;
  teacher: { probs: Float32Array; weight: number } | null;
  norm: RunMetadata['normalisation'];
  epoch: number;
}

async function trainEpoch(model: tf.LayersModel, train: DecodedSet, val: DecodedSet, ctx: EpochContext): Promise<EpochRecord> {
  // Seeded per epoch, so a resumed run sees the same order an uninterrupted one would.
  const order = shuffleInPlace(Array.from({ length: train.labels.length }, (_, i) => i), createRng(ctx.seed * 1000 + ctx.epoch));
  const steps = Math.ceil(order.length / ctx.batchSize);
  const bar = startProgress(steps, `epoch ${ctx.epoch}/${ctx.epochs}`, 'loss {loss} acc {acc}');
  let lossSum = 0;
  let accSum = 0;
  let seen = 0;
  // Its own seeded stream per epoch, like the order: a resumed run augments as an uninterrupted one.
  const augment = ctx.augment && !isIdentity(ctx.augment) ? ctx.augment : null;
  const augRng = createRng((ctx.seed * 1000 + ctx.epoch) ^ 0x5bd1e995);
  const start = performance.now();
  for (let s = 0; s < steps; s++) {
    const idx = order.slice(s * ctx.batchSize, (s + 1) * ctx.batchSize);
    const x = augment ? batchInput(augmentBatch(train, idx, augment, augRng), idx.map((_, k) => k), ctx.norm, ctx.channels) : batchInput(train, idx, ctx.norm, ctx.channels);
    const y = tf.tensor2d(mixTargets(train.labels, ctx.numClasses, ctx.labelSmoothing ?? 0, ctx.teacher, idx), [idx.length, ctx.numClasses]);
    const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
    x.dispose();
    y.dispose();
    lossSum += loss! * idx.length;
    accSum += acc! * idx.length;
    seen += idx.length;
    bar.update(s + 1, { loss: (lossSum / seen).toFixed(4), acc: (accSum / seen).toFixed(4) });
  }
  const seconds = (performance.now() - start) / 1000;
  bar.stop();
  const v = val.labels.length > 0 ? evaluateLossAcc(model, val, ctx.norm, ctx.channels) : { loss: NaN, acc: NaN };
  return { epoch: ctx.epoch, loss: lossSum / seen, acc: accSum / seen, valLoss: v.loss, valAcc: v.acc, seconds, msPerStep: (seconds * 1000) / steps };
}

function evaluateLossAcc(model: tf.LayersModel, set: DecodedSet, norm: RunMetadata['normalisation'], channels: 1 | 3): { loss: number; acc: number } {
  const probs = predictSet(model, set, norm, channels);
  let loss = 0;
  let correct = 0;
  probs.forEach((p, i) => {
    const truth = set.labels[i]!;
    loss -= Math.log(Math.max(p[truth]!, 1e-7));
    if (argmax(p) === truth) correct++;
  });
  return { loss: loss / probs.length, acc: correct / probs.length };
}


async function writeHistory(runDir: string, history: History): Promise<void> {
  await writeJsonAtomic(path.join(runDir, RUN_FILES.history), history);
  const rows = history.epochs.map((e) => [e.epoch, e.loss, e.acc, e.valLoss, e.valAcc, e.seconds, e.msPerStep].join(','));
  await writeFileAtomic(path.join(runDir, RUN_FILES.historyCsv), ['epoch,loss,acc,val_loss,val_acc,seconds,ms_per_step', ...rows].join(os.EOL) + os.EOL);
}

function formatEpoch(r: EpochRecord, epochs: number, best: boolean): string {
  const f = (n: number) => (Number.isNaN(n) ? '  n/a ' : n.toFixed(4));
  return (
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  loss ${f(r.loss)}  acc ${f(r.acc)}  ` +
    `val_loss ${f(r.valLoss)}  val_acc ${f(r.valAcc)}  ${r.seconds.toFixed(1)} s (${r.msPerStep.toFixed(0)} ms/step)${best ? '  * best' : ''}`
  );
}
