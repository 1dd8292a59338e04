/**
 * `visemo compare`: several emotion models on the same images, the same classes and the same
 * metrics. A model is a bundled name, a run folder written by `visemo train`, or `faceapi`
 * (face-api.js's expression net as shipped in @vladmandic/face-api).
 *
 * The images are face crops already (the public datasets are tight 48×48 crops), so every model
 * classifies them whole, without face detection, each at its own input size and preprocessing.
 * Each model's argmax is taken over the compared classes only: a seven-class model (face-api, or
 * a run trained with neutral) is scored on the paper's six by ignoring its other outputs.
 */
import path from 'node:path';
import { PAPER_CLASSES } from '../data/classes.js';
import { decodeAtSizes, type SkippedImage } from '../data/decoded-set.js';
import { scanImageFolder, type ImageItem } from '../data/image-folder.js';
import { inferenceBackends, useBackend, type InferenceBackendChoice } from '../engine/backend.js';
import { FACEAPI_MODEL, loadClassifiers, type Classifier } from '../inference/classifier.js';
import { createRng, shuffleInPlace } from '../util/random.js';
import { argmax } from '../util/argmax.js';
import { VisemoError } from '../util/errors.js';
import { fixed, formatTable } from '../util/table.js';
import { computeMetrics } from './metrics.js';
import { formatWithInterval } from './intervals.js';
import { formatP, mcnemarFromPredictions, pStatement } from './mcnemar.js';
import { accuracyWithInterval, metricIntervals, type MetricIntervals } from './metric-intervals.js';
import type { Metrics } from './types.js';

export { FACEAPI_MODEL };

export interface CompareOptions {
  /** A flat class folder, or a train/val/test folder (its test/ split is used). */
  data: string;
  /** Bundled names, run folders, or 'faceapi'. */
  models: string[];
  /** Classes to score (default the paper's six; 'all': every class folder of the data); every model must know them all. */
  classes?: string[] | 'all';
  /** At most this many images per class (a seeded choice, the same for every model). */
  limitPerClass?: number;
  seed?: number;
  /**
   * Default wasm: face-api's depthwise convolutions run natively there, in plain JS on 'native'.
   * 'onnx' runs the visemo models on onnxruntime-node (face-api.js on wasm).
   */
  backend?: InferenceBackendChoice;
  /** Average each visemo model's output over the image and its mirror (faceapi is run as shipped). */
  tta?: boolean;
  log?: (line: string) => void;
}

export interface ModelComparison {
  /** As given on the command line. */
  model: string;
  /** Where it came from: its folder, or the face-api package. */
  source: string;
  /** The classes the model outputs (a superset of the compared ones). */
  modelClasses: string[];
  inputSize: number;
  /** What ran it: 'tfjs wasm' (tfjs and its backend) or 'onnxruntime-node <version>'. */
  runtime: string;
  metrics: Metrics;
  /** 95 % Wilson intervals on the accuracy and each class's precision and recall. */
  intervals: MetricIntervals;
  /** Classification time per image (decoding excluded), milliseconds. */
  msPerImage: number;
}

/** The exact McNemar test of two models on the same images. */
export interface PairedTest {
  /** Indices into models. */
  first: number;
  second: number;
  /** Images only the first got right. */
  b: number;
  /** Images only the second got right. */
  c: number;
  p: number;
  /** p < 0.05 */
  significant: boolean;
}

export const COMPARE_FORMAT = 'visemo-compare@1';

/** What compare writes with --out, and prints with --json. */
export interface ComparisonResult {
  format: typeof COMPARE_FORMAT;
  data: string;
  /** 'test' when the folder has train/val/test and its test split was used. */
  split?: 'test';
  classes: string[];
  n: number;
  limitPerClass?: number;
  tta: boolean;
  backend: string;
  models: ModelComparison[];
  /** Every two models, in order (first before second). */
  pairs: PairedTest[];
  skipped: SkippedImage[];
  createdAt: string;
}

export async function compareModels(opts: CompareOptions): Promise<ComparisonResult> {
  const log = opts.log ?? (() => {});
  if (opts.models.length === 0) throw new VisemoError('--models names no model', `give a comma list, e.g. --models paper,${FACEAPI_MODEL}`);
  const { tfjs, runtime } = inferenceBackends(opts.backend ?? 'wasm');
  const backend = await useBackend(tfjs, { quiet: true });
  const { items, split, classes, unreadable } = await imagesToCompare(opts.data, opts.classes ?? [...PAPER_CLASSES], opts.limitPerClass, opts.seed ?? 42);
  log(`${items.length} images of ${classes.length} classes from ${opts.data}${split ? ' (test split)' : ''}`);

  let contenders: Classifier[] = [];
  try {
    contenders = await loadClassifiers(
      opts.models,
      classes,
      { tta: opts.tta === true, runtime },
      'compare on classes every model knows: --classes with a comma list',
    );
    // Decode once per input size; an unreadable image is dropped for every model alike.
    const sizes = [...new Set(contenders.map((c) => c.inputSize))];
    const skipped: SkippedImage[] = [];
    for (const u of unreadable) {
      log(`warning: skipped ${u.path}: ${u.reason}`);
      skipped.push(u);
    }
    const decoded = await decodeAtSizes(items, classes, sizes, { onSkip: (s) => log(`warning: skipped ${s.path}: ${s.reason}`) });
    skipped.push(...decoded.skipped);
    const readable = decoded.kept.map((i) => items[i]!);
    const sets = decoded.sets;
    if (readable.length === 0) throw new VisemoError(`no readable images in ${opts.data}`, 'check the files named in the warnings above');

    const results: ModelComparison[] = [];
    const predictions: number[][] = [];
    let truth: ArrayLike<number> = [];
    for (const c of contenders) {
      const set = sets.get(c.inputSize)!;
      const t0 = performance.now();
      const probs = await c.classify(set);
      const msPerImage = (performance.now() - t0) / set.labels.length;
      const predicted = probs.map((p) => restrictedArgmax(p, c.classes, classes));
      const metrics = computeMetrics(set.labels, predicted, classes);
      log(
        `${c.name}: accuracy ${accuracyWithInterval(metrics)}, macro F1 ${fixed(metrics.macro.f1)} (${msPerImage.toFixed(1)} ms/image${c.runtime.startsWith('tfjs') ? '' : ` on ${c.runtime}`})`,
      );
      results.push({
        model: c.name,
        source: c.source,
        modelClasses: c.classes,
        inputSize: c.inputSize,
        runtime: c.runtime,
        metrics,
        intervals: metricIntervals(metrics),
        msPerImage,
      });
      predictions.push(predicted);
      // Every size's set holds the same images in the same order (checked above).
      truth = set.labels;
    }
    return {
      format: COMPARE_FORMAT,
      data: path.resolve(opts.data),
      split,
      classes,
      n: readable.length,
      limitPerClass: opts.limitPerClass,
      tta: opts.tta === true,
      backend,
      models: results,
      pairs: pairedTests(truth, predictions),
      skipped,
      createdAt: new Date().toISOString(),
    };
  } finally {
    for (const c of contenders) c.dispose();
  }
}

/** The exact McNemar test between every two models' predictions on the same images. */
export function pairedTests(truth: ArrayLike<number>, predictions: number[][]): PairedTest[] {
  const pairs: PairedTest[] = [];
  for (let i = 0; i < predictions.length; i++) {
    for (let j = i + 1; j < predictions.length; j++) {
      const t = mcnemarFromPredictions(truth, predictions[i]!, predictions[j]!);
      pairs.push({ first: i, second: j, ...t, significant: t.p < 0.05 });
    }
  }
  return pairs;
}

/** In words: which differences in accuracy are significant at 5 % (exact McNemar), and which are not. */
export function describePairs(models: { model: string; metrics: Metrics }[], pairs: PairedTest[]): string {
  if (pairs.length === 0) return '';
  const name = (i: number) => models[i]!.model;
  const better = (t: PairedTest) => (t.b >= t.c ? [t.first, t.second] : [t.second, t.first]) as [number, number];
  const sig = pairs
    .filter((t) => t.significant)
    .map((t) => {
      const [hi, lo] = better(t);
      return `${name(hi)} beats ${name(lo)} (${pStatement(t.p)})`;
    });
  const not = pairs.filter((t) => !t.significant).map((t) => `${name(t.first)} and ${name(t.second)} (${pStatement(t.p)})`);
  const parts: string[] = [];
  if (sig.length) parts.push(`Significant at 5 %: ${sig.join('; ')}.`);
  if (not.length) parts.push(`Not significant at 5 % (level within chance on these images): ${not.join('; ')}.`);
  return parts.join(' ');
}

/** The index, in `compared`, of the most probable of the compared classes under the model's output. */
export function restrictedArgmax(probs: ArrayLike<number>, modelClasses: string[], compared: string[]): number {
  return argmax(compared.map((c) => probs[modelClasses.indexOf(c)]!));
}

/** The images to score: the test split of a train/val/test folder, else every image; optionally a per-class sample. */
async function imagesToCompare(
  data: string,
  wanted: string[] | 'all',
  limit: number | undefined,
  seed: number,
): Promise<{ items: ImageItem[]; split?: 'test'; classes: string[]; unreadable: SkippedImage[] }> {
  const folder = await scanImageFolder(data, { classes: wanted === 'all' ? undefined : wanted });
  const classes = folder.classes;
  let items = folder.items;
  let split: 'test' | undefined;
  if (folder.layout === 'split') {
    items = items.filter((it) => it.split === 'test');
    split = 'test';
    if (items.length === 0) throw new VisemoError(`${data} has train/val folders but no test/ images`, 'give a flat class folder or one with a test/ split');
  }
  if (limit) {
    // The same seeded sample for every model (and every run of the same command).
    const rng = createRng(seed);
    items = classes.flatMap((c) =>
      shuffleInPlace(
        items.filter((it) => it.label === c).sort((a, b) => (a.rel < b.rel ? -1 : 1)),
        rng,
      ).slice(0, limit),
    );
  }
  return { items, split, classes, unreadable: folder.unreadable };
}

/** One table: accuracy (with its interval), macro F1 and recall per class, a row per model; then the paired tests. */
export function formatComparison(r: ComparisonResult): string {
  const short = r.classes.map((c) => c.slice(0, 5));
  const table = formatTable(
    ['model', 'accuracy (95% CI)', 'macro F1', ...short.map((s) => `${s} R`), 'ms/img'],
    r.models.map((m) => [
      m.model,
      accuracyWithInterval(m.metrics),
      fixed(m.metrics.macro.f1),
      ...m.metrics.perClass.map((c) => fixed(c.recall)),
      m.msPerImage.toFixed(1),
    ]),
  );
  const recall = formatTable(
    ['recall (95% CI)', ...r.models.map((m) => m.model)],
    r.classes.map((c, i) => [c, ...r.models.map((m) => formatWithInterval(m.metrics.perClass[i]!.recall, m.intervals.perClass[i]!.recall))]),
  );
  const precision = formatTable(
    ['precision (95% CI)', ...r.models.map((m) => m.model)],
    r.classes.map((c, i) => [c, ...r.models.map((m) => formatWithInterval(m.metrics.perClass[i]!.precision, m.intervals.perClass[i]!.precision))]),
  );
  const pairs = (r.pairs ?? []).map((t) => [
    `${r.models[t.first]!.model} vs ${r.models[t.second]!.model}`,
    String(t.b),
    String(t.c),
    formatP(t.p),
    t.significant ? 'yes' : 'no',
  ]);
  const paired = pairs.length
    ? `\n\npaired test on the same images (exact McNemar; b: only the first right, c: only the second)\n` +
      formatTable(['models', 'b', 'c', 'p', 'p < 0.05'], pairs) +
      `\n${describePairs(r.models, r.pairs)}`
    : '';
  const support = r.classes.map((c, i) => `${c} ${r.models[0]?.metrics.perClass[i]?.support ?? 0}`).join(', ');
  return (
    `${r.n} images${r.split ? ' (test split)' : ''} of ${r.data}${r.tta ? '; visemo models with flip averaging' : ''}\n` +
    `images per class: ${support}\n\n${table}\n\n` +
    'R: recall of the class. Each model picks the most probable of these classes; others it knows are ignored. ' +
    'Intervals: 95 % Wilson, treating images as independent.' +
    (r.models.some((m) => !m.runtime.startsWith('tfjs')) ? `\nRun on: ${r.models.map((m) => `${m.model} ${m.runtime}`).join(', ')}.` : '') +
    `\n\n${recall}\n\n${precision}${paired}`
  );
}
