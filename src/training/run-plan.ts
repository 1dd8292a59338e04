/**
 * The first phase of `visemo train`: from the options (or the run to resume) to the settled recipe,
 * data recipe, backend and precision, with every refusal made before anything is read or written.
 */
import path from 'node:path';
import { completeDataRecipe, completeRecipe, type DataRecipe, type TrainRecipe } from '../config/recipe.js';
import { prepareForTraining, useBackend, type BackendChoice, type BackendName } from '../engine/backend.js';
import { precisionContext, resolvePrecision, type Precision } from '../engine/precision.js';
import { MIN_SIZE } from '../model/architectures.js';
import { checkRunDirFree, readRunMetadata, recipeOfRun, removeTempFiles, runDirState, type RunMetadata } from '../model/run-folder.js';
import { VisemoError } from '../util/errors.js';
import { isInside, realResolve } from '../util/paths.js';
import { parseTrainAugment, type TrainAugment } from './augment.js';
import { checkResumable, readSplitRecipe } from './resume-check.js';
import type { Log, TrainOptions } from './train-types.js';

/** A run settled: what it trains, on which data, where and how. */
export interface RunPlan {
  runDir: string;
  resuming: boolean;
  /** The resumed run's metadata (undefined for a new run). */
  previous: RunMetadata | undefined;
  recipe: TrainRecipe;
  data: DataRecipe & { data: string };
  augment: TrainAugment;
  backendChoice: BackendChoice;
  backend: BackendName;
  precision: Precision;
}

export async function planRun(opts: TrainOptions, log: Log): Promise<RunPlan> {
  const runDir = path.resolve(opts.out);
  const resuming = opts.resume === true && (await runDirState(runDir)) === 'run';
  if (opts.resume && !resuming) log(`no run to resume in ${runDir}: starting a new one`);
  // A resumed run keeps its data, recipe and split; only the epochs may grow.
  const previous = resuming ? await readRunMetadata(runDir) : undefined;
  if (resuming) await removeTempFiles(runDir);
  const recipe = previous
    ? { ...recipeOfRun(previous), epochs: Math.max(opts.recipe?.epochs ?? 0, previous.training.epochs) }
    : completeRecipe(opts.recipe ?? {});
  const data = previous
    ? { ...(await readSplitRecipe(runDir)), unlabeled: previous.dataset.unlabeled?.path, data: previous.dataset.path }
    : { ...completeDataRecipe(opts.dataset ?? {}), data: opts.data };
  if (previous) await checkResumable(runDir, previous, data, opts);
  const augment = checkRecipe(recipe, data);
  if (isInside(await realResolve(runDir), await realResolve(data.data))) {
    throw new VisemoError(
      `--out ${opts.out} is inside the dataset ${data.data}`,
      'write the run somewhere else: its files would be read as images of the dataset (a class named after the run)',
    );
  }
  if (!resuming) await checkRunDirFree(runDir, opts.force === true);
  const precisionChoice = opts.precision ?? 'auto';
  if (previous && precisionChoice !== 'auto' && precisionChoice !== previous.training.precision) {
    throw new VisemoError(
      `--precision ${precisionChoice} differs from ${previous.training.precision}, the precision run ${runDir} was trained in`,
      `leave --precision out (or give ${previous.training.precision}) to resume it, or start a new run (another --out, or --force)`,
    );
  }

  const backendChoice = opts.backend ?? 'auto';
  const backend = await useBackend(backendChoice);
  // Resolved before anything is written, so a refused precision leaves no run behind. A resumed
  // run's recorded precision is asked for explicitly: on a machine without it, it is refused.
  const precision = resolvePrecision(previous?.training.precision ?? precisionChoice, precisionContext(backend));
  // This version's addon has no bf16 kernels, so resolvePrecision can only return fp32, which is
  // what the steps below compute; an addon with bf16 kernels has to be switched on here too.
  await prepareForTraining();
  return { runDir, resuming, previous, recipe, data, augment, backendChoice, backend, precision };
}

/** The recipe's own consistency (size for the architecture, width, teacher for unlabeled images); returns its parsed --augment. */
function checkRecipe(recipe: TrainRecipe, data: DataRecipe): TrainAugment {
  const { arch, size, width = 1 } = recipe;
  if (!(size >= MIN_SIZE[arch])) throw new VisemoError(`--size ${size} is too small for the ${arch} architecture`, `give --size ${MIN_SIZE[arch]} or more`);
  if (width !== 1 && arch !== 'visemo') throw new VisemoError(`--width ${width} applies to the visemo net only`, 'leave --width out for --arch paper');
  const augment = parseTrainAugment(recipe.augment);
  if (data.unlabeled && !recipe.teacher) throw new VisemoError('--unlabeled images need a teacher to learn from', 'add --teacher faceapi (or a run folder)');
  return augment;
}
