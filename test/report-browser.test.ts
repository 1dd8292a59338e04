/**
 * Opens a rendered report.html in headless Chromium (Debian's chromium, driven by playwright-core)
 * and checks that every chart really drew: non-empty SVGs with the expected series and marks.
 * Skipped, saying why, where /usr/bin/chromium is not installed.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { writeReport } from '../src/report/write-report.js';
import type { ExperimentResults } from '../src/report/types.js';
import { FIXTURE_CLASSES, syntheticResults } from './fixtures/experiment-results.js';

const CHROMIUM = process.env.VISEMO_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium, or set VISEMO_CHROMIUM)`;

describe('report.html in headless Chromium', { skip }, () => {
  let dir: string;
  let results: ExperimentResults;
  // playwright-core types, loaded lazily so a missing browser skips instead of failing at import.
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-report-browser-'));
    results = await syntheticResults([50, 20]);
    const { html } = await writeReport(dir, results);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Any request that is not the file itself would mean the report is not self-contained.
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) external.push(r.url());
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    assert.deepEqual(external, [], 'no external requests');
  });

  after(async () => {
    await browser?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('draws every chart as a visible, non-empty SVG', async () => {
    const charts = await page.$$eval('figure.chart > svg', (svgs) =>
      svgs.map((s) => {
        const box = s.getBoundingClientRect();
        return { id: s.parentElement!.id, width: box.width, height: box.height, marks: s.querySelectorAll('.role-mark path, .role-mark text').length };
      }),
    );
    assert.equal(charts.length, 3 * results.sizes.length + 2);
    for (const c of charts) {
      assert.ok(c.width > 100 && c.height > 100, `${c.id} has a size (${c.width}×${c.height})`);
      assert.ok(c.marks > 0, `${c.id} has marks`);
    }
  });

  it('shows train and validation accuracy and loss curves for each size', async () => {
    for (const r of results.sizes) {
      const lines = await page.$$eval(`#fig-curves-${r.size} .mark-line.role-mark path`, (paths) =>
        paths.map((p) => ({ label: p.getAttribute('aria-label') ?? '', d: p.getAttribute('d') ?? '', length: (p as SVGPathElement).getTotalLength() })),
      );
      // Two panels (accuracy, loss) × two series (train, validation).
      assert.equal(lines.length, 4);
      for (const series of ['train', 'validation']) {
        assert.equal(lines.filter((l) => l.label.includes(`series: ${series}`)).length, 2, `${series} in both panels`);
      }
      for (const l of lines) assert.ok(l.length > 10, `line ${l.label} is drawn (${l.d.slice(0, 30)})`);
      const legend = await page.$$eval(`#fig-curves-${r.size} .role-legend-label text`, (t) => t.map((x) => x.textContent));
      assert.deepEqual(legend, ['train', 'validation']);
    }
  });

  it('shows confusion heat maps with a cell and a number per class pair, and class names on the axes', async () => {
    const k = FIXTURE_CLASSES.length;
    for (const r of results.sizes) {
      for (const kind of ['counts', 'normalised']) {
        const sel = `#fig-confusion-${r.size}-${kind}`;
        const cells = await page.$$eval(`${sel} .mark-rect.role-mark path`, (p) => p.map((x) => x.getBoundingClientRect().width));
        assert.equal(cells.length, k * k);
        assert.ok(
          cells.every((w) => w > 10),
          'cells have width',
        );
        const numbers = await page.$$eval(`${sel} .mark-text.role-mark text`, (t) => t.map((x) => x.textContent ?? ''));
        const expected = r.metrics.confusion.flatMap((row) => {
          const total = row.reduce((a, b) => a + b, 0);
          return row.map((n) => (kind === 'counts' ? String(n) : (n / total).toFixed(2)));
        });
        assert.deepEqual([...numbers].sort(), [...expected].sort());
        const labels = await page.$$eval(`${sel} .role-axis-label text`, (t) => t.map((x) => x.textContent));
        for (const c of FIXTURE_CLASSES) assert.equal(labels.filter((l) => l === c).length, 2, `${c} on both axes`);
      }
    }
  });

  it('shows seconds-per-epoch bars for this machine and the paper, and saves a screenshot', async () => {
    const bars = await page.$$eval('#fig-epoch-seconds .mark-rect.role-mark path', (p) => p.map((x) => x.getAttribute('aria-label') ?? ''));
    // This machine for each size, plus the paper's CPU and GPU for 50×50 and 20×20.
    assert.equal(bars.length, 3 * results.sizes.length);
    assert.ok(bars.some((b) => b.includes('paper CPU') && b.includes('137')));
    const shot = path.join(os.tmpdir(), 'visemo-report-screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await fs.readFile(shot);
    assert.ok(png.length > 50_000, `screenshot ${shot} has content (${png.length} bytes)`);
  });
});
