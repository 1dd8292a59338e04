/**
 * `visemo experiment`: the paper's comparison of input sizes. Trains one run per size into
 * DIR/size-<N>/ with the same data, split and seed, evaluates each on its test split, gathers
 * everything into DIR/results.json and renders the report. Re-running the same command resumes:
 * a finished size is read back, an interrupted one continues from its last checkpointed epoch.
 */
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { SplitRecord } from '../data/dataset.js';
import { useBackend, type BackendChoice } from '../engine/backend.js';
import { evaluateRun } from '../evaluation/evaluate.js';
import type { Metrics } from '../evaluation/types.js';
import { buildModel } from '../model/architectures.js';
import { completeDataRecipe, completeRecipe, type DataRecipe, type TrainRecipe } from '../config/recipe.js';
import { summarise } from '../model/summary.js';
import { readHistory, readRunMetadata, runDirState, type RunMetadata } from '../model/run-folder.js';
import { metricsFile, RUN_FILES } from '../model/run-files.js';
import { trainRun } from '../training/train.js';
import { exists, readJson, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { RESULTS_FILE, writeReport, type WrittenReport } from '../report/write-report.js';
import { SPLITS, type ExperimentResults, type ExperimentSettings, type SizeResult } from '../report/types.js';

export interface ExperimentOptions {
  data: string;
  out: string;
  sizes: number[];
  /** How every size is trained; unset fields take their defaults. */
  recipe?: Partial<Omit<TrainRecipe, 'size'>>;
  dataset?: Partial<DataRecipe>;
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
  /** Sizes read back from an earlier invocation without training. */
  reused: number[];
}

export const sizeDirName = (size: number) => `size-${size}`;

/** Settings that may change between invocations of one experiment: more epochs, more sizes, another backend; all else must match. */
const FREE_SETTINGS = new Set<string>(['sizes', 'epochs', 'backend']);

export async function runExperiment(opts: ExperimentOptions, hooks: ExperimentHooks = {}): Promise<ExperimentOutcome> {
  const log = hooks.log ?? (() => {});
  const dir = path.resolve(opts.out);
  const data = path.resolve(opts.data);
  if (opts.sizes.length === 0) throw new VisemoError('--sizes names no input size', 'give a comma list such as --sizes 100,50,20');
  if (new Set(opts.sizes).size !== opts.sizes.length) throw new VisemoError(`--sizes repeats a size (${opts.sizes.join(',')})`, 'name each size once');
  const { size: _size, ...recipe } = completeRecipe(opts.recipe ?? {});
  const dataRecipe = completeDataRecipe(opts.dataset ?? {});
  const backend = opts.backend ?? 'auto';
  const settings: ExperimentSettings = {
    sizes: opts.sizes,
    backend,
    ...recipe,
    ...dataRecipe,
    subjectPattern: dataRecipe.split === 'subject' ? dataRecipe.subjectPattern : undefined,
  };
  const previous = opts.force ? undefined : await previousResults(dir, data, settings);
  await fs.mkdir(dir, { recursive: true });
  await useBackend(backend);

  const now = new Date().toISOString();
  const results: ExperimentResults = {
    format: 'visemo-experiment@1',
    dataset: data,
    settings,
    machine: { processor: os.cpus()[0]?.model ?? 'unknown processor', cores: os.cpus().length, platform: `${os.platform()} ${os.arch()}`, node: process.version },
    counts: {},
    sizes: [],
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
  const reused: number[] = [];
  let report: WrittenReport | undefined;
  let firstSplit: { size: number; record: SplitRecord } | undefined;

  for (const [k, size] of opts.sizes.entries()) {
    const runDir = path.join(dir, sizeDirName(size));
    const tag = `[${k + 1}/${opts.sizes.length} ${size}×${size}]`;
    const started = performance.now();
    let entry = opts.force ? undefined : await finishedRun(runDir, size, recipe.epochs);
    if (entry) {
      reused.push(size);
      log(`${tag} finished earlier (${entry.history.epochs.length} epochs): read back from ${runDir}`);
    } else {
      const state = await runDirState(runDir);
      const resume = !opts.force && state === 'run';
      log(`${tag} ${resume ? 'resuming' : 'training'} in ${runDir}`);
      const trained = await trainRun(
        { data, out: runDir, recipe: { ...recipe, size }, dataset: dataRecipe, backend, force: opts.force, resume, commandLine: `visemo experiment (size ${size})` },
        { log: (line) => log(`${tag} ${line}`) },
      );
      log(`${tag} evaluating on the test split`);
      const metrics = cleanMetrics(await evaluateRun({ run: runDir, split: 'test', backend }));
      entry = { size, runDir: sizeDirName(size), metadata: trained.metadata, history: trained.history, metrics, summary: modelSummary(trained.metadata) };
    }
    const record = await readJson<SplitRecord>(path.join(runDir, RUN_FILES.split));
    if (!firstSplit) firstSplit = { size, record };
    else if (JSON.stringify(record.files) !== JSON.stringify(firstSplit.record.files)) {
      throw new VisemoError(
        `${runDir} was trained on another split than ${sizeDirName(firstSplit.size)} (it was started with other options or data)`,
        `re-run with --force to retrain every size on one split, or remove ${runDir}`,
      );
    }
    if (k === 0 || Object.keys(results.counts).length === 0) results.counts = countsFromSplit(record, entry.metadata.classes);
    results.sizes.push(entry);
    results.updatedAt = new Date().toISOString();
    // Saved after every size, so an interruption loses at most the size in progress.
    await writeJsonAtomic(path.join(dir, RESULTS_FILE), results);
    report = await writeReport(dir, results);
    const secs = entry.history.epochs.reduce((a, e) => a + e.seconds, 0);
    log(
      `${tag} test accuracy ${(entry.metrics.accuracy * 100).toFixed(2)}% on ${entry.metrics.n} images; ` +
        `${(secs / Math.max(1, entry.history.epochs.length)).toFixed(2)} s/epoch; ${((performance.now() - started) / 1000).toFixed(1)} s for this size`,
    );
  }
  return { results, report: report!, reused };
}

/** An earlier experiment in `dir`, checked to be the same experiment (or an error saying how it differs). */
async function previousResults(dir: string, data: string, settings: ExperimentSettings): Promise<ExperimentResults | undefined> {
  const file = path.join(dir, RESULTS_FILE);
  if (!(await exists(file))) return undefined;
  const prev = await readJson<ExperimentResults>(file).catch(() => undefined);
  if (!prev || prev.format !== 'visemo-experiment@1') return undefined;
  const differ: string[] = [];
  if (prev.dataset !== data) differ.push(`dataset ${prev.dataset} vs ${data}`);
  const keys = new Set([...Object.keys(prev.settings), ...Object.keys(settings)].filter((k) => !FREE_SETTINGS.has(k)));
  for (const key of keys as Set<keyof ExperimentSettings>) {
    if (JSON.stringify(prev.settings[key]) !== JSON.stringify(settings[key])) {
      differ.push(`${key} ${JSON.stringify(prev.settings[key]) ?? 'unset'} vs ${JSON.stringify(settings[key]) ?? 'unset'}`);
    }
  }
  if (differ.length > 0) {
    throw new VisemoError(`${dir} holds an experiment with other settings (${differ.join('; ')})`, 'choose another --out, repeat the earlier options to resume, or pass --force to start over');
  }
  return prev;
}

/** A size whose training reached `epochs` and whose test metrics exist: nothing to do but read it. */
async function finishedRun(runDir: string, size: number, epochs: number): Promise<SizeResult | undefined> {
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
  const metrics = cleanMetrics(await readJson<Metrics>(files[4]!));
  return { size, runDir: path.basename(runDir), metadata, history, metrics, summary: modelSummary(metadata) };
}

/** The Metrics fields only (metrics-test.json also records the split, data path and skipped count). */
function cleanMetrics(m: Metrics): Metrics {
  const { classes, n, accuracy, perClass, macro, weighted, confusion } = m;
  return { classes, n, accuracy, perClass, macro, weighted, confusion };
}

/** Figs. 3.1–3.3 for this run: the same architecture, built only to count its layers' parameters. */
function modelSummary(meta: RunMetadata) {
  const model = buildModel({ arch: meta.arch, size: meta.inputSize, numClasses: meta.classes.length, channels: meta.channels });
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
