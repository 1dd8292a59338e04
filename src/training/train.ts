/**
 * `visemo train`: the paper's CNN on an image folder. Adam and categorical cross-entropy by default
 * (the paper names neither), batch 32, seeded; validation after every epoch; the best model by
 * validation accuracy is kept; a checkpoint after every epoch makes --resume possible.
 */
import os from 'node:os';
import path from 'node:path';
import { completeDataRecipe, completeRecipe, type Arch, type DataRecipe, type TrainRecipe } from '../config/recipe.js';
import { prepareDataset, type SplitRecord } from '../data/dataset.js';
import { scanUnlabeled } from '../data/image-folder.js';
import { datasetFaceCut } from '../data/face-cut.js';
import { labelTargets, readSoftTargets } from '../data/soft-targets.js';
import { batchInput, concatSets, decodeItems, pixelStats, type DecodedSet, type Normalisation } from '../data/decoded-set.js';
import { prepareForTraining, useBackend, type BackendChoice } from '../engine/backend.js';
import { precisionContext, resolvePrecision, type PrecisionChoice } from '../engine/precision.js';
import { tf } from '../engine/tf.js';
import { FACEAPI_MODEL } from '../inference/classifier.js';
import { buildModel, MIN_SIZE } from '../model/architectures.js';
import { loadModel, loadTensors, saveModel, saveTensors } from '../model/model-io.js';
import { predictSet } from '../model/predict-set.js';
import { argmax } from '../util/argmax.js';
import { checkRunDirFree, claimRunDir, readRunMetadata, recipeOfRun, removeTempFiles, resolveModel, runDirState, type EpochRecord, type History, type RunMetadata } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { isInside, realResolve } from '../util/paths.js';
import { startProgress } from '../util/progress.js';
import { createRng, shuffleInPlace } from '../util/random.js';
import { version } from '../version.js';
import { augmentBatch, formatTrainAugment, isIdentity, parseTrainAugment, type TrainAugment } from './augment.js';
import { findCheckpoint, replaceCheckpoint } from './checkpoint.js';
import { withStepDropout } from './dropout-masks.js';
import { initWeightsFrom } from './init-weights.js';
import { classWeightValues, weightedCrossentropy } from './loss.js';
import { learningRateAt, setLearningRate } from './schedule.js';
import { mixTargets, teacherTargets } from './teacher.js';

export interface TrainOptions {
  data: string;
  out: string;
  /** How to train; unset fields take their defaults (src/config/recipe.ts). */
  recipe?: Partial<TrainRecipe>;
  /** Which images; unset fields take their defaults. */
  dataset?: Partial<DataRecipe>;
  backend?: BackendChoice;
  /** 'auto' (the default), 'fp32' or 'bf16' (engine/precision.ts); a resumed run keeps its recorded one. */
  precision?: PrecisionChoice;
  force?: boolean;
  resume?: boolean;
  /**
   * Start from this model's weights instead of random ones (fine-tuning, or a warm restart): a
   * bundled model's name or a run folder. It must have the same architecture, input size and
   * channels; its normalisation is kept. Classes it lacks start with fresh classifier weights.
   */
  init?: string;
  /** Recorded in metadata.json. */
  commandLine?: string;
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

export async function trainRun(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const runDir = path.resolve(opts.out);
  const resuming = opts.resume === true && (await runDirState(runDir)) === 'run';
  if (opts.resume && !resuming) log(`no run to resume in ${runDir}: starting a new one`);
  // A resumed run keeps its data, recipe and split; only the epochs may grow.
  const previous = resuming ? await readRunMetadata(runDir) : undefined;
  if (resuming) await removeTempFiles(runDir);
  const recipe = previous ? { ...recipeOfRun(previous), epochs: Math.max(opts.recipe?.epochs ?? 0, previous.training.epochs) } : completeRecipe(opts.recipe ?? {});
  const data = previous
    ? { ...(await readSplitRecipe(runDir)), unlabeled: previous.dataset.unlabeled?.path, data: previous.dataset.path }
    : { ...completeDataRecipe(opts.dataset ?? {}), data: opts.data };
  if (previous) await checkResumable(runDir, previous, data, opts);
  const { arch, size, channels, seed, width = 1 } = recipe;
  if (!(size >= MIN_SIZE[arch])) throw new VisemoError(`--size ${size} is too small for the ${arch} architecture`, `give --size ${MIN_SIZE[arch]} or more`);
  if (width !== 1 && arch !== 'visemo') throw new VisemoError(`--width ${width} applies to the visemo net only`, 'leave --width out for --arch paper');
  const augment = parseTrainAugment(recipe.augment);
  if (data.unlabeled && !recipe.teacher) throw new VisemoError('--unlabeled images need a teacher to learn from', 'add --teacher faceapi (or a run folder)');
  if (isInside(await realResolve(runDir), await realResolve(data.data))) {
    throw new VisemoError(`--out ${opts.out} is inside the dataset ${data.data}`, 'write the run somewhere else: its files would be read as images of the dataset (a class named after the run)');
  }
  if (!resuming) await checkRunDirFree(runDir, opts.force === true);
  const precisionChoice = opts.precision ?? 'auto';
  if (previous && precisionChoice !== 'auto' && precisionChoice !== previous.training.precision) {
    throw new VisemoError(`--precision ${precisionChoice} differs from ${previous.training.precision}, the precision run ${runDir} was trained in`, `leave --precision out (or give ${previous.training.precision}) to resume it, or start a new run (another --out, or --force)`);
  }

  const backendChoice = opts.backend ?? 'auto';
  const backend = await useBackend(backendChoice);
  // Resolved before anything is written, so a refused precision leaves no run behind. A resumed
  // run's recorded precision is asked for explicitly: on a machine without it, it is refused.
  const precision = resolvePrecision(previous?.training.precision ?? precisionChoice, precisionContext(backend));
  // This version's addon has no bf16 kernels, so resolvePrecision can only return fp32, which is
  // what the steps below compute; an addon with bf16 kernels has to be switched on here too.
  await prepareForTraining();
  const dataset = await prepareDataset({ ...data, seed });
  const classes = dataset.folder.classes;
  // Checked before decoding, so a mismatched --init fails at once.
  const initFrom = !resuming && opts.init ? await readInitModel(opts.init, { arch, size, channels, width }) : null;
  const teacher = recipe.teacher ? { ...recipe.teacher, models: await Promise.all(recipe.teacher.models.map(resolveTeacher)) } : undefined;
  if (initFrom && initFrom.metadata.dataset?.fingerprint === dataset.fingerprint && initFrom.metadata.training.seed === seed) {
    // Shuffles and augmentations are seeded by (seed, epoch): a second cycle would replay the first.
    log(`warning: --init ${opts.init} was trained on these same images with seed ${seed}; this run replays its shuffles and augmentations epoch by epoch: give another --seed for fresh ones`);
  }
  const skipped: TrainResult['skipped'] = [];
  const warnSkip = (s: { path: string; reason: string }) => {
    skipped.push(s);
    log(`warning: skipped ${s.path}: ${s.reason}`);
  };
  // Files the scan could not open by name are skipped as unreadable images are: named, and counted.
  for (const u of dataset.folder.unreadable) warnSkip(u);
  const { set: labeled } = await decodeItems(dataset.splits.train, classes, size, { label: 'decoding train', onSkip: warnSkip });
  const unreadableUnlabeled: { path: string; reason: string }[] = [];
  const unlabeledItems = data.unlabeled ? await scanUnlabeled(data.unlabeled, unreadableUnlabeled) : [];
  for (const u of unreadableUnlabeled) warnSkip(u);
  const { set: unlabeled } = await decodeItems(unlabeledItems, classes, size, { label: 'decoding unlabeled', onSkip: warnSkip });
  if (previous?.dataset.unlabeled && unlabeled.labels.length !== previous.dataset.unlabeled.images) {
    throw new VisemoError(`the unlabeled images in ${data.unlabeled} changed since run ${runDir} started`, 'start a new run (another --out, or --force)');
  }
  // Unlabeled rows (label −1) come after the labeled ones and learn from the teachers alone.
  const train = unlabeled.labels.length > 0 ? concatSets(labeled, unlabeled) : labeled;
  const { set: val } = await decodeItems(dataset.splits.val, classes, size, { label: 'decoding val', onSkip: warnSkip });
  if (labeled.labels.length === 0) throw new VisemoError(`no readable training images in ${data.data}`, 'check the files named in the warnings above');
  if (val.labels.length === 0) log('warning: the validation split is empty; the last epoch is kept as the model');
  let teacherProbs: Float32Array | null = null;
  if (teacher) {
    // face-api.js scores on wasm, as the caches of earlier runs were made; our models on the training
    // backend (native is ~20× faster than wasm for a wide teacher, and agrees within 1e-3). Either way
    // an image is scored once and read back from the cache.
    const backendFor = (name: string) => useBackend(name === FACEAPI_MODEL ? 'wasm' : backendChoice, { quiet: true });
    const byRel = new Map([...dataset.splits.train, ...unlabeledItems].map((it) => [it.rel, it]));
    teacherProbs = await teacherTargets(train.rels.map((r) => byRel.get(r)!), classes, teacher, { cacheDir: opts.cacheDir, log, backendFor });
    await useBackend(backendChoice, { quiet: true });
  }
  // Crowd votes or mixed expressions the dataset brings (soft-targets.csv) replace those images' one-hot labels.
  const soft = await readSoftTargets(dataset.folder.root, classes);
  const softInTrain = soft ? train.rels.filter((r) => soft.rows.has(r)).length : 0;
  if (soft) log(`soft targets: ${softInTrain} of ${train.rels.length} training images from ${soft.file}`);
  if (resuming && previous?.dataset.softTargets?.hash !== soft?.hash) {
    throw new VisemoError(`the soft targets of ${data.data} changed since run ${runDir} started`, 'start a new run (another --out, or --force)');
  }
  // Weights learned on one input encoding keep it: the start model's mean and std, not this data's.
  const normalisation = initFrom?.metadata.normalisation ?? pixelStats(labeled, channels);

  const { arch: _a, size: _s, channels: _c, ...training } = recipe;
  const weighted = recipe.classWeights !== 'none';
  const metadata: RunMetadata = previous ?? {
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
      unlabeled: data.unlabeled ? { path: path.resolve(data.unlabeled), images: unlabeled.labels.length } : undefined,
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
  if (resuming && metadata.dataset.fingerprint !== dataset.fingerprint) {
    throw new VisemoError(`the images in ${data.data} changed since run ${runDir} started`, 'start a new run (another --out, or --force)');
  }
  metadata.training.epochs = recipe.epochs;
  metadata.training.backend = backend;
  if (!resuming) await claimRunDir(runDir, opts.force === true);
  await writeJsonAtomic(path.join(runDir, RUN_FILES.metadata), metadata);
  if (!resuming) await writeJsonAtomic(path.join(runDir, RUN_FILES.split), dataset.record);

  const model = buildModel({ arch, size, numClasses: classes.length, channels, seed, width });
  const optimizer = tf.train.adam(recipe.learningRate);
  const weightValues = metadata.training.classWeightValues;
  const weights = weightValues ? tf.tensor1d(weightValues) : null;
  model.compile({ optimizer, loss: weights ? weightedCrossentropy(weights) : 'categoricalCrossentropy', metrics: ['accuracy'] });

  let state: CheckpointState = { epoch: 0, history: { epochs: [], bestEpoch: 0 }, bestValAcc: -1 };
  const ckpt = resuming ? await findCheckpoint(runDir) : null;
  // A run killed before its first checkpoint resumes from its --init weights again.
  const initDir = ckpt ? undefined : metadata.training.initFrom;
  if (initDir) {
    const initMeta = await readRunMetadata(initDir);
    const start = await loadModel(initDir, initMeta);
    const { fresh } = initWeightsFrom(model, start, initMeta.classes, classes, seed);
    start.dispose();
    log(`starting from the weights of ${initDir}${fresh.length ? ` (new classes start fresh: ${fresh.join(', ')})` : ''}`);
  }
  if (ckpt) {
    state = await readJson<CheckpointState>(path.join(ckpt, RUN_FILES.checkpointState));
    const saved = await loadModel(ckpt);
    model.setWeights(saved.getWeights());
    saved.dispose();
    await restoreOptimizer(optimizer, await loadTensors(ckpt, 'optimizer'));
    log(`resuming ${runDir} after epoch ${state.epoch} of ${recipe.epochs}`);
  }

  const norm = metadata.normalisation;
  const targets = {
    labelSmoothing: recipe.labelSmoothing,
    teacher: teacherProbs && teacher ? { probs: teacherProbs, weight: teacher.weight } : null,
    labelRows: soft ? labelTargets(train.rels, train.labels, classes.length, soft) : null,
  };
  for (let epoch = state.epoch + 1; epoch <= recipe.epochs; epoch++) {
    const learningRate = learningRateAt(recipe.lrSchedule, recipe.learningRate, epoch, recipe.epochs);
    setLearningRate(optimizer, learningRate);
    const record = await trainEpoch(model, train, val, { recipe, augment, norm, epoch, numClasses: classes.length, learningRate, kept: state.epoch, runDir, ...targets });
    if (recipe.lrSchedule !== 'constant') record.learningRate = learningRate;
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
      await saveTensors(await optimizerState(optimizer), dir, 'optimizer');
      await writeJsonAtomic(path.join(dir, RUN_FILES.checkpointState), state);
    });
    await writeHistory(runDir, state.history);
    log(formatEpoch(record, recipe.epochs, improved));
  }
  if (state.history.epochs.length === 0) await writeHistory(runDir, state.history);
  model.dispose();
  optimizer.dispose();
  weights?.dispose();
  return { runDir, history: state.history, metadata, skipped };
}

/** Adam's bias-correction accumulators (β^t, multiplied step by step), which tfjs keeps outside getWeights(). */
interface AdamAccumulators {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}
const ACC_NAMES = ['visemo/accBeta1', 'visemo/accBeta2'] as const;

/** The optimizer's state for a checkpoint: its weights, and the accumulators as they are. */
async function optimizerState(optimizer: tf.AdamOptimizer): Promise<{ name: string; tensor: tf.Tensor }[]> {
  const acc = optimizer as unknown as AdamAccumulators;
  return [...(await optimizer.getWeights()), { name: ACC_NAMES[0], tensor: acc.accBeta1 }, { name: ACC_NAMES[1], tensor: acc.accBeta2 }];
}

/**
 * Restores a checkpoint's optimizer state exactly. tfjs' setWeights recomputes the accumulators
 * as pow(β, t), which differs in float32 from the product the steps built, so a resumed run
 * drifted from an uninterrupted one; they are carried instead (older checkpoints lack them).
 */
async function restoreOptimizer(optimizer: tf.AdamOptimizer, saved: { name: string; tensor: tf.Tensor }[]): Promise<void> {
  const isAcc = (n: string) => (ACC_NAMES as readonly string[]).includes(n);
  await optimizer.setWeights(saved.filter((w) => !isAcc(w.name)));
  const acc = optimizer as unknown as AdamAccumulators;
  for (const w of saved.filter((x) => isAcc(x.name))) (w.name === ACC_NAMES[0] ? acc.accBeta1 : acc.accBeta2).assign(w.tensor);
}

/**
 * A resumed run continues with its own data, recipe and split: asking for others (another
 * dataset, --size, --lr, …) is refused, naming each difference, as prepare and align refuse
 * changed options. Only what is asked for is compared: an option left out (undefined here; the
 * CLI passes only the options given on its command line with --resume) is the run's own. Only
 * --epochs may change (a larger number trains on), and --backend.
 */
async function checkResumable(runDir: string, previous: RunMetadata, saved: DataRecipe & { data: string }, opts: TrainOptions): Promise<void> {
  const differ: string[] = [];
  const show = (v: unknown) => (v === undefined ? 'unset' : typeof v === 'string' ? v : JSON.stringify(v));
  const compare = (name: string, was: unknown, now: unknown) => {
    if (now !== undefined && JSON.stringify(was) !== JSON.stringify(now)) differ.push(`${name} ${show(now)} (the run has ${show(was)})`);
  };
  compare('dataset', await realResolve(saved.data), await realResolve(opts.data));
  // --augment compared in its canonical form, as written into metadata.json.
  const canonical = (r: TrainRecipe): TrainRecipe => ({ ...r, augment: formatTrainAugment(parseTrainAugment(r.augment)) });
  const was = canonical(recipeOfRun(previous));
  const asked: Partial<TrainRecipe> = opts.recipe ?? {};
  const now = canonical(completeRecipe(asked));
  const flags: Record<string, string> = { arch: '--arch', size: '--size', channels: '--channels', width: '--width', batchSize: '--batch', learningRate: '--lr', lrSchedule: '--lr-schedule', seed: '--seed', augment: '--augment', labelSmoothing: '--label-smoothing', classWeights: '--class-weights' };
  for (const [key, flag] of Object.entries(flags) as [keyof TrainRecipe, string][]) {
    if (asked[key] !== undefined) compare(flag, was[key] ?? (key === 'width' ? 1 : undefined), now[key] ?? (key === 'width' ? 1 : undefined));
  }
  const teachers = now.teacher ? { ...now.teacher, models: await Promise.all(now.teacher.models.map(resolveTeacher)) } : undefined;
  if (asked.teacher !== undefined) compare('--teacher', was.teacher, teachers);
  const dataNow: Partial<DataRecipe> = opts.dataset ?? {};
  // 'all' classes (undefined) asks for nothing in particular; a list must be the run's.
  if (dataNow.classes) compare('--classes', saved.classes, dataNow.classes);
  // A train/val/test folder is used as given: the split options do not apply to it.
  if (previous.split.mode !== 'given') {
    compare('--split', saved.split, dataNow.split);
    compare('--val-fraction', saved.fractions?.val, dataNow.fractions?.val);
    compare('--test-fraction', saved.fractions?.test, dataNow.fractions?.test);
    if (saved.split === 'subject') compare('--subject-pattern', saved.subjectPattern, dataNow.subjectPattern);
  }
  compare('--limit-per-class', saved.limitPerClass, dataNow.limitPerClass);
  compare('--folds/--fold', saved.folds, dataNow.folds);
  compare('--unlabeled', saved.unlabeled ? await realResolve(saved.unlabeled) : undefined, dataNow.unlabeled ? await realResolve(dataNow.unlabeled) : undefined);
  if (opts.init !== undefined) compare('--init', previous.training.initFrom, (await resolveModel(opts.init).catch(() => ({ dir: path.resolve(opts.init!) }))).dir);
  if (differ.length > 0) {
    throw new VisemoError(
      `--resume: ${runDir} was started with other data or options: ${differ.join('; ')}`,
      `leave those options out to resume with the run's own (its command line is in ${RUN_FILES.metadata}; only --epochs may change), or train into another --out, or pass --force instead of --resume to start it over`,
    );
  }
}

/** The data recipe of a run, from its split.json (a given train/val/test layout needs no split mode). */
async function readSplitRecipe(runDir: string): Promise<DataRecipe> {
  const split = await readJson<SplitRecord>(path.join(runDir, RUN_FILES.split));
  return completeDataRecipe({
    classes: split.classes,
    split: split.mode === 'given' ? undefined : split.mode,
    subjectPattern: split.subjectPattern,
    fractions: split.fractions,
    limitPerClass: split.limitPerClass,
    folds: split.folds,
  });
}

/** The --init model's metadata, checked against the run it starts: a mismatch names the field and the fix. */
async function readInitModel(dir: string, want: { arch: Arch; size: number; channels: 1 | 3; width: number }): Promise<{ dir: string; metadata: RunMetadata }> {
  let abs: string;
  try {
    abs = (await resolveModel(dir)).dir;
  } catch (err) {
    if (err instanceof VisemoError) throw new VisemoError(`--init: ${err.message}`, err.hint);
    throw err;
  }
  const metadata = await readRunMetadata(abs);
  const have = { arch: metadata.arch, size: metadata.inputSize, channels: metadata.channels };
  const flags = { arch: '--arch', size: '--size', channels: '--channels' } as const;
  for (const key of Object.keys(have) as (keyof typeof have)[]) {
    if (have[key] !== want[key]) throw new VisemoError(`--init ${dir} has ${key} ${have[key]}, this run ${want[key]}`, `train with ${flags[key]} ${have[key]}`);
  }
  // A wider net starts from a narrower one with each filter copied (init-weights.ts); narrowing would lose filters.
  const startWidth = metadata.training.width ?? 1;
  if (want.width < startWidth) throw new VisemoError(`--init ${dir} has width ${startWidth}, wider than this run's ${want.width}`, `train with --width ${startWidth} or more`);
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

interface EpochContext {
  recipe: TrainRecipe;
  augment: TrainAugment;
  norm: Normalisation;
  epoch: number;
  numClasses: number;
  labelSmoothing: number;
  teacher: { probs: Float32Array; weight: number } | null;
  /** Per-row label targets where the dataset gives soft ones (else one-hot labels are used). */
  labelRows: Float32Array | null;
  learningRate: number;
  /** The last finished epoch, whose weights the run keeps if this one diverges. */
  kept: number;
  runDir: string;
}

/**
 * A loss that is no longer a finite number: the weights are NaN or infinite from here on, and
 * nothing of this epoch may be saved. The run keeps its last finished epoch.
 */
function diverged(ctx: EpochContext, loss: number, where: string): VisemoError {
  const lr = ctx.learningRate;
  return new VisemoError(
    `training diverged at epoch ${ctx.epoch}, ${where}: the loss is ${loss} (learning rate ${lr}); nothing of epoch ${ctx.epoch} was saved` +
      (ctx.kept > 0 ? `, ${ctx.runDir} keeps epoch ${ctx.kept}'s checkpoint and its best model` : `, and ${ctx.runDir} holds no model yet`),
    `train again with a lower --lr (e.g. --lr ${(lr / 10).toPrecision(2)}) and --force, or into another --out`,
  );
}

async function trainEpoch(model: tf.LayersModel, train: DecodedSet, val: DecodedSet, ctx: EpochContext): Promise<EpochRecord> {
  // Seeded per epoch, so a resumed run sees the same order an uninterrupted one would.
  const { batchSize, seed, epochs, channels } = ctx.recipe;
  const order = shuffleInPlace(Array.from({ length: train.labels.length }, (_, i) => i), createRng(seed * 1000 + ctx.epoch));
  const steps = Math.ceil(order.length / batchSize);
  const bar = startProgress(steps, `epoch ${ctx.epoch}/${epochs}`, 'loss {loss} acc {acc}');
  let lossSum = 0;
  let accSum = 0;
  let seen = 0;
  // Its own seeded stream per epoch, like the order: a resumed run augments as an uninterrupted one.
  const augment = isIdentity(ctx.augment) ? null : ctx.augment;
  const augRng = createRng((seed * 1000 + ctx.epoch) ^ 0x5bd1e995);
  const start = performance.now();
  for (let s = 0; s < steps; s++) {
    const idx = order.slice(s * batchSize, (s + 1) * batchSize);
    const x = augment ? batchInput(augmentBatch(train, idx, augment, augRng), idx.map((_, k) => k), ctx.norm, channels) : batchInput(train, idx, ctx.norm, channels);
    const y = tf.tensor2d(mixTargets(train.labels, ctx.numClasses, ctx.labelSmoothing, ctx.teacher, idx, ctx.labelRows), [idx.length, ctx.numClasses]);
    const step = (ctx.epoch - 1) * steps + s;
    const [loss, acc] = (await withStepDropout(model, step, () => model.trainOnBatch(x, y))) as number[];
    x.dispose();
    y.dispose();
    if (!Number.isFinite(loss)) {
      bar.stop();
      throw diverged(ctx, loss!, `step ${s + 1} of ${steps}`);
    }
    lossSum += loss! * idx.length;
    accSum += acc! * idx.length;
    seen += idx.length;
    bar.update(s + 1, { loss: (lossSum / seen).toFixed(4), acc: (accSum / seen).toFixed(4) });
  }
  const seconds = (performance.now() - start) / 1000;
  bar.stop();
  const v = val.labels.length > 0 ? evaluateLossAcc(model, val, ctx.norm, channels) : { loss: NaN, acc: NaN };
  // The last step's update can still turn the weights non-finite: the validation loss tells.
  if (val.labels.length > 0 && !Number.isFinite(v.loss)) throw diverged(ctx, v.loss, 'on the validation images');
  return { epoch: ctx.epoch, loss: lossSum / seen, acc: accSum / seen, valLoss: v.loss, valAcc: v.acc, seconds, msPerStep: (seconds * 1000) / steps };
}

function evaluateLossAcc(model: tf.LayersModel, set: DecodedSet, norm: Normalisation, channels: 1 | 3): { loss: number; acc: number } {
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
