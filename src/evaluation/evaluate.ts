/**
 * `visemo evaluate`: a trained run on its own test (or validation) split, or on another folder.
 * Images are prepared exactly as in training: the run's size, channels and normalisation.
 */
import path from 'node:path';
import { useBackend, type BackendChoice } from '../engine/backend.js';
import type { SplitRecord } from '../data/dataset.js';
import { decodeItems, type SkippedImage } from '../data/decoded-set.js';
import { scanImageFolder, type ImageItem } from '../data/image-folder.js';
import type { SplitName } from '../data/split.js';
import { loadEmotionNet } from '../inference/emotion-net.js';
import { argmax } from '../util/argmax.js';
import { hasModel, readRunMetadata, type RunMetadata } from '../model/run-folder.js';
import { metricsFile, RUN_FILES } from '../model/run-files.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { computeMetrics } from './metrics.js';
import { metricIntervals } from './metric-intervals.js';
import type { Metrics, Prediction } from './types.js';

export interface EvaluateOptions {
  run: string;
  split: Exclude<SplitName, 'train'> | 'train';
  /** Another dataset folder: its `split` subfolder when it has train/val/test, else every image. */
  data?: string;
  backend?: BackendChoice;
  /** Test-time augmentation: average each image's output with its mirror image's. */
  tta?: boolean;
  log?: (line: string) => void;
}

export interface EvaluationResult {
  metrics: Metrics;
  skipped: SkippedImage[];
  /** Every image scored, in order (also written to the metrics file). */
  predictions: Prediction[];
  file: string;
}

export async function evaluateRun(opts: EvaluateOptions): Promise<Metrics> {
  return (await evaluateRunDetailed(opts)).metrics;
}

export async function evaluateRunDetailed(opts: EvaluateOptions): Promise<EvaluationResult> {
  const runDir = path.resolve(opts.run);
  if (!(await hasModel(runDir))) {
    throw new VisemoError(
      `${opts.run} is not a finished training run (no ${RUN_FILES.metadata} or ${RUN_FILES.model})`,
      'give the --out folder of visemo train',
    );
  }
  const meta = await readRunMetadata(runDir);
  await useBackend(opts.backend ?? 'auto');
  const unreadable: SkippedImage[] = [];
  const items = opts.data ? await itemsFromFolder(opts.data, opts.split, meta.classes, unreadable) : await itemsFromSplit(runDir, meta, opts.split);
  if (items.length === 0)
    throw new VisemoError(
      `the ${opts.split} split of ${opts.data ?? opts.run} has no images`,
      'evaluate another split (--split val|test) or another --data folder',
    );

  const skipped: SkippedImage[] = [];
  for (const u of unreadable) {
    skipped.push(u);
    opts.log?.(`warning: skipped ${u.path}: ${u.reason}`);
  }
  const { set } = await decodeItems(items, meta.classes, meta.inputSize, {
    label: `decoding ${opts.split}`,
    onSkip: (s) => {
      skipped.push(s);
      opts.log?.(`warning: skipped ${s.path}: ${s.reason}`);
    },
  });
  // Through the one place a loaded model runs, so a calibrated model is scored as predict runs it.
  const net = await loadEmotionNet(runDir);
  const predicted = (await net.classify(set, { tta: opts.tta === true })).map(argmax);
  net.dispose();
  const metrics = computeMetrics(set.labels, predicted, meta.classes);
  const predictions: Prediction[] = set.rels.map((rel, i) => [rel, set.labels[i]!, predicted[i]!]);
  const suffix = opts.tta ? '-tta' : '';
  const file = path.join(runDir, metricsFile(`${opts.data ? `${path.basename(path.resolve(opts.data))}-` : ''}${opts.split}${suffix}`));
  await writeJsonAtomic(file, {
    ...metrics,
    split: opts.split,
    data: opts.data ? path.resolve(opts.data) : meta.dataset.path,
    skipped: skipped.length,
    tta: opts.tta === true,
    intervals: metricIntervals(metrics),
    predictions,
  });
  return { metrics, skipped, predictions, file };
}

async function itemsFromSplit(runDir: string, meta: RunMetadata, split: SplitName): Promise<ImageItem[]> {
  const record = await readJson<SplitRecord>(path.join(runDir, RUN_FILES.split));
  return record.files[split].map(([rel, label]) => ({
    path: path.join(meta.dataset.path, ...rel.split('/')),
    rel,
    label,
    file: path.basename(rel),
  }));
}

/** Images of another folder, restricted to the run's classes (others are left out, not an error). */
async function itemsFromFolder(data: string, split: SplitName, classes: string[], unreadable: SkippedImage[]): Promise<ImageItem[]> {
  const folder = await scanImageFolder(data);
  unreadable.push(...folder.unreadable);
  const known = folder.items.filter((it) => classes.includes(it.label));
  if (known.length === 0)
    throw new VisemoError(`${data} has none of the run's classes (${classes.join(', ')})`, 'give a folder with matching class subfolders');
  return folder.layout === 'split' ? known.filter((it) => it.split === split) : known;
}
