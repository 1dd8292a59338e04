/**
 * The data phase of `visemo train`: the dataset split, the --init and --teacher models it names
 * (checked before any decoding, so a mismatch fails at once), and the decoded train, unlabeled and
 * validation images, with every image skipped named in the log.
 */
import type { TeacherSpec } from '../config/recipe.js';
import { prepareDataset, type PreparedDataset } from '../data/dataset.js';
import { concatSets, decodeItems, type DecodedSet } from '../data/decoded-set.js';
import { scanUnlabeled, type ImageItem } from '../data/image-folder.js';
import type { RunMetadata } from '../model/run-folder.js';
import { VisemoError } from '../util/errors.js';
import { readInitModel, resolveTeacher } from './named-models.js';
import type { RunPlan } from './run-plan.js';
import type { Log, TrainOptions, TrainResult } from './train-types.js';

type Skip = TrainResult['skipped'][number];

export interface TrainingData {
  dataset: PreparedDataset;
  classes: string[];
  /** The labeled training images alone (the normalisation and class weights are theirs). */
  labeled: DecodedSet;
  unlabeled: DecodedSet;
  unlabeledItems: ImageItem[];
  /** What the epochs train on: the labeled rows, then the unlabeled ones (label −1). */
  train: DecodedSet;
  val: DecodedSet;
  /** The --init model (never for a resumed run: its checkpoint or recorded start is used). */
  initFrom: { dir: string; metadata: RunMetadata } | null;
  /** The teachers with their models resolved, as metadata.json records them. */
  teacher: TeacherSpec | undefined;
  skipped: Skip[];
}

export async function loadTrainingData(plan: RunPlan, opts: TrainOptions, log: Log): Promise<TrainingData> {
  const { recipe, data, resuming } = plan;
  const { arch, size, channels, seed, width = 1 } = recipe;
  const dataset = await prepareDataset({ ...data, seed });
  // Checked before decoding, so a mismatched --init fails at once.
  const initFrom = !resuming && opts.init ? await readInitModel(opts.init, { arch, size, channels, width }) : null;
  const teacher = recipe.teacher ? { ...recipe.teacher, models: await Promise.all(recipe.teacher.models.map(resolveTeacher)) } : undefined;
  if (initFrom && initFrom.metadata.dataset?.fingerprint === dataset.fingerprint && initFrom.metadata.training.seed === seed) {
    // Shuffles and augmentations are seeded by (seed, epoch): a second cycle would replay the first.
    log(
      `warning: --init ${opts.init} was trained on these same images with seed ${seed}; this run replays its shuffles and augmentations epoch by epoch: give another --seed for fresh ones`,
    );
  }
  const sets = await decodeSplits(plan, dataset, log);
  return { dataset, classes: dataset.folder.classes, initFrom, teacher, ...sets };
}

/** Decodes the train, unlabeled and validation images; refuses a run with no readable training image. */
async function decodeSplits(
  plan: RunPlan,
  dataset: PreparedDataset,
  log: Log,
): Promise<Pick<TrainingData, 'labeled' | 'unlabeled' | 'unlabeledItems' | 'train' | 'val' | 'skipped'>> {
  const { data, previous, runDir } = plan;
  const { size } = plan.recipe;
  const classes = dataset.folder.classes;
  const skipped: Skip[] = [];
  const warnSkip = (s: Skip) => {
    skipped.push(s);
    log(`warning: skipped ${s.path}: ${s.reason}`);
  };
  // Files the scan could not open by name are skipped as unreadable images are: named, and counted.
  for (const u of dataset.folder.unreadable) warnSkip(u);
  const { set: labeled } = await decodeItems(dataset.splits.train, classes, size, { label: 'decoding train', onSkip: warnSkip });
  const unreadableUnlabeled: Skip[] = [];
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
  return { labeled, unlabeled, unlabeledItems, train, val, skipped };
}
