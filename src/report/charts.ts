/**
 * The report's figures as Vega-Lite specifications, rendered to SVG in Node by Vega's
 * headless renderer and copied to PNG by sharp (librsvg) — src/chart/render.ts, shared with
 * predict's video timelines — so the same chart serves the HTML report (inline SVG) and the
 * README/Markdown (PNG).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { History } from '../model/run-folder.js';
import { CHART_CONFIG as CONFIG } from '../chart/render.js';

export { renderSvg, svgToPng } from '../chart/render.js';

export const SERIES = { train: 'train', validation: 'validation' } as const;

/** Figs. 5, 7, 9: training and validation accuracy (left) and loss (right) per epoch. */
export function curvesSpec(title: string, history: History): TopLevelSpec {
  const values = history.epochs.flatMap((e) => [
    { epoch: e.epoch, metric: 'accuracy', series: SERIES.train, value: e.acc },
    { epoch: e.epoch, metric: 'accuracy', series: SERIES.validation, value: e.valAcc },
    { epoch: e.epoch, metric: 'loss', series: SERIES.train, value: e.loss },
    { epoch: e.epoch, metric: 'loss', series: SERIES.validation, value: e.valLoss },
  ]);
  const panel = (metric: 'accuracy' | 'loss') => ({
    width: 300,
    height: 200,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: {
        field: 'value',
        type: 'quantitative' as const,
        title: metric,
        scale: metric === 'accuracy' ? { domain: [0, 1] } : { zero: true },
      },
      color: {
        field: 'series',
        type: 'nominal' as const,
        title: null,
        scale: { domain: [SERIES.train, SERIES.validation], range: ['#1f77b4', '#ff7f0e'] },
      },
      tooltip: [
        { field: 'series', type: 'nominal' as const },
        { field: 'epoch', type: 'quantitative' as const },
        { field: 'value', type: 'quantitative' as const, format: '.4f' },
      ],
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    hconcat: [panel('accuracy'), panel('loss')],
    config: CONFIG,
  };
}

/**
 * Figs. 6, 8, 10: a confusion matrix heat map, true class down, predicted across, the number
 * in each cell. `normalised` divides every row by its total (recall on the diagonal).
 */
export function confusionSpec(title: string, classes: string[], confusion: number[][], normalised: boolean): TopLevelSpec {
  const values = confusion.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => {
      const value = normalised ? (total > 0 ? count / total : 0) : count;
      return { true: classes[t], predicted: classes[p], value, label: normalised ? value.toFixed(2) : String(count) };
    });
  });
  const max = Math.max(1e-9, ...values.map((v) => v.value));
  const cell = Math.max(36, Math.min(60, 420 / Math.max(1, classes.length)));
  const axis = (title: string) => ({ field: title === 'true class' ? 'true' : 'predicted', type: 'nominal' as const, sort: classes, title });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    width: cell * classes.length,
    height: cell * classes.length,
    encoding: {
      x: { ...axis('predicted class'), axis: { labelAngle: -40, orient: 'top' as const } },
      y: axis('true class'),
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: normalised ? 'share of row' : 'images',
            scale: { scheme: 'blues', domain: [0, normalised ? 1 : max] },
          },
          tooltip: [
            { field: 'true', type: 'nominal' },
            { field: 'predicted', type: 'nominal' },
            { field: 'label', type: 'nominal', title: normalised ? 'share' : 'count' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          text: { field: 'label', type: 'nominal' },
          // Light text on the darker half of the colour scale keeps every number readable.
          color: { condition: { test: `datum.value > ${(normalised ? 1 : max) / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
    config: CONFIG,
  };
}

export interface EpochTimeBar {
  size: string;
  source: string;
  seconds: number;
}

/** Table 2 as bars: seconds per epoch per input size, this machine beside the paper's CPU and GPU. */
export function epochTimeSpec(title: string, bars: EpochTimeBar[], sources: string[], sizes: string[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: bars },
    width: 60 + 60 * sources.length * Math.max(1, sizes.length),
    height: 240,
    encoding: {
      x: { field: 'size', type: 'nominal', sort: sizes, title: 'input size', axis: { labelAngle: 0 } },
      xOffset: { field: 'source', type: 'nominal', sort: sources },
      // Headroom above the tallest bar for its label.
      y: { field: 'seconds', type: 'quantitative', title: 'seconds per epoch', scale: { domainMax: 1.12 * Math.max(1e-3, ...bars.map((b) => b.seconds)) } },
      color: { field: 'source', type: 'nominal', sort: sources, title: null, legend: { orient: 'bottom', direction: 'vertical' } },
    },
    layer: [
      { mark: { type: 'bar' }, encoding: { tooltip: [{ field: 'source' }, { field: 'size' }, { field: 'seconds', format: '.2f' }] } },
      {
        mark: { type: 'text', dy: -6, fontSize: 10 },
        encoding: { text: { field: 'seconds', type: 'quantitative', format: '.3~r' } },
      },
    ],
    config: CONFIG,
  };
}

export interface IntervalPoint {
  /** The x category: an input size (50×50) or a fold (1 … k). */
  x: string;
  /** The colour: a split, a size, or the paper. */
  series: string;
  value: number;
  lower?: number;
  upper?: number;
}

/**
 * Accuracies as points with their 95 % intervals as error bars, grouped by `x` and coloured by
 * series (the paper's values, which have no interval, as points alone).
 */
export function intervalSpec(title: string, points: IntervalPoint[], xs: string[], series: string[], xTitle: string): TopLevelSpec {
  const lowest = Math.min(...points.map((p) => p.lower ?? p.value));
  const encoding = {
    x: { field: 'x', type: 'nominal' as const, sort: xs, title: xTitle, axis: { labelAngle: 0 } },
    xOffset: { field: 'series', type: 'nominal' as const, sort: series },
    color: { field: 'series', type: 'nominal' as const, sort: series, title: null, legend: { orient: 'bottom' as const, direction: 'vertical' as const } },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points.map((p) => ({ ...p, text: `${(p.value * 100).toFixed(1)}%` })) },
    width: Math.max(160, 40 + 28 * series.length * Math.max(1, xs.length)),
    height: 240,
    encoding,
    layer: [
      {
        transform: [{ filter: 'isValid(datum.lower)' }],
        mark: { type: 'errorbar', ticks: true },
        encoding: {
          y: {
            field: 'lower',
            type: 'quantitative',
            title: 'accuracy (95 % interval)',
            scale: { domain: [Math.max(0, Math.floor(lowest * 10) / 10 - 0.05), 1] },
            axis: { format: '%' },
          },
          y2: { field: 'upper' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: {
          y: { field: 'value', type: 'quantitative' },
          tooltip: [{ field: 'series' }, { field: 'x', title: xTitle }, { field: 'text', title: 'accuracy' }],
        },
      },
    ],
    config: CONFIG,
  };
}

/**
 * A table of shares as a heat map: one row per `rows` entry, one column per `columns` entry, the
 * value printed in each cell; missing cells (a group without faces of a class) stay blank.
 * The audit's recall per class by group.
 */
export function shareHeatmapSpec(
  title: string,
  cells: { row: string; column: string; value: number }[],
  rows: string[],
  columns: string[],
  rowTitle: string,
  columnTitle: string,
  legend: string,
): TopLevelSpec {
  const cell = Math.max(34, Math.min(56, 480 / Math.max(1, columns.length)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: cells.map((c) => ({ ...c, label: c.value.toFixed(2) })) },
    width: cell * columns.length,
    height: Math.max(24, Math.min(40, 480 / Math.max(1, rows.length))) * rows.length,
    encoding: {
      x: { field: 'column', type: 'nominal', sort: columns, title: columnTitle, axis: { labelAngle: -40, orient: 'top' } },
      y: { field: 'row', type: 'nominal', sort: rows, title: rowTitle },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: { field: 'value', type: 'quantitative', title: legend, scale: { scheme: 'blues', domain: [0, 1] } },
          tooltip: [
            { field: 'row', type: 'nominal', title: rowTitle },
            { field: 'column', type: 'nominal', title: columnTitle },
            { field: 'label', type: 'nominal', title: legend },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'label', type: 'nominal' },
          color: { condition: { test: 'datum.value > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
    config: CONFIG,
  };
}
