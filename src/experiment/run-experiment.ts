/**
 * `visemo experiment`: the paper's comparison of input sizes. Trains one run per size into
 * DIR/size-<N>/ with the same data, split and seed, evaluates each on its test split, gathers
 * everything into DIR/results.json and renders the report. Re-running the same command resumes:
 * a finished size is read back, an interrupted one continues from its last checkpointed epoch.
 *
 * With --folds k every size is trained k times, DIR/size-<N>/fold-01 … fold-k, each testing one
 * fold (the same folds and seed for every size), and the folds' test images are pooled; resuming
 * reads finished folds back and continues the interrupted fold at its epoch. With --splits
 * subject,random the whole experiment runs once per split mode, in DIR/<mode>/.
 */
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { SplitRecord } from '../data/dataset.js';
import { useBackend, type BackendChoice } from '../engine/backend.js';
import { evaluateRunDetailed } from '../evaluation/evaluate.js';
import { metricsFromConfusion, sumConfusions } from '../evaluation/metrics.js';
import { accuracyWithInterval } from '../evaluation/metric-intervals.js';
import type { Metrics, Prediction } from '../evaluation/types.js';
import { buildModel } from '../model/architectures.js';
import { completeDataRecipe, completeRecipe, type DataRecipe, type SplitMode, type TrainRecipe } from '../config/recipe.js';
import { summarise } from '../model/summary.js';
import { readHistory, readRunMetadata, runDirState, type History, type RunMetadata } from '../model/run-folder.js';
import { metricsFile, RUN_FILES } from '../model/run-files.js';
import { trainRun } from '../training/train.js';
import { exists, readJson, removeEmptyFolders, writeJsonAtomic } from '../util/atomic.js';
import { isInside, realResolve } from '../util/paths.js';
import { VisemoError } from '../util/errors.js';
import { RESULTS_FILE, writeReport, type WrittenReport } from '../report/write-report.js';
import { SPLITS, type ExperimentResults, type ExperimentSettings, type FoldResult, type SizeResult, type SplitResults } from '../report/types.js';

export interface ExperimentOptions {
  data: string;
  out: string;
  sizes: number[];
  /** How every size is trained; unset fields take their defaults. */
  recipe?: Partial<Omit<TrainRecipe, 'size'>>;
  dataset?: Partial<DataRecipe>;
  /** k-fold cross-validation: every size is trained k times, on the same folds with the same seed. */
  folds?: number;
  /** Train every size on each of these split modes (the first is the report's main one); default: dataset.split. */
  splits?: SplitMode[];
  backend?: BackendChoice;
  /** Start every size afresh, replacing earlier runs in DIR. */
  force?: boolean;
}

export interface ExperimentHooks {
  log?: (line: string) => void;
}

export interface ExperimentOutcome {
  results: ExperimentResults;
  report: WrittenReport;
  /** Sizes (with folds: size/fold) read back from an earlier invocation without training. */
  reused: string[];
  /** Unreadable images this invocation's trainings and tests skipped (each named in the log), counted once per run. */
  skipped: number;
}

export const sizeDirName = (size: number) => `size-${size}`;
export const foldDirName = (fold: number) => `fold-${String(fold).padStart(2, '0')}`;

/** Settings that may change between invocations of one experiment: more epochs, more sizes, another backend; all else must match. */
const FREE_SETTINGS = new Set<string>(['sizes', 'epochs', 'backend']);

/** One trained and tested run: a size, or one fold of it. */
interface RunOutcome {
  metadata: RunMetadata;
  history: History;
  metrics: Metrics;
  predictions?: Prediction[];
  record: SplitRecord;
  reused: boolean;
  /** Images its training and test skipped as unreadable (0 for a run read back). */
  skipped: number;
}

/** A run with the fold it tested (0: no folds) and its folder relative to DIR. */
type FoldOutcome = RunOutcome & { fold: number; rel: string };

export async function runExperiment(opts: ExperimentOptions, hooks: ExperimentHooks = {}): Promise<ExperimentOutcome> {
  const dir = path.resolve(opts.out);
  // Checked before the folder exists: made inside the data, it would be read as a class of it.
  if (isInside(await realResolve(dir), await realResolve(opts.data))) {
    throw new VisemoError(
      `--out ${opts.out} is inside the dataset ${opts.data}`,
      'write the experiment somewhere else: its folders would be read as classes of the dataset',
    );
  }
  const created = !(await exists(dir));
  try {
    return await experimentIn(opts, hooks);
  } catch (err) {
    // A refused or failed first run leaves no empty folders behind (what it wrote stays).
    if (created) await removeEmptyFolders(dir);
    throw err;
  }
}

/** The settled options of one invocation, and what it gathers as its runs finish. */
interface Experiment {
  dir: string;
  data: string;
  sizes: number[];
  recipe: Omit<TrainRecipe, 'size'>;
  dataRecipe: Omit<DataRecipe, 'folds'>;
  splits: SplitMode[];
  /** --folds (undefined: one run per size). */
  k: number | undefined;
  backend: BackendChoice;
  force: boolean;
  log: (line: string) => void;
  results: ExperimentResults;
  /** One per split mode, the first the report's main one. */
  parts: SplitResults[];
  reused: string[];
  skipped: number;
  report?: WrittenReport;
}

async function experimentIn(opts: ExperimentOptions, hooks: ExperimentHooks): Promise<ExperimentOutcome> {
  const exp = await startExperiment(opts, hooks.log ?? (() => {}));
  for (const part of exp.parts) {
    // Every size must train (each fold) on the same images: the first size's split.json is the reference.
    const reference = new Map<number, { size: number; record: SplitRecord }>();
    for (const [si, size] of exp.sizes.entries()) await runSize(exp, part, si, size, reference);
  }
  return { results: exp.results, report: exp.report!, reused: exp.reused, skipped: exp.skipped };
}

/** Checks the options against each other and against an earlier experiment in DIR; creates DIR and selects the backend. */
async function startExperiment(opts: ExperimentOptions, log: (line: string) => void): Promise<Experiment> {
  const dir = path.resolve(opts.out);
  const data = path.resolve(opts.data);
  if (opts.sizes.length === 0) throw new VisemoError('--sizes names no input size', 'give a comma list such as --sizes 100,50,20');
  if (new Set(opts.sizes).size !== opts.sizes.length) throw new VisemoError(`--sizes repeats a size (${opts.sizes.join(',')})`, 'name each size once');
  const { size: _size, ...recipe } = completeRecipe(opts.recipe ?? {});
  const { folds: _folds, ...dataRecipe } = completeDataRecipe(opts.dataset ?? {});
  const splits = opts.splits ?? [dataRecipe.split];
  if (splits.length === 0 || new Set(splits).size !== splits.length)
    throw new VisemoError(`--splits must name each split mode once (got ${splits.join(',') || 'none'})`, 'e.g. --splits subject,random');
  const k = opts.folds;
  if (k !== undefined && !(Number.isInteger(k) && k >= 2)) throw new VisemoError(`--folds ${k}: cross-validation needs at least 2 folds`, 'e.g. --folds 10');
  const backend = opts.backend ?? 'auto';
  const settings: ExperimentSettings = {
    sizes: opts.sizes,
    backend,
    ...recipe,
    ...dataRecipe,
    split: splits[0]!,
    splits: splits.length > 1 ? splits : undefined,
    folds: k,
    subjectPattern: splits.includes('subject') ? dataRecipe.subjectPattern : undefined,
  };
  const previous = opts.force ? undefined : await previousResults(dir, data, settings);
  await fs.mkdir(dir, { recursive: true });
  await useBackend(backend);

  const now = new Date().toISOString();
  const results: ExperimentResults = {
    format: 'visemo-experiment@1',
    dataset: data,
    settings,
    machine: {
      processor: os.cpus()[0]?.model ?? 'unknown processor',
      cores: os.cpus().length,
      platform: `${os.platform()} ${os.arch()}`,
      node: process.version,
    },
    counts: {},
    sizes: [],
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
  const parts: SplitResults[] = splits.map((split) => ({ split, counts: {}, sizes: [] }));
  return { dir, data, sizes: opts.sizes, recipe, dataRecipe, splits, k, backend, force: opts.force === true, log, results, parts, reused: [], skipped: 0 };
}

/** Writes results.json and the report; called after every run, so an interruption loses at most the run in progress. */
async function saveResults(exp: Experiment): Promise<void> {
  const { results, parts } = exp;
  results.sizes = parts[0]!.sizes;
  results.counts = parts[0]!.counts;
  results.otherSplits = parts.length > 1 ? parts.slice(1) : undefined;
  results.updatedAt = new Date().toISOString();
  await writeJsonAtomic(path.join(exp.dir, RESULTS_FILE), results);
  exp.report = await writeReport(exp.dir, results);
}

/** One size of one split mode: its run, or each of its folds, then its line in the log. */
async function runSize(
  exp: Experiment,
  part: SplitResults,
  si: number,
  size: number,
  reference: Map<number, { size: number; record: SplitRecord }>,
): Promise<void> {
  const { k } = exp;
  const sizeRel = path.join(exp.splits.length > 1 ? part.split : '', sizeDirName(size));
  const tag = `[${exp.splits.length > 1 ? `${part.split} ` : ''}${si + 1}/${exp.sizes.length} ${size}×${size}]`;
  const started = performance.now();
  const foldList = k ? Array.from({ length: k }, (_, i) => i + 1) : [0];
  const done: FoldOutcome[] = [];
  for (const fold of foldList) {
    const rel = fold ? path.join(sizeRel, foldDirName(fold)) : sizeRel;
    const ftag = fold ? `${tag} [fold ${fold}/${k}]` : tag;
    const outcome = await runFold(exp, part, size, fold, rel, ftag);
    checkSameSplit(exp, reference, size, fold, rel, outcome.record);
    if (Object.keys(part.counts).length === 0) part.counts = countsFromSplit(outcome.record, outcome.metadata.classes);
    done.push({ ...outcome, fold, rel });
    const entry = sizeEntry(size, sizeRel, done, k !== undefined);
    const at = part.sizes.findIndex((r) => r.size === size);
    if (at >= 0) part.sizes[at] = entry;
    else part.sizes.push(entry);
    await saveResults(exp);
    if (fold) exp.log(`${ftag} test accuracy ${accuracyWithInterval(outcome.metrics)} on ${outcome.metrics.n} images`);
  }
  const entry = part.sizes.find((r) => r.size === size)!;
  const histories = entry.folds?.map((f) => f.history) ?? [entry.history];
  const epochs = histories.flatMap((h) => h.epochs);
  const secs = epochs.reduce((a, e) => a + e.seconds, 0);
  exp.log(
    `${tag} test accuracy ${accuracyWithInterval(entry.metrics)} on ${entry.metrics.n} images${k ? ` (${k} folds pooled)` : ''}; ` +
      `${(secs / Math.max(1, epochs.length)).toFixed(2)} s/epoch; ${((performance.now() - started) / 1000).toFixed(1)} s for this size`,
  );
}

/** Trains and tests (or reads back) one run of a size: the whole size, or fold `fold` of it (0: no folds). */
async function runFold(exp: Experiment, part: SplitResults, size: number, fold: number, rel: string, ftag: string): Promise<RunOutcome> {
  const outcome = await trainAndTest(path.join(exp.dir, rel), {
    data: exp.data,
    size,
    recipe: { ...exp.recipe, size },
    dataset: { ...exp.dataRecipe, split: part.split, folds: fold && exp.k ? { k: exp.k, fold } : undefined },
    backend: exp.backend,
    force: exp.force,
    log: (line) => exp.log(`${ftag} ${line}`),
  });
  if (outcome.reused) exp.reused.push(rel);
  exp.skipped += outcome.skipped;
  return outcome;
}

/** Refuses a run trained on other images than the first size's run of the same fold. */
function checkSameSplit(
  exp: Experiment,
  reference: Map<number, { size: number; record: SplitRecord }>,
  size: number,
  fold: number,
  rel: string,
  record: SplitRecord,
): void {
  const ref = reference.get(fold);
  if (!ref) reference.set(fold, { size, record });
  else if (JSON.stringify(record.files) !== JSON.stringify(ref.record.files)) {
    throw new VisemoError(
      `${path.join(exp.dir, rel)} was trained on another split than ${sizeDirName(ref.size)}${fold ? ` ${foldDirName(fold)}` : ''} (it was started with other options or data)`,
      `re-run with --force to retrain every size on one split, or remove ${path.join(exp.dir, rel)}`,
    );
  }
}

interface RunRequest {
  data: string;
  size: number;
  recipe: TrainRecipe;
  dataset: DataRecipe;
  backend: BackendChoice;
  force: boolean;
  log: (line: string) => void;
}

/** Reads a finished run back, or trains it (resuming an interrupted one at its last epoch) and tests it. */
async function trainAndTest(runDir: string, req: RunRequest): Promise<RunOutcome> {
  const finished = req.force ? undefined : await finishedRun(runDir, req.size, req.recipe.epochs);
  if (finished) {
    const record = await readJson<SplitRecord>(path.join(runDir, RUN_FILES.split));
    // A finished run is only this experiment's if it tested what is asked: the split mode and fold.
    const want = req.dataset.folds;
    if ((record.mode !== 'given' && record.mode !== req.dataset.split) || JSON.stringify(record.folds) !== JSON.stringify(want)) {
      throw new VisemoError(
        `${runDir} holds a run of the ${record.mode} split${record.folds ? ` (fold ${record.folds.fold} of ${record.folds.k})` : ''}, not of the ${req.dataset.split} split${want ? ` (fold ${want.fold} of ${want.k})` : ''}`,
        'remove it, choose another --out, or pass --force',
      );
    }
    req.log(`finished earlier (${finished.history.epochs.length} epochs): read back from ${runDir}`);
    return { ...finished, record, reused: true, skipped: 0 };
  }
  const resume = !req.force && (await runDirState(runDir)) === 'run';
  req.log(`${resume ? 'resuming' : 'training'} in ${runDir}`);
  const trained = await trainRun(
    {
      data: req.data,
      out: runDir,
      recipe: req.recipe,
      dataset: req.dataset,
      backend: req.backend,
      force: req.force,
      resume,
      commandLine: `visemo experiment (size ${req.size}${req.dataset.folds ? `, fold ${req.dataset.folds.fold} of ${req.dataset.folds.k}` : ''}, split ${req.dataset.split})`,
    },
    { log: req.log },
  );
  req.log('evaluating on the test split');
  const evaluated = await evaluateRunDetailed({ run: runDir, split: 'test', backend: req.backend, log: req.log });
  return {
    metadata: trained.metadata,
    history: trained.history,
    metrics: cleanMetrics(evaluated.metrics),
    predictions: evaluated.predictions,
    record: await readJson<SplitRecord>(path.join(runDir, RUN_FILES.split)),
    reused: false,
    skipped: trained.skipped.length + evaluated.skipped.length,
  };
}

/** A size's result: its one run, or its folds with their test images pooled into one set of metrics. */
function sizeEntry(size: number, rel: string, runs: FoldOutcome[], crossValidated: boolean): SizeResult {
  const first = runs[0]!;
  if (!crossValidated) {
    return {
      size,
      runDir: rel,
      metadata: first.metadata,
      history: first.history,
      metrics: first.metrics,
      predictions: first.predictions,
      summary: modelSummary(first.metadata),
    };
  }
  const classes = first.metrics.classes;
  const folds: FoldResult[] = runs.map((r) => ({ fold: r.fold, runDir: r.rel, history: r.history, metrics: r.metrics }));
  const predictions = runs.every((r) => r.predictions) ? runs.flatMap((r) => r.predictions!) : undefined;
  return {
    size,
    runDir: rel,
    metadata: first.metadata,
    history: first.history,
    metrics: metricsFromConfusion(sumConfusions(runs.map((r) => r.metrics.confusion)), classes),
    predictions,
    folds,
    summary: modelSummary(first.metadata),
  };
}

/** An earlier experiment in `dir`, checked to be the same experiment (or an error saying how it differs). */
async function previousResults(dir: string, data: string, settings: ExperimentSettings): Promise<ExperimentResults | undefined> {
  const file = path.join(dir, RESULTS_FILE);
  if (!(await exists(file))) return undefined;
  const prev = await readJson<ExperimentResults>(file).catch(() => undefined);
  if (prev?.format !== 'visemo-experiment@1') return undefined;
  const differ: string[] = [];
  if (prev.dataset !== data) differ.push(`dataset ${prev.dataset} vs ${data}`);
  const keys = new Set([...Object.keys(prev.settings), ...Object.keys(settings)].filter((k) => !FREE_SETTINGS.has(k)));
  for (const key of keys as Set<keyof ExperimentSettings>) {
    if (JSON.stringify(prev.settings[key]) !== JSON.stringify(settings[key])) {
      differ.push(`${key} ${JSON.stringify(prev.settings[key]) ?? 'unset'} vs ${JSON.stringify(settings[key]) ?? 'unset'}`);
    }
  }
  if (differ.length > 0) {
    throw new VisemoError(
      `${dir} holds an experiment with other settings (${differ.join('; ')})`,
      'choose another --out, repeat the earlier options to resume, or pass --force to start over',
    );
  }
  return prev;
}

/** A run whose training reached `epochs` and whose test metrics exist: nothing to do but read it. */
async function finishedRun(runDir: string, size: number, epochs: number): Promise<Omit<RunOutcome, 'record' | 'reused' | 'skipped'> | undefined> {
  const files = [RUN_FILES.model, RUN_FILES.metadata, RUN_FILES.history, RUN_FILES.split, metricsFile('test')].map((f) => path.join(runDir, f));
  for (const f of files) if (!(await exists(f))) return undefined;
  const history = await readHistory(runDir);
  if (history.epochs.length < epochs) return undefined;
  const metadata = await readRunMetadata(runDir);
  if (metadata.inputSize !== size) {
    throw new VisemoError(`${runDir} holds a ${metadata.inputSize}×${metadata.inputSize} run, not ${size}×${size}`, 'remove it or pass --force');
  }
  // metrics-test.json is written after model.json; an older one belongs to an earlier model.
  const [model, metricsStat] = await Promise.all([fs.stat(files[0]!), fs.stat(files[4]!)]);
  if (metricsStat.mtimeMs < model.mtimeMs) return undefined;
  const saved = await readJson<Metrics & { predictions?: Prediction[] }>(files[4]!);
  return { metadata, history, metrics: cleanMetrics(saved), predictions: saved.predictions };
}

/** The Metrics fields only (metrics-test.json also records the split, data path and skipped count). */
function cleanMetrics(m: Metrics): Metrics {
  const { classes, n, accuracy, perClass, macro, weighted, confusion } = m;
  return { classes, n, accuracy, perClass, macro, weighted, confusion };
}

/** Figs. 3.1–3.3 for this run: the same architecture, built only to count its layers' parameters. */
function modelSummary(meta: RunMetadata) {
  const model = buildModel({ arch: meta.arch, size: meta.inputSize, numClasses: meta.classes.length, channels: meta.channels, width: meta.training.width });
  try {
    return summarise(model);
  } finally {
    model.dispose();
  }
}

/** Table 1 from split.json: images per class in each split. */
export function countsFromSplit(record: SplitRecord, classes: string[]): ExperimentResults['counts'] {
  const counts: ExperimentResults['counts'] = Object.fromEntries(classes.map((c) => [c, { train: 0, val: 0, test: 0 }]));
  for (const split of SPLITS) {
    for (const [, label] of record.files[split]) {
      const row = (counts[label] ??= { train: 0, val: 0, test: 0 });
      row[split] = (row[split] ?? 0) + 1;
    }
  }
  return counts;
}
