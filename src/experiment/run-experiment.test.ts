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
    assert.deepEqual(results.sizes.map((r) => r.size), [20, 24]);
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
      assert.ok(md.includes(`${(r.metrics.accuracy * 100).toFixed(2)}%`));
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
    assert.deepEqual(again.reused, [20, 24]);
    assert.deepEqual(again.results.sizes.map((r) => r.metrics), resumed.results.sizes.map((r) => r.metrics));
  });

  it('refuses to mix an experiment with other settings into DIR', async () => {
    await assert.rejects(runExperiment(withRecipe({ seed: 6 })), (e: unknown) => e instanceof VisemoError && /seed 5 vs 6/.test(e.message));
  });
});
