import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crossValidatedResults, syntheticResults } from '../../test/fixtures/experiment-results.js';
import { formatDifference, formatWithInterval, meanSd, newcombeDifference, wilson } from '../evaluation/intervals.js';
import { mcnemarFromPredictions } from '../evaluation/mcnemar.js';
import { sumConfusions } from '../evaluation/metrics.js';
import type { Metrics } from '../evaluation/types.js';
import { VisemoError } from '../util/errors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { ratio, integer } from './format.js';
import { PAPER_SIZES } from './paper-reference.js';
import type { ExperimentResults } from './types.js';
import { loadResults, writeReport, type WrittenReport } from './write-report.js';

/** The cells of an HTML table's body rows: [text, data-value] pairs. */
function htmlTableRows(html: string, id: string): { text: string; value?: number }[][] {
  const m = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(html);
  assert.ok(m, `table ${id} is in the HTML`);
  const body = m[1]!.split('<tbody>')[1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td(?: class="num" data-value="([^"]*)")?>([\s\S]*?)<\/td>/g)].map((c) => ({
      text: c[2]!,
      value: c[1] === undefined ? undefined : Number(c[1]),
    })),
  );
}

/** `90.6 % (84.9–94.9)` from the confusion matrix. */
function accuracyText(m: Metrics): string {
  const correct = m.confusion.reduce((a, row, c) => a + row[c]!, 0);
  return formatWithInterval(m.accuracy, wilson(correct, m.n));
}

/** The Markdown table row that starts with `first`, under the caption containing `caption`. */
function markdownRow(md: string, caption: string, first: string): string[] {
  const start = md.indexOf(caption);
  assert.ok(start >= 0, `caption "${caption}" is in the Markdown`);
  const line = md
    .slice(start)
    .split('\n')
    .find((l) => l.startsWith(`| ${first} |`));
  assert.ok(line, `row ${first} under "${caption}"`);
  return line
    .split('|')
    .slice(1, -1)
    .map((s) => s.trim());
}

describe('report rendering', () => {
  let dir: string;
  let results: ExperimentResults;
  let written: WrittenReport;
  let html: string;
  let md: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-report-'));
    results = await syntheticResults([50, 20, 24]);
    written = await writeReport(dir, results);
    html = await fs.readFile(written.html, 'utf8');
    md = await fs.readFile(written.markdown, 'utf8');
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  it('has every section of the paper in HTML and Markdown', () => {
    for (const id of ['overview', 'comparison', 'table1', 'fig4', 'fig3', 'table2', 'curves', 'confusion', 'per-class']) {
      assert.match(html, new RegExp(`<section id="${id}">`), `HTML section ${id}`);
      assert.match(md, new RegExp(`<a id="${id}"></a>`), `Markdown section ${id}`);
    }
    for (const title of ['Table 1', 'Fig. 4', 'Figs. 3.1–3.3', 'Table 2', 'Figs. 5, 7, 9', 'Figs. 6, 8, 10', 'Tables 3 and 4', 'Comparison with the paper']) {
      assert.ok(html.includes(title) && md.includes(title), title);
    }
  });

  it('is self-contained: inline SVG charts, no external scripts, styles or images', () => {
    assert.doesNotMatch(html, /<script|<link|<img|src="http/);
    const charts = html.match(/<figure id="fig-[^"]+" class="chart"><svg/g) ?? [];
    // Per size: curves + two confusion matrices; plus the epoch-time bars and the accuracies with intervals.
    assert.equal(charts.length, 3 * results.sizes.length + 2);
  });

  it('shows test accuracy per size equal to the saved metrics, beside the paper', () => {
    const rows = htmlTableRows(html, 'comparison');
    assert.equal(rows.length, results.sizes.length);
    results.sizes.forEach((r, i) => {
      assert.equal(rows[i]![1]!.value, r.metrics.accuracy);
      const paper = PAPER_SIZES.find((p) => p.size === r.size);
      assert.equal(rows[i]![2]!.value, paper ? paper.testAccuracy.value / 100 : undefined);
      assert.equal(markdownRow(md, 'Test accuracy per input size', `${r.size}×${r.size}`)[1], accuracyText(r.metrics));
    });
    assert.ok(md.includes('87.00%') && md.includes('72.39%'));
    assert.match(html, /subject-independent split/);
  });

  it("draws each accuracy's 95 % Wilson interval as an error bar", () => {
    const fig = /<figure id="fig-accuracy-intervals"[\s\S]*?<\/figure>/.exec(html)![0];
    const bars = [...fig.matchAll(/aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="errorbar"/g)].map((m) => m[1]!);
    for (const r of results.sizes) {
      const correct = r.metrics.confusion.reduce((a, row, c) => a + row[c]!, 0);
      const ci = wilson(correct, r.metrics.n);
      const bar = bars.find((b) => b.includes(`input size: ${r.size}×${r.size};`));
      assert.ok(bar, `an error bar for ${r.size}×${r.size}`);
      const field = (name: string) => Number(new RegExp(`(?:^|; )${name}: ([0-9.e-]+)`).exec(bar)![1]);
      assert.ok(Math.abs(field('lower') - ci.lower) < 1e-9 && Math.abs(field('upper') - ci.upper) < 1e-9, bar);
    }
  });

  it('shows precision, recall, F1 and support per class equal to the saved metrics', () => {
    for (const r of results.sizes) {
      const rows = htmlTableRows(html, `metrics-${r.size}`);
      for (const [k, c] of r.metrics.perClass.entries()) {
        const [name, precision, recall, f1, support] = rows[k]!;
        assert.equal(name!.text, c.class);
        assert.deepEqual([precision!.value, recall!.value, f1!.value, support!.value], [c.precision, c.recall, c.f1, c.support]);
        const mdRow = markdownRow(md, `${r.size}×${r.size}: precision, recall`, c.class);
        const tp = r.metrics.confusion[k]![k]!;
        const predicted = r.metrics.confusion.reduce((a, row) => a + row[k]!, 0);
        assert.deepEqual(mdRow.slice(1, 5), [
          formatWithInterval(c.precision, wilson(tp, predicted)),
          formatWithInterval(c.recall, wilson(tp, c.support)),
          ratio(c.f1),
          integer(c.support),
        ]);
      }
    }
    // The paper's Table 3 value for 50×50 anger precision sits beside ours; 24×24 has none.
    assert.equal(htmlTableRows(html, 'metrics-50')[0]![5]!.value, 0.96);
    assert.equal(htmlTableRows(html, 'metrics-24')[0]![5]!.text, '—');
  });

  it('draws every confusion count in the heat map and writes it as CSV', async () => {
    for (const r of results.sizes) {
      const fig = new RegExp(`<figure id="fig-confusion-${r.size}-counts"[\\s\\S]*?</figure>`).exec(html)![0];
      const texts = [...fig.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      for (const n of r.metrics.confusion.flat()) assert.ok(texts.includes(String(n)), `count ${n} drawn`);
      for (const c of r.metrics.classes) assert.ok(texts.includes(c), `class ${c} labelled`);
      const csv = (await fs.readFile(path.join(dir, 'tables', `confusion-${r.size}.csv`), 'utf8')).trim().split('\n');
      assert.deepEqual(
        csv.slice(1).map((l) => l.split(',').slice(1).map(Number)),
        r.metrics.confusion,
      );
    }
  });

  it('gives Table 1 counts, Fig. 4 statistics, parameters and seconds per epoch from the results', () => {
    const t1 = htmlTableRows(html, 'table1-counts');
    const anger = results.counts.anger!;
    assert.deepEqual(
      t1[0]!.slice(1, 4).map((c) => c.value),
      [anger.train, anger.val, anger.test],
    );
    assert.deepEqual(
      t1[0]!.slice(5).map((c) => c.value),
      [1896, 237, 237],
    );
    const f4 = htmlTableRows(html, 'fig4-normalisation');
    assert.equal(f4[0]![2]!.value, results.sizes[0]!.metadata.normalisation.mean[0]);
    assert.equal(f4[0]![4]!.value, 0.21988911368700648);
    const f3 = htmlTableRows(html, 'fig3-parameters');
    assert.deepEqual(
      f3.map((r) => r[1]!.value),
      results.sizes.map((r) => r.summary.total),
    );
    // Six classes and three channels: the parameter counts are the paper's.
    assert.equal(f3[0]![1]!.value, 1_274_694);
    assert.equal(f3[1]![1]!.value, 226_118);
    const t2 = htmlTableRows(html, 'table2-epoch-seconds');
    results.sizes.forEach((r, i) => {
      const mean = r.history.epochs.reduce((a, e) => a + e.seconds, 0) / r.history.epochs.length;
      assert.ok(Math.abs(t2[i]![2]!.value! - mean) < 1e-12);
    });
    assert.deepEqual([t2[0]![6]!.value, t2[0]![7]!.value], [137, 50]);
    assert.match(html, /Test CPU/);
  });

  it('writes PNG copies of every figure and per-epoch CSV', async () => {
    const pngs = written.figures.filter((f) => f.endsWith('.png'));
    assert.equal(pngs.length, 3 * results.sizes.length + 2);
    for (const f of pngs) {
      const head = (await fs.readFile(f)).subarray(0, 8);
      assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${f} is a PNG`);
      assert.ok(md.includes(`figures/${path.basename(f)}`), `${f} linked from report.md`);
    }
    const history = (await fs.readFile(path.join(dir, 'tables', 'history.csv'), 'utf8')).trim().split('\n');
    assert.equal(history.length, 1 + results.sizes.reduce((a, r) => a + r.history.epochs.length, 0));
    assert.equal(Number(history[1]!.split(',')[3]), results.sizes[0]!.history.epochs[0]!.acc);
  });

  it('re-renders from results.json, and names the file when it is missing', async () => {
    await writeJsonAtomic(path.join(dir, 'results.json'), results);
    assert.deepEqual(await loadResults(dir), results);
    await assert.rejects(loadResults(path.join(dir, 'nowhere')), (e: unknown) => e instanceof VisemoError && /results\.json does not exist/.test(e.message));
  });
});

describe('report of a cross-validated experiment on two splits', () => {
  let dir: string;
  let results: ExperimentResults;
  let html: string;
  let md: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-report-cv-'));
    results = await crossValidatedResults([50, 20], 3);
    const written = await writeReport(dir, results);
    html = await fs.readFile(written.html, 'utf8');
    md = await fs.readFile(written.markdown, 'utf8');
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  it('gives every fold with its interval, mean ± sd over folds and the pooled accuracy', () => {
    for (const part of [{ split: 'subject', sizes: results.sizes }, results.otherSplits![0]!]) {
      const rows = htmlTableRows(html, `folds-${part.split}`);
      assert.equal(rows.length, 3 + 2);
      part.sizes.forEach((r, j) => {
        r.folds!.forEach((f, i) => {
          assert.equal(rows[i]![1 + 2 * j]!.value, f.metrics.accuracy);
          assert.equal(rows[i]![1 + 2 * j]!.text, accuracyText(f.metrics));
          assert.equal(rows[i]![2 + 2 * j]!.value, f.metrics.n);
        });
        const { mean, sd } = meanSd(r.folds!.map((f) => f.metrics.accuracy));
        assert.equal(rows[3]![1 + 2 * j]!.value, mean);
        assert.equal(rows[3]![1 + 2 * j]!.text, `${(mean * 100).toFixed(1)} ± ${(sd * 100).toFixed(1)} %`);
        assert.equal(rows[4]![1 + 2 * j]!.text, accuracyText(r.metrics));
      });
    }
    assert.match(md, /## Cross-validation — 3 folds/);
    assert.match(html, /<figure id="fig-folds-subject" class="chart"><svg/);
  });

  it('pools the folds into one confusion matrix and per-class table per size and split', async () => {
    for (const [prefix, sizes] of [
      ['', results.sizes],
      ['random-', results.otherSplits![0]!.sizes],
    ] as const) {
      for (const r of sizes) {
        assert.deepEqual(r.metrics.confusion, sumConfusions(r.folds!.map((f) => f.metrics.confusion)));
        const csv = (await fs.readFile(path.join(dir, 'tables', `${prefix}confusion-${r.size}.csv`), 'utf8')).trim().split('\n');
        assert.deepEqual(
          csv.slice(1).map((l) => l.split(',').slice(1).map(Number)),
          r.metrics.confusion,
        );
        assert.equal(htmlTableRows(html, `${prefix}metrics-${r.size}`)[0]![2]!.value, r.metrics.perClass[0]!.recall);
      }
    }
  });

  it('sets the random split beside the subject split: difference with its interval and the paired McNemar test', () => {
    const rows = htmlTableRows(html, 'split-comparison');
    assert.equal(rows.length, 2);
    results.sizes.forEach((s, i) => {
      const r = results.otherSplits![0]!.sizes[i]!;
      const correct = (m: Metrics) => m.confusion.reduce((a, row, c) => a + row[c]!, 0);
      const d = newcombeDifference(correct(r.metrics), r.metrics.n, correct(s.metrics), s.metrics.n);
      assert.equal(rows[i]![1]!.text, accuracyText(r.metrics));
      assert.equal(rows[i]![2]!.text, accuracyText(s.metrics));
      assert.equal(rows[i]![3]!.text, formatDifference(d));
      const byRel = new Map(s.predictions!.map((p) => [p[0], p[2]]));
      const t = mcnemarFromPredictions(
        r.predictions!.map((p) => p[1]),
        r.predictions!.map((p) => p[2]),
        r.predictions!.map((p) => byRel.get(p[0])!),
      );
      assert.equal(rows[i]![4]!.text, `${t.b} / ${t.c}`);
      assert.equal(rows[i]![5]!.value, t.p);
    });
    // The sentence says which of our numbers the paper's are comparable with.
    assert.match(md, /Comparable with the paper's 90\.75 % \/ 87 % \/ 72\.39 %: the random-split accuracies/);
    assert.match(md, /at 50×50 the random split scores [+−]\d+\.\d pp \([^)]*\) against the subject-independent one, (not )?significant at 5 %/);
    assert.ok(md.includes('subject split') && md.includes('random split'));
  });
});
