/**
 * A tiny real experiment on a subset of ../shared/datasets/ckplus48: two sizes, one epoch, then
 * resumed to two epochs, then re-run as a no-op. Checks the report's numbers against the files
 * each run saved, and that an experiment with other settings is refused.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { SplitRecord } from '../data/dataset.js';
import { sumConfusions } from '../evaluation/metrics.js';
import type { Metrics } from '../evaluation/types.js';
import { readJson } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { loadResults } from '../report/write-report.js';
import { runExperiment, type ExperimentOptions, type ExperimentOutcome } from './run-experiment.js';

const CKPLUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets/ckplus48');
const skip = existsSync(CKPLUS) ? false : `${CKPLUS} is not available`;

/** The data-value of the HTML table cell in row `row`, column `col`. */
function cellValue(html: string, table: string, row: number, col: number): number | undefined {
  const body = new RegExp(`<table id="${table}">[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html)![1]!;
  const tr = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)][row]![1]!;
  const v = [...tr.matchAll(/<td(?: class="num" data-value="([^"]*)")?>/g)][col]![1];
  return v === undefined ? undefined : Number(v);
}

describe('visemo experiment on a ckplus48 subset', { skip }, () => {
  let dir: string;
  let first: ExperimentOutcome;
  let resumed: ExperimentOutcome;
  const base = (): ExperimentOptions => ({
    data: CKPLUS,
    out: dir,
    sizes: [20, 24],
    backend: 'auto',
    recipe: { epochs: 1, batchSize: 16, seed: 5, learningRate: 1e-3, channels: 1 },
    dataset: { split: 'subject', subjectPattern: '^(S\\d+)_', classes: ['anger', 'happiness', 'surprise'], limitPerClass: 12 },
  });
  const withRecipe = (change: NonNullable<ExperimentOptions['recipe']>): ExperimentOptions => ({ ...base(), recipe: { ...base().recipe, ...change } });

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-experiment-'));
    first = await runExperiment(base());
    resumed = await runExperiment(withRecipe({ epochs: 2 }));
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  it('trains each size into DIR/size-N on one split and saves results.json', async () => {
    const results = await loadResults(dir);
    assert.deepEqual(
      results.sizes.map((r) => r.size),
      [20, 24],
    );
    const [a, b] = await Promise.all([20, 24].map((s) => readJson<SplitRecord>(path.join(dir, `size-${s}`, 'split.json'))));
    assert.deepEqual(a!.files, b!.files, 'same split for every size');
    for (const r of results.sizes) {
      assert.equal(r.metadata.inputSize, r.size);
      const saved = await readJson<Metrics>(path.join(dir, r.runDir, 'metrics-test.json'));
      assert.equal(r.metrics.accuracy, saved.accuracy);
      assert.deepEqual(r.metrics.confusion, saved.confusion);
      // Table 1 counts add up to the split sizes the run recorded.
      for (const split of ['train', 'val', 'test'] as const) {
        const total = Object.values(results.counts).reduce((n, c) => n + (c[split] ?? 0), 0);
        assert.equal(total, r.metadata.dataset.images[split]);
      }
      assert.equal(r.metrics.n, r.metadata.dataset.images.test);
    }
  });

  it('resumes to more epochs, keeping the epochs already trained', () => {
    for (const [k, r] of resumed.results.sizes.entries()) {
      assert.equal(r.history.epochs.length, 2);
      assert.deepEqual(r.history.epochs[0], first.results.sizes[k]!.history.epochs[0], 'epoch 1 kept, not retrained');
    }
    assert.deepEqual(resumed.reused, []);
  });

  it('renders the report with the saved numbers', async () => {
    const html = await fs.readFile(path.join(dir, 'report.html'), 'utf8');
    const md = await fs.readFile(path.join(dir, 'report.md'), 'utf8');
    for (const [k, r] of resumed.results.sizes.entries()) {
      assert.equal(cellValue(html, 'comparison', k, 1), r.metrics.accuracy);
      r.metrics.perClass.forEach((c, i) => {
        assert.equal(cellValue(html, `metrics-${r.size}`, i, 1), c.precision);
        assert.equal(cellValue(html, `metrics-${r.size}`, i, 2), c.recall);
      });
      const mean = r.history.epochs.reduce((a, e) => a + e.seconds, 0) / r.history.epochs.length;
      assert.ok(Math.abs(cellValue(html, 'table2-epoch-seconds', k, 2)! - mean) < 1e-9);
      assert.ok(md.includes(`${(r.metrics.accuracy * 100).toFixed(1)} % (`), 'accuracy with its interval');
      for (const f of [`curves-${r.size}`, `confusion-${r.size}-counts`, `confusion-${r.size}-normalised`]) {
        assert.ok((await fs.stat(path.join(dir, 'figures', `${f}.png`))).size > 1000, `${f}.png written`);
        assert.match(html, new RegExp(`<figure id="fig-${f}" class="chart"><svg`));
      }
    }
    assert.match(html, /subject-independent split/);
    assert.ok(html.includes(os.cpus()[0]!.model), 'processor named');
  });

  it('reads finished sizes back without training when run again', async () => {
    const again = await runExperiment(withRecipe({ epochs: 2 }));
    assert.deepEqual(again.reused, ['size-20', 'size-24']);
    assert.deepEqual(
      again.results.sizes.map((r) => r.metrics),
      resumed.results.sizes.map((r) => r.metrics),
    );
  });

  it('refuses to mix an experiment with other settings into DIR', async () => {
    await assert.rejects(runExperiment(withRecipe({ seed: 6 })), (e: unknown) => e instanceof VisemoError && /seed 5 vs 6/.test(e.message));
  });
});

describe('visemo experiment --folds 3 --splits subject,random on a ckplus48 subset', { skip }, () => {
  let dir: string;
  let first: ExperimentOutcome;
  let resumed: ExperimentOutcome;
  const options = (epochs: number): ExperimentOptions => ({
    data: CKPLUS,
    out: dir,
    sizes: [20],
    folds: 3,
    splits: ['subject', 'random'],
    backend: 'auto',
    recipe: { epochs, batchSize: 16, seed: 5, learningRate: 1e-3, channels: 1 },
    dataset: { subjectPattern: '^(S\\d+)_', classes: ['anger', 'happiness', 'surprise'], limitPerClass: 12 },
  });
  const subjectOf = (rel: string) => /(S\d+)_/.exec(rel)![1]!;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-experiment-cv-'));
    first = await runExperiment(options(1));
    // An interruption: fold 2's test metrics and all of fold 3 are lost.
    await fs.rm(path.join(dir, 'random', 'size-20', 'fold-02', 'metrics-test.json'));
    await fs.rm(path.join(dir, 'random', 'size-20', 'fold-03'), { recursive: true });
    resumed = await runExperiment(options(1));
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  it('tests every image exactly once, each subject in one fold only, on the same folds for every split run', async () => {
    for (const split of ['subject', 'random'] as const) {
      const records = await Promise.all([1, 2, 3].map((f) => readJson<SplitRecord>(path.join(dir, split, 'size-20', `fold-0${f}`, 'split.json'))));
      const tested = records.flatMap((r) => r.files.test.map(([rel]) => rel));
      const all = [...records[0]!.files.train, ...records[0]!.files.val, ...records[0]!.files.test].map(([rel]) => rel);
      assert.equal(tested.length, all.length, `${split}: every image tested`);
      assert.deepEqual([...tested].sort(), [...all].sort(), `${split}: each image tested once`);
      records.forEach((r, i) => assert.deepEqual(r.folds, { k: 3, fold: i + 1 }));
      if (split === 'subject') {
        const foldOf = new Map<string, number>();
        records.forEach((r, i) => {
          for (const [rel] of r.files.test) {
            assert.equal(foldOf.get(subjectOf(rel)) ?? i, i, `subject ${subjectOf(rel)} tested in two folds`);
            foldOf.set(subjectOf(rel), i);
          }
          const trained = new Set([...r.files.train, ...r.files.val].map(([rel]) => subjectOf(rel)));
          for (const [rel] of r.files.test) assert.ok(!trained.has(subjectOf(rel)), `fold ${i + 1} trained on test subject ${subjectOf(rel)}`);
        });
      }
    }
  });

  it('pools the folds: one confusion matrix over every image, per-fold accuracies in results.json and the report', async () => {
    const results = await loadResults(dir);
    assert.equal(results.settings.folds, 3);
    assert.deepEqual(results.settings.splits, ['subject', 'random']);
    for (const r of [results.sizes[0]!, results.otherSplits![0]!.sizes[0]!]) {
      assert.equal(r.folds!.length, 3);
      assert.deepEqual(r.metrics.confusion, sumConfusions(r.folds!.map((f) => f.metrics.confusion)));
      assert.equal(r.metrics.n, 36);
      assert.equal(r.predictions!.length, 36);
      for (const f of r.folds!) assert.deepEqual(f.metrics.confusion, (await readJson<Metrics>(path.join(dir, f.runDir, 'metrics-test.json'))).confusion);
    }
    const html = await fs.readFile(path.join(dir, 'report.html'), 'utf8');
    for (const id of ['folds-subject', 'folds-random', 'split-comparison', 'comparison-random', 'random-metrics-20'])
      assert.match(html, new RegExp(`<table id="${id}">`));
    assert.match(html, /<figure id="fig-random-confusion-20-counts" class="chart"><svg/);
    const pooled = (await fs.readFile(path.join(dir, 'tables', 'random-confusion-20.csv'), 'utf8')).trim().split('\n').slice(1);
    assert.deepEqual(
      pooled.map((l) => l.split(',').slice(1).map(Number)),
      results.otherSplits![0]!.sizes[0]!.metrics.confusion,
    );
    assert.equal(cellValue(html, 'folds-subject', 0, 1), results.sizes[0]!.folds![0]!.metrics.accuracy);
  });

  it('resumes at the fold where it stopped: finished folds are read back, the lost ones trained again', () => {
    assert.deepEqual(resumed.reused, ['subject/size-20/fold-01', 'subject/size-20/fold-02', 'subject/size-20/fold-03', 'random/size-20/fold-01']);
    assert.deepEqual(first.results.sizes[0]!.metrics, resumed.results.sizes[0]!.metrics);
  });

  it('refuses a finished fold of another split mode found where a subject fold belongs', async () => {
    const other = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-experiment-cv-other-'));
    try {
      await fs.mkdir(path.join(other, 'subject', 'size-20'), { recursive: true });
      await fs.cp(path.join(dir, 'random', 'size-20', 'fold-01'), path.join(other, 'subject', 'size-20', 'fold-01'), {
        recursive: true,
        preserveTimestamps: true,
      });
      await assert.rejects(
        runExperiment({ ...options(1), out: other }),
        (e: unknown) => e instanceof VisemoError && /holds a run of the random split \(fold 1 of 3\), not of the subject split/.test(e.message),
      );
    } finally {
      await fs.rm(other, { recursive: true, force: true });
    }
  });

  it('resumes a fold at its epoch: more epochs keep the ones trained', async () => {
    const more = await runExperiment(options(2));
    assert.deepEqual(more.reused, []);
    for (const [k, f] of more.results.sizes[0]!.folds!.entries()) {
      assert.equal(f.history.epochs.length, 2);
      assert.deepEqual(f.history.epochs[0], resumed.results.sizes[0]!.folds![k]!.history.epochs[0], 'epoch 1 kept, not retrained');
    }
  });
});
