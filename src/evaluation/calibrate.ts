/**
 * `visemo calibrate`: fits a run's class-prior offsets (src/model/calibration.ts) on validation
 * face crops and records them in its metadata.json, where every runtime applies them
 * (inference/emotion-net.ts). Reports, on those images, each class's predicted count against its
 * true count and the accuracy before and after, so the effect is seen where it was fitted.
 */
import path from 'node:path';
import { decodeItems, type SkippedImage } from '../data/decoded-set.js';
import { scanImageFolder } from '../data/image-folder.js';
import { useBackend, type BackendChoice } from '../engine/backend.js';
import { loadEmotionNet } from '../inference/emotion-net.js';
import { applyCalibration, fitClassOffsets, type Calibration } from '../model/calibration.js';
import { RUN_FILES } from '../model/run-files.js';
import { resolveModel } from '../model/run-folder.js';
import { argmax } from '../util/argmax.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { computeMetrics, predictedCount } from './metrics.js';

export interface CalibrateOptions {
  /** A run folder (bundled models are not changed in place). */
  model: string;
  /** Face crops: class folders, or a train/val/test folder whose val/ is used. */
  data: string;
  /** Weigh each class equally in the fit (aims at uniform priors); else the data's own class mix. */
  balanced?: boolean;
  /** Replace a calibration the run already has. */
  force?: boolean;
  backend?: BackendChoice;
  log?: (line: string) => void;
}

export interface CalibrateResult {
  file: string;
  classes: string[];
  calibration: Calibration;
  trueCounts: number[];
  before: { accuracy: number; predicted: number[] };
  after: { accuracy: number; predicted: number[] };
  skipped: SkippedImage[];
}

export async function calibrateRun(opts: CalibrateOptions): Promise<CalibrateResult> {
  const resolved = await resolveModel(opts.model);
  if (resolved.bundled)
    throw new VisemoError(
      `${opts.model} is a bundled model, which calibrate does not change in place`,
      `copy its folder (${resolved.dir}) and calibrate the copy`,
    );
  const file = path.join(resolved.dir, RUN_FILES.metadata);
  const raw = await readJson<Record<string, unknown>>(file);
  if (raw.calibration && !opts.force)
    throw new VisemoError(`${file} already has a calibration`, 'add --force to fit it again (the new fit starts from the uncalibrated model)');

  await useBackend(opts.backend ?? 'auto');
  const net = await loadEmotionNet(resolved.dir);
  const classes = net.metadata.classes;
  const folder = await scanImageFolder(opts.data);
  const items = folder.items.filter((it) => (folder.layout === 'split' ? it.split === 'val' : true) && classes.includes(it.label));
  if (items.length === 0)
    throw new VisemoError(
      `${opts.data} has no ${folder.layout === 'split' ? 'val/ ' : ''}images of the model's classes (${classes.join(', ')})`,
      'give validation face crops in class folders',
    );
  const skipped: SkippedImage[] = [];
  const { set } = await decodeItems(items, classes, net.metadata.inputSize, {
    label: 'decoding',
    onSkip: (s) => {
      skipped.push(s);
      opts.log?.(`warning: skipped ${s.path}: ${s.reason}`);
    },
  });
  let probs: Float32Array[];
  try {
    probs = await net.classify(set, { uncalibrated: true });
  } finally {
    net.dispose();
  }
  const balanced = opts.balanced !== false;
  let offsets: number[];
  try {
    offsets = fitClassOffsets(probs, set.labels, classes.length, { balanced });
  } catch (err) {
    throw new VisemoError(`cannot calibrate on ${opts.data}: ${(err as Error).message}`, 'give validation images of every class of the model');
  }
  const calibration: Calibration = {
    offsets: offsets.map((v) => Number(v.toFixed(6))),
    method: balanced ? 'balanced-nll' : 'nll',
    fittedOn: { path: path.resolve(opts.data), images: set.labels.length },
    createdAt: new Date().toISOString(),
  };
  // Accuracy and predicted counts by the metrics every command reports.
  const score = (ps: ArrayLike<number>[]) => {
    const m = computeMetrics(set.labels, ps.map(argmax), classes);
    return { accuracy: m.accuracy, predicted: classes.map((_, k) => predictedCount(m, k)), trueCounts: m.perClass.map((c) => c.support) };
  };
  const before = score(probs);
  const after = score(probs.map((p) => applyCalibration(p, calibration.offsets)));
  const result = {
    file,
    classes,
    calibration,
    trueCounts: before.trueCounts,
    before: { accuracy: before.accuracy, predicted: before.predicted },
    after: { accuracy: after.accuracy, predicted: after.predicted },
    skipped,
  };
  await writeJsonAtomic(file, { ...raw, calibration });
  return result;
}
