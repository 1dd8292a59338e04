/**
 * What --resume may and may not change: a resumed run keeps its data, recipe and split, read back
 * from its own files, and asking for others is refused with every difference named.
 */
import path from 'node:path';
import { completeDataRecipe, completeRecipe, type DataRecipe, type TrainRecipe } from '../config/recipe.js';
import type { SplitRecord } from '../data/dataset.js';
import { recipeOfRun, resolveModel, type RunMetadata } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { readJson } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { realResolve } from '../util/paths.js';
import { formatTrainAugment, parseTrainAugment } from './augment.js';
import { resolveTeacher } from './named-models.js';
import type { TrainOptions } from './train-types.js';

/**
 * A resumed run continues with its own data, recipe and split: asking for others (another
 * dataset, --size, --lr, …) is refused, naming each difference, as prepare and align refuse
 * changed options. Only what is asked for is compared: an option left out (undefined here; the
 * CLI passes only the options given on its command line with --resume) is the run's own. Only
 * --epochs may change (a larger number trains on), and --backend.
 */
export async function checkResumable(runDir: string, previous: RunMetadata, saved: DataRecipe & { data: string }, opts: TrainOptions): Promise<void> {
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
  const flags: Record<string, string> = {
    arch: '--arch',
    size: '--size',
    channels: '--channels',
    width: '--width',
    batchSize: '--batch',
    learningRate: '--lr',
    lrSchedule: '--lr-schedule',
    seed: '--seed',
    augment: '--augment',
    labelSmoothing: '--label-smoothing',
    classWeights: '--class-weights',
  };
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
  compare(
    '--unlabeled',
    saved.unlabeled ? await realResolve(saved.unlabeled) : undefined,
    dataNow.unlabeled ? await realResolve(dataNow.unlabeled) : undefined,
  );
  if (opts.init !== undefined)
    compare('--init', previous.training.initFrom, (await resolveModel(opts.init).catch(() => ({ dir: path.resolve(opts.init!) }))).dir);
  if (differ.length > 0) {
    throw new VisemoError(
      `--resume: ${runDir} was started with other data or options: ${differ.join('; ')}`,
      `leave those options out to resume with the run's own (its command line is in ${RUN_FILES.metadata}; only --epochs may change), or train into another --out, or pass --force instead of --resume to start it over`,
    );
  }
}

/** The data recipe of a run, from its split.json (a given train/val/test layout needs no split mode). */
export async function readSplitRecipe(runDir: string): Promise<DataRecipe> {
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
