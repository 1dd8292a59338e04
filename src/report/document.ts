/**
 * Turns saved experiment results into a report document: sections of paragraphs, tables and
 * figures in the paper's order, each table cell carrying both its shown text and its exact value.
 * HTML, Markdown and CSV are renderings of this one document, so they cannot disagree.
 */
import { formatSummary } from '../model/summary.js';
import { confusionSpec, curvesSpec, epochTimeSpec, intervalSpec, renderSvg, type EpochTimeBar, type IntervalPoint } from './charts.js';
import { formatDifference, formatWithInterval } from '../evaluation/intervals.js';
import { metricIntervals } from '../evaluation/metric-intervals.js';
import { formatP, pStatement } from '../evaluation/mcnemar.js';
import { accuracyInterval, foldSummary, formatMeanSd, splitDifference, splitParts } from './statistics.js';
import type { SplitMode } from '../config/recipe.js';
import { duration, integer, isGpuBackend, ratio, seconds, sizeLabel } from './format.js';
import { pct } from '../util/table.js';
import { PAPER_CITATION, PAPER_DATASET, PAPER_FIG4, PAPER_SPLIT, PAPER_TABLE1, paperForSize } from './paper-reference.js';
import { SPLITS, type ExperimentResults, type SizeResult, type SplitResults } from './types.js';

/** A table cell: the text shown, and the exact number behind it (for CSV and data-value). */
export interface Cell {
  text: string;
  value?: number;
}

export interface Table {
  /** File-safe id: the CSV is tables/<id>.csv and the HTML table's id. */
  id: string;
  caption: string;
  columns: string[];
  rows: Cell[][];
  /** Written as CSV only, not shown in the report (long per-epoch data). */
  csvOnly?: boolean;
}

export interface Figure {
  /** File-safe id: figures/<id>.svg and .png. */
  id: string;
  caption: string;
  svg: string;
}

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; table: Table }
  | { kind: 'figure'; figure: Figure }
  | { kind: 'preformatted'; text: string };

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

export interface ReportDocument {
  title: string;
  sections: Section[];
}

const NONE: Cell = { text: '—' };
const text = (t: string): Cell => ({ text: t });
const num = (value: number, format: (n: number) => string): Cell => ({ text: format(value), value });
const maybe = (value: number | undefined, format: (n: number) => string): Cell => (value === undefined ? NONE : num(value, format));
const paragraph = (t: string): Block => ({ kind: 'paragraph', text: t });
const tableBlock = (table: Table): Block => ({ kind: 'table', table });

/** Every training history of a size: its run's, or each fold's. */
const histories = (r: SizeResult) => r.folds?.map((f) => f.history) ?? [r.history];

/** Training accuracy in the epoch whose model was kept (best validation accuracy), the model the test scores; with folds, their mean. */
export function keptTrainAccuracy(r: SizeResult): number | undefined {
  const kept = histories(r).map((h) => h.epochs.find((e) => e.epoch === h.bestEpoch)?.acc);
  if (kept.some((a) => a === undefined)) return undefined;
  return (kept as number[]).reduce((a, b) => a + b, 0) / kept.length;
}

/** Mean seconds of a training epoch (over every fold's epochs with folds). */
export function meanEpochSeconds(r: SizeResult): number {
  const e = histories(r).flatMap((h) => h.epochs);
  return e.length === 0 ? 0 : e.reduce((a, x) => a + x.seconds, 0) / e.length;
}

/** Seconds spent in training epochs, every fold's together. */
export function totalTrainingSeconds(r: SizeResult): number {
  return histories(r).reduce((a, h) => a + h.epochs.reduce((b, x) => b + x.seconds, 0), 0);
}

/** A cell `90.6 % (84.9–94.9)` whose value is the accuracy. */
const accuracyCell = (r: SizeResult): Cell => ({ text: formatWithInterval(r.metrics.accuracy, accuracyInterval(r.metrics)), value: r.metrics.accuracy });

export function splitDescription(results: ExperimentResults, mode: SplitMode = results.settings.split): string {
  const s = results.settings;
  if (results.sizes[0]?.metadata.split.mode === 'given') {
    return "the dataset's own train/val/test folders (whether a person appears in more than one is up to the dataset).";
  }
  if (s.folds) {
    return mode === 'subject'
      ? `${s.folds}-fold cross-validation by subject (seed ${s.seed}): every subject's images are tested in exactly one fold, by a model that never saw that person` +
          (s.subjectPattern ? ` (subjects read from file names with the pattern ${s.subjectPattern})` : '') +
          `; folds stratified by class as far as whole subjects allow; each fold's model is validated on ${Math.round(s.fractions.val * 100)} % of the other folds' subjects. ` +
          'The same folds and seed train every size; accuracies pool the folds, so every image is tested once.'
      : `${s.folds}-fold cross-validation over single images (seed ${s.seed}), stratified by class: frames of one person and one video fall on both sides of each fold, ` +
          "as in the paper's random split, so the accuracy is inflated by that leak. Every image is tested once.";
  }
  if (mode === 'subject') {
    return (
      `subject-independent split (seed ${s.seed}): every subject's images are in exactly one of train, validation and test` +
      (s.subjectPattern ? `, subjects read from file names with the pattern ${s.subjectPattern}` : '') +
      ', so the test accuracy measures recognition of people the model has never seen.'
    );
  }
  return (
    `random split of images (seed ${s.seed}): images of the same person — and frames of the same video — can be in both ` +
    'train and test, so the test accuracy is higher than a subject-independent split would give and is not the same experiment.'
  );
}

function overview(results: ExperimentResults): Section {
  const s = results.settings;
  const backends = [...new Set(results.sizes.map((r) => r.metadata.training.backend))];
  const classes = results.sizes[0]?.metadata.classes ?? s.classes ?? [];
  return {
    id: 'overview',
    title: 'Experiment',
    blocks: [
      paragraph(
        `Reproduction of ${PAPER_CITATION}: the paper's CNN trained at input sizes ${s.sizes.map(sizeLabel).join(', ')} ` +
          (s.folds
            ? `on the same ${s.folds} cross-validation folds with the same seed, each fold's model evaluated on its own test fold${
                results.otherSplits
                  ? `, once per split mode (${splitParts(results)
                      .map((p) => p.split)
                      .join(', ')})`
                  : ''
              }.`
            : `on the same split with the same seed, each evaluated on the test split${
                results.otherSplits
                  ? `, once per split mode (${splitParts(results)
                      .map((p) => p.split)
                      .join(', ')})`
                  : ''
              }.`),
      ),
      tableBlock({
        id: 'settings',
        caption: 'Settings',
        columns: ['Setting', 'This run', 'Paper'],
        rows: [
          [text('Dataset'), text(results.dataset), text(PAPER_DATASET)],
          [text('Classes'), text(`${classes.length}: ${classes.join(', ')}`), text('6: anger, disgust, fear, happiness, sadness, surprise')],
          ...splitParts(results).map((part, i) => [
            text(i === 0 ? 'Split' : `Split (${part.split}, side by side)`),
            text(splitDescription(results, part.split)),
            text(PAPER_SPLIT),
          ]),
          [text('Epochs'), text(String(s.epochs)), NONE],
          [text('Batch size'), text(String(s.batchSize)), NONE],
          [text('Learning rate'), text(String(s.learningRate)), NONE],
          [text('Input channels'), text(String(s.channels)), text(String(3))],
          ...(s.limitPerClass ? [[text('Images per class (limit)'), text(String(s.limitPerClass)), NONE]] : []),
          [text('Backend'), text(backends.join(', ') || s.backend), text('Keras on Google Colab (CPU, and a K80 GPU)')],
          [text('Processor'), text(`${results.machine.processor} (${results.machine.cores} cores)`), text('not stated')],
          [text('Platform'), text(`${results.machine.platform}, Node ${results.machine.node}`), NONE],
          [text('Finished'), text(results.updatedAt), text('2022')],
        ],
      }),
    ],
  };
}

function comparisonTable(results: ExperimentResults, part: SplitResults, primary: boolean): Table {
  const cv = results.settings.folds !== undefined;
  const rows = part.sizes.map((r) => {
    const p = paperForSize(r.size);
    const best = r.history.epochs.find((e) => e.epoch === r.history.bestEpoch);
    const test = r.metrics.accuracy;
    const folds = foldSummary(r);
    return [
      text(sizeLabel(r.size)),
      accuracyCell(r),
      p ? num(p.testAccuracy.value / 100, pct) : NONE,
      p ? num(test * 100 - p.testAccuracy.value, (d) => `${d >= 0 ? '+' : ''}${d.toFixed(2)} pp`) : NONE,
      maybe(keptTrainAccuracy(r), pct),
      p ? num(p.trainAccuracy.value / 100, pct) : NONE,
      cv ? NONE : best ? { text: `${pct(best.valAcc)} (epoch ${best.epoch})`, value: best.valAcc } : NONE,
      num(r.metrics.n, integer),
      ...(cv ? [folds ? { text: `${formatMeanSd(folds)} (${folds.finished} of ${results.settings.folds} folds)`, value: folds.mean } : NONE] : []),
    ];
  });
  const where = cv ? `the ${results.settings.folds} folds' test images pooled` : 'the test split';
  return {
    id: primary ? 'comparison' : `comparison-${part.split}`,
    caption:
      `Test accuracy per input size against the paper (Section 2: 90.75% at 100×100, 87% at 50×50, 72.39% at 20×20); ${part.split} split, ${where}, ` +
      '95 % Wilson interval in brackets',
    columns: [
      'Input size',
      'Test accuracy (95 % CI)',
      'Paper test accuracy',
      'Difference',
      cv ? 'Train accuracy (kept epoch, mean of folds)' : 'Train accuracy (kept epoch)',
      'Paper train accuracy',
      'Best validation accuracy',
      'Test images',
      ...(cv ? ['Fold accuracy, mean ± sd'] : []),
    ],
    rows,
  };
}

/** Which of this experiment's accuracies can stand beside the paper's, and why. */
export function paperComparability(results: ExperimentResults): string {
  if (results.sizes[0]?.metadata.split.mode === 'given')
    return "The dataset's own split decides whether people appear on both sides; check that before setting these numbers beside the paper's.";
  const modes = splitParts(results).map((p) => p.split);
  const data = "though not in data (this dataset, not its eNTERFACE'05 frames)";
  const leak =
    "frames were split at random, so frames of one person — on CK+ the three frames of one sequence, on eNTERFACE'05 the frames of one video — fall on both sides";
  if (modes.includes('random') && modes.includes('subject')) {
    return (
      `Comparable with the paper's 90.75 % / 87 % / 72.39 %: the random-split accuracies, which follow its procedure (${leak}), ${data}. ` +
      'Not comparable: the subject-independent accuracies, which measure recognition of people the model never saw, a harder question the paper did not ask. ' +
      'Their difference, below, is how much the leak inflates accuracy on these images.'
    );
  }
  if (modes.includes('random'))
    return `These random-split accuracies follow the paper's procedure (${leak}) and are comparable with its 90.75 % / 87 % / 72.39 % in protocol, ${data}.`;
  return (
    "None of these accuracies is comparable with the paper's 90.75 % / 87 % / 72.39 % in protocol: the paper split frames at random, so one person's frames were on both sides, " +
    'while here no person is. Ours answer the harder question; --splits subject,random measures the difference on the same data.'
  );
}

async function comparison(results: ExperimentResults): Promise<Section> {
  const parts = splitParts(results);
  const sizes = results.sizes.map((r) => sizeLabel(r.size));
  const series = [...parts.map((p) => `${p.split} split`), 'paper'];
  const points: IntervalPoint[] = parts.flatMap((part) =>
    part.sizes.map((r) => {
      const ci = accuracyInterval(r.metrics);
      return { x: sizeLabel(r.size), series: `${part.split} split`, value: r.metrics.accuracy, lower: ci.lower, upper: ci.upper };
    }),
  );
  for (const r of results.sizes) {
    const p = paperForSize(r.size);
    if (p) points.push({ x: sizeLabel(r.size), series: 'paper', value: p.testAccuracy.value / 100 });
  }
  const chart = await renderSvg(intervalSpec('Test accuracy with 95 % intervals, beside the paper', points, sizes, series, 'input size'));
  return {
    id: 'comparison',
    title: 'Comparison with the paper',
    blocks: [
      paragraph(`Split used here: ${splitDescription(results)} The paper's split: ${PAPER_SPLIT}.`),
      paragraph(paperComparability(results)),
      paragraph(
        'Test figures are those of the model training kept: the epoch with the best validation accuracy. ' +
          'The paper does not say which epoch it tested; its train accuracies are quoted from Section 2. ' +
          'Intervals are 95 % Wilson score intervals over the test images; they treat images as independent, and frames of one person are not, so they understate the uncertainty somewhat.',
      ),
      ...parts.map((part, i) => tableBlock(comparisonTable(results, part, i === 0))),
      {
        kind: 'figure',
        figure: {
          id: 'accuracy-intervals',
          caption: "Test accuracy per input size with 95 % Wilson intervals (error bars), and the paper's values",
          svg: chart,
        },
      },
    ],
  };
}

/** Per-fold accuracies of every size, with mean ± sd (only for --folds). */
async function crossValidation(results: ExperimentResults): Promise<Section | undefined> {
  const k = results.settings.folds;
  if (!k) return undefined;
  const blocks: Block[] = [
    paragraph(
      `Every size was trained ${k} times, each time testing on one fold and training on the others; the same folds and seed for every size. ` +
        'The standard deviation is over folds (sample sd); the pooled accuracy counts every image once.',
    ),
  ];
  for (const part of splitParts(results)) {
    const folds = Array.from({ length: k }, (_, i) => i + 1);
    const rows: Cell[][] = folds.map((fold) => [
      num(fold, String),
      ...part.sizes.flatMap((r) => {
        const f = r.folds?.find((x) => x.fold === fold);
        if (!f) return [NONE, NONE];
        const ci = accuracyInterval(f.metrics);
        return [{ text: formatWithInterval(f.metrics.accuracy, ci), value: f.metrics.accuracy }, num(f.metrics.n, integer)];
      }),
    ]);
    rows.push([
      text('mean ± sd'),
      ...part.sizes.flatMap((r) => {
        const f = foldSummary(r);
        return [f ? { text: formatMeanSd(f), value: f.mean } : NONE, NONE];
      }),
    ]);
    rows.push([text('pooled'), ...part.sizes.flatMap((r) => [accuracyCell(r), num(r.metrics.n, integer)])]);
    blocks.push(
      tableBlock({
        id: `folds-${part.split}`,
        caption: `${part.split} split: test accuracy per fold (95 % Wilson interval), mean ± sd over folds, and all folds pooled`,
        columns: ['Fold', ...part.sizes.flatMap((r) => [`${sizeLabel(r.size)} accuracy`, `${sizeLabel(r.size)} images`])],
        rows,
      }),
    );
    const points: IntervalPoint[] = part.sizes.flatMap((r) =>
      (r.folds ?? []).map((f) => {
        const ci = accuracyInterval(f.metrics);
        return { x: String(f.fold), series: sizeLabel(r.size), value: f.metrics.accuracy, lower: ci.lower, upper: ci.upper };
      }),
    );
    const svg = await renderSvg(
      intervalSpec(
        `${part.split} split: test accuracy per fold with 95 % intervals`,
        points,
        folds.map(String),
        part.sizes.map((r) => sizeLabel(r.size)),
        'fold',
      ),
    );
    blocks.push({
      kind: 'figure',
      figure: { id: `folds-${part.split}`, caption: `${part.split} split: test accuracy of each fold with its 95 % Wilson interval, per input size`, svg },
    });
  }
  return { id: 'cross-validation', title: `Cross-validation — ${k} folds`, blocks };
}

/** The random split against the subject-independent one, size by size (only for --splits with both). */
async function splitComparison(results: ExperimentResults): Promise<Section | undefined> {
  const parts = splitParts(results);
  const subject = parts.find((p) => p.split === 'subject');
  const random = parts.find((p) => p.split === 'random');
  if (!subject || !random) return undefined;
  const rows: Cell[][] = [];
  const sentences: string[] = [];
  for (const r of random.sizes) {
    const s = subject.sizes.find((x) => x.size === r.size);
    if (!s) continue;
    const d = splitDifference(r, s);
    rows.push([
      text(sizeLabel(r.size)),
      accuracyCell(r),
      accuracyCell(s),
      { text: formatDifference(d.difference), value: d.difference.difference },
      d.paired ? { text: `${d.paired.b} / ${d.paired.c}`, value: d.paired.b - d.paired.c } : NONE,
      d.paired ? num(d.paired.p, formatP) : NONE,
    ]);
    const sig = d.paired
      ? d.paired.p < 0.05
        ? `significant at 5 % (exact McNemar, ${pStatement(d.paired.p)})`
        : `not significant at 5 % (exact McNemar, ${pStatement(d.paired.p)})`
      : d.difference.lower > 0 || d.difference.upper < 0
        ? 'its interval excludes 0'
        : 'its interval includes 0';
    sentences.push(`at ${sizeLabel(r.size)} the random split scores ${formatDifference(d.difference)} against the subject-independent one, ${sig}`);
  }
  const paired = rows.some((row) => row[4] !== NONE);
  return {
    id: 'split-comparison',
    title: 'Random split against subject-independent split',
    blocks: [
      paragraph(
        "The paper's open question: how much does splitting frames at random, so that one person's frames are on both sides, inflate accuracy? " +
          'Both splits here use the same images, classes, recipe and seed. ' +
          (sentences.length ? `In this run ${sentences.join('; ')}.` : ''),
      ),
      paragraph(
        "Difference: random minus subject-independent accuracy in percentage points, with Newcombe's hybrid score interval (which treats the two test sets as independent; " +
          (paired ? 'here both cover every image, so it is conservative' : 'they are different images here') +
          ').' +
          (paired
            ? ' b / c: images only the random-split model / only the subject-split model got right; the exact McNemar test asks whether b and c differ by more than chance.'
            : ''),
      ),
      tableBlock({
        id: 'split-comparison',
        caption: 'Test accuracy per input size: random split, subject-independent split, and their difference (95 % intervals)',
        columns: ['Input size', 'Random split', 'Subject split', 'Difference', 'b / c', 'McNemar p'],
        rows,
      }),
    ],
  };
}

function table1(results: ExperimentResults): Section {
  const classes = Object.keys(results.counts);
  const paper = PAPER_TABLE1.value;
  const rows = classes.map((c) => {
    const n = results.counts[c]!;
    const total = SPLITS.reduce((a, s) => a + (n[s] ?? 0), 0);
    return [text(c), ...SPLITS.map((s) => maybe(n[s], integer)), num(total, integer), ...SPLITS.map((s) => maybe(paper[c]?.[s], integer))];
  });
  const sum = (s: (typeof SPLITS)[number]) => classes.reduce((a, c) => a + (results.counts[c]![s] ?? 0), 0);
  const paperSum = (s: (typeof SPLITS)[number]) => Object.values(paper).reduce((a, n) => a + n[s], 0);
  rows.push([
    text('total'),
    ...SPLITS.map((s) => num(sum(s), integer)),
    num(
      SPLITS.reduce((a, s) => a + sum(s), 0),
      integer,
    ),
    ...SPLITS.map((s) => num(paperSum(s), integer)),
  ]);
  return {
    id: 'table1',
    title: 'Table 1 — images per class and split',
    blocks: [
      tableBlock({
        id: 'table1-counts',
        caption: `Images per class and split (this run${results.settings.folds ? `, fold 1 of ${results.settings.folds}` : ''}${results.otherSplits ? `, ${results.settings.split} split` : ''} beside the paper's ${PAPER_TABLE1.source})`,
        columns: ['Class', 'Train', 'Validation', 'Test', 'Total', 'Paper train', 'Paper validation', 'Paper test'],
        rows,
      }),
    ],
  };
}

function fig4(results: ExperimentResults): Section {
  const rows: Cell[][] = [];
  for (const r of results.sizes) {
    const { mean, std } = r.metadata.normalisation;
    mean.forEach((m, i) => {
      const channel = mean.length === 1 ? 'gray' : (['R', 'G', 'B'][i] ?? String(i));
      rows.push([
        text(sizeLabel(r.size)),
        text(channel),
        num(m, (x) => x.toFixed(4)),
        num(std[i]!, (x) => x.toFixed(4)),
        num(PAPER_FIG4.value.mean[Math.min(i, 2)]!, (x) => x.toFixed(4)),
        num(PAPER_FIG4.value.std[Math.min(i, 2)]!, (x) => x.toFixed(4)),
      ]);
    });
  }
  return {
    id: 'fig4',
    title: 'Fig. 4 — per-channel mean and standard deviation',
    blocks: [
      paragraph(
        `Computed on the training images${results.settings.folds ? ' of fold 1' : ''} after resizing, on 0–1 pixels, and used to normalise the network input. ` +
          "The paper's values (Fig. 4) are for its 416×416 eNTERFACE'05 frames; its three channels are equal because the images are monochrome.",
      ),
      tableBlock({
        id: 'fig4-normalisation',
        caption: 'Per-channel mean and standard deviation of the training split',
        columns: ['Input size', 'Channel', 'Mean', 'Std', 'Paper mean', 'Paper std'],
        rows,
      }),
    ],
  };
}

function fig3(results: ExperimentResults): Section {
  const classes = results.sizes[0]?.metadata.classes.length ?? 0;
  const channels = results.settings.channels;
  const blocks: Block[] = [
    paragraph(
      `The paper's parameter counts are for 6 classes and 3 input channels; this run has ${classes} classes and ${channels} channel${channels === 1 ? '' : 's'}` +
        (classes === 6 && channels === 3 ? ', so the counts should match exactly.' : ', so the first convolution and last dense layer differ.'),
    ),
    tableBlock({
      id: 'fig3-parameters',
      caption: 'Parameters per input size (paper: Figs. 3.1–3.3)',
      columns: ['Input size', 'Total parameters', 'Trainable', 'Paper total', 'Paper figure'],
      rows: results.sizes.map((r) => {
        const p = paperForSize(r.size);
        return [
          text(sizeLabel(r.size)),
          num(r.summary.total, integer),
          num(r.summary.trainable, integer),
          p ? num(p.params.value, integer) : NONE,
          text(p?.summaryFigure ?? '—'),
        ];
      }),
    }),
  ];
  for (const r of results.sizes) {
    blocks.push({ kind: 'preformatted', text: formatSummary(r.summary, `Model: "${r.summary.model ?? 'paper_cnn'}" (${sizeLabel(r.size)})`) });
  }
  return { id: 'fig3', title: 'Figs. 3.1–3.3 — model summary per size', blocks };
}

async function table2(results: ExperimentResults): Promise<Section> {
  const processor = results.machine.processor;
  const anyGpu = results.sizes.some((r) => isGpuBackend(r.metadata.training.backend));
  const rows = results.sizes.map((r) => {
    const p = paperForSize(r.size);
    const backend = r.metadata.training.backend;
    const mean = meanEpochSeconds(r);
    const gpu = isGpuBackend(backend);
    const epochs = histories(r).flatMap((h) => h.epochs);
    const msPerStep = epochs.reduce((a, e) => a + e.msPerStep, 0) / Math.max(1, epochs.length);
    const total = totalTrainingSeconds(r);
    return [
      text(sizeLabel(r.size)),
      text(backend),
      gpu ? NONE : num(mean, seconds),
      ...(anyGpu ? [gpu ? num(mean, seconds) : NONE] : []),
      num(msPerStep, (x) => x.toFixed(1)),
      num(epochs.length, integer),
      num(total, duration),
      p ? num(p.secondsPerEpoch.value.cpu, String) : NONE,
      p ? num(p.secondsPerEpoch.value.gpu, String) : NONE,
      p ? num(p.totalMinutes.value * 60, duration) : NONE,
    ];
  });
  const machine = `this machine: ${processor}`;
  const sources = [...new Set(results.sizes.map((r) => `this machine (${r.metadata.training.backend})`)), 'paper CPU', 'paper GPU (K80)'];
  const sizes = results.sizes.map((r) => sizeLabel(r.size));
  const bars: EpochTimeBar[] = results.sizes.flatMap((r) => {
    const p = paperForSize(r.size);
    const own = { size: sizeLabel(r.size), source: `this machine (${r.metadata.training.backend})`, seconds: meanEpochSeconds(r) };
    if (!p) return [own];
    return [
      own,
      { size: sizeLabel(r.size), source: 'paper CPU', seconds: p.secondsPerEpoch.value.cpu },
      { size: sizeLabel(r.size), source: 'paper GPU (K80)', seconds: p.secondsPerEpoch.value.gpu },
    ];
  });
  const chart = await renderSvg(epochTimeSpec('Seconds per epoch: this machine and the paper (Table 2)', bars, sources, sizes));
  return {
    id: 'table2',
    title: 'Table 2 — seconds per epoch',
    blocks: [
      paragraph(
        `Training pass only (validation excluded), mean over epochs, measured on ${processor} (${results.machine.cores} cores) ` +
          `with the ${[...new Set(results.sizes.map((r) => r.metadata.training.backend))].join('/')} backend. ` +
          `The paper's times are per epoch of its ${integer(Object.values(PAPER_TABLE1.value).reduce((a, n) => a + n.train, 0))} training images on Google Colab; ` +
          'times scale with the number of training images, so compare per-image cost, not raw seconds, across datasets.',
      ),
      tableBlock({
        id: 'table2-epoch-seconds',
        caption: `Seconds per epoch per input size (${machine}; paper: Table 2, total time: Section 2)`,
        columns: [
          'Input size',
          'Backend',
          'CPU s/epoch (this machine)',
          ...(anyGpu ? ['GPU s/epoch (this machine)'] : []),
          'ms per step',
          results.settings.folds ? 'Epochs (all folds)' : 'Epochs',
          results.settings.folds ? 'Total training time (all folds)' : 'Total training time',
          'Paper CPU s/epoch',
          'Paper GPU s/epoch',
          'Paper total time',
        ],
        rows,
      }),
      { kind: 'figure', figure: { id: 'epoch-seconds', caption: 'Seconds per epoch, this machine beside the paper (Table 2)', svg: chart } },
    ],
  };
}

async function curves(results: ExperimentResults): Promise<Section> {
  const blocks: Block[] = [];
  for (const r of results.sizes) {
    const p = paperForSize(r.size);
    const caption =
      `${sizeLabel(r.size)}: training and validation accuracy and loss per epoch${r.folds ? ' (fold 1; every fold is in tables/history.csv)' : ''}` +
      (p ? ` (paper: ${p.curvesFigure})` : ' (no counterpart in the paper)');
    blocks.push({ kind: 'figure', figure: { id: `curves-${r.size}`, caption, svg: await renderSvg(curvesSpec(caption, r.history)) } });
  }
  const historyRows = results.sizes.flatMap((r) =>
    (r.folds ?? [{ fold: 0, history: r.history }]).flatMap(({ fold, history }) =>
      history.epochs.map((e) => [
        num(r.size, String),
        ...(results.settings.folds ? [num(fold, String)] : []),
        num(e.epoch, String),
        num(e.loss, ratio),
        num(e.acc, ratio),
        num(e.valLoss, ratio),
        num(e.valAcc, ratio),
        num(e.seconds, seconds),
        num(e.msPerStep, (x) => x.toFixed(1)),
      ]),
    ),
  );
  blocks.push(
    tableBlock({
      id: 'history',
      caption: 'Per-epoch history of every size',
      columns: ['size', ...(results.settings.folds ? ['fold'] : []), 'epoch', 'loss', 'acc', 'val_loss', 'val_acc', 'seconds', 'ms_per_step'],
      rows: historyRows,
      csvOnly: true,
    }),
  );
  return { id: 'curves', title: 'Figs. 5, 7, 9 — accuracy and loss per epoch', blocks };
}

/** How the test images of a part are named in captions: the test split, or the folds pooled; with the split mode when there are several. */
function testName(results: ExperimentResults, part: SplitResults): string {
  const k = results.settings.folds;
  const which = k ? `the ${k} folds' test images pooled` : 'the test split';
  return results.otherSplits ? `${part.split} split, ${which}` : which;
}

/** File ids: the first split's as before (confusion-50), a further split's prefixed (random-confusion-50). */
const partId = (results: ExperimentResults, part: SplitResults, id: string) => (part.split === results.settings.split ? id : `${part.split}-${id}`);

async function confusion(results: ExperimentResults): Promise<Section> {
  const blocks: Block[] = [];
  for (const part of splitParts(results))
    for (const r of part.sizes) {
      const p = paperForSize(r.size);
      const ref = p ? ` (paper: ${p.confusionFigure})` : '';
      const { classes, confusion: m } = r.metrics;
      const where = testName(results, part);
      for (const normalised of [false, true]) {
        const kind = normalised ? 'row-normalised (recall on the diagonal)' : 'counts';
        const caption = `${sizeLabel(r.size)}: confusion matrix on ${where}, ${kind}${ref}`;
        const title = `${sizeLabel(r.size)}${results.otherSplits ? ` ${part.split} split` : ''}${results.settings.folds ? ', folds pooled' : ' test split'}: ${normalised ? 'row-normalised' : 'counts'}`;
        blocks.push({
          kind: 'figure',
          figure: {
            id: partId(results, part, `confusion-${r.size}-${normalised ? 'normalised' : 'counts'}`),
            caption,
            svg: await renderSvg(confusionSpec(title, classes, m, normalised)),
          },
        });
      }
      blocks.push(
        tableBlock({
          id: partId(results, part, `confusion-${r.size}`),
          caption: `${sizeLabel(r.size)}: confusion matrix on ${where} (rows true, columns predicted)`,
          columns: ['true \\ predicted', ...classes],
          rows: m.map((row, t) => [text(classes[t]!), ...row.map((n) => num(n, integer))]),
          csvOnly: true,
        }),
      );
    }
  return {
    id: 'confusion',
    title: 'Figs. 6, 8, 10 — confusion matrices',
    blocks: [
      paragraph(
        `Rows are the true class, columns the predicted class; ${results.settings.folds ? `every image once, from the fold that tested it (${results.settings.folds} folds pooled)` : 'the test split of each size'}.`,
      ),
      ...blocks,
    ],
  };
}

function perClass(results: ExperimentResults): Section {
  const blocks: Block[] = [
    paragraph(
      "The paper gives precision and recall for 50×50 (Table 3) and 20×20 (Table 4); '—' marks values it does not give. " +
        'Precision and recall carry 95 % Wilson intervals: precision over the images predicted as the class, recall over the images of the class.',
    ),
  ];
  for (const part of splitParts(results))
    for (const r of part.sizes) {
      const p = paperForSize(r.size)?.perClass;
      const ci = metricIntervals(r.metrics);
      const rows = r.metrics.perClass.map((c, i) => [
        text(c.class),
        { text: formatWithInterval(c.precision, ci.perClass[i]!.precision), value: c.precision },
        { text: formatWithInterval(c.recall, ci.perClass[i]!.recall), value: c.recall },
        num(c.f1, ratio),
        num(c.support, integer),
        maybe(p?.value[c.class]?.precision, (x) => x.toFixed(2)),
        maybe(p?.value[c.class]?.recall, (x) => x.toFixed(2)),
      ]);
      const avg = (name: string, a: { precision: number; recall: number; f1: number }) => [
        text(name),
        num(a.precision, ratio),
        num(a.recall, ratio),
        num(a.f1, ratio),
        num(r.metrics.n, integer),
        NONE,
        NONE,
      ];
      rows.push(avg('macro average', r.metrics.macro), avg('weighted average', r.metrics.weighted));
      blocks.push(
        tableBlock({
          id: partId(results, part, `metrics-${r.size}`),
          caption: `${sizeLabel(r.size)}: precision, recall, F1 and support per class on ${testName(results, part)}${p ? ` (paper: ${p.source})` : ''}`,
          columns: ['Class', 'Precision (95 % CI)', 'Recall (95 % CI)', 'F1', 'Support', 'Paper precision', 'Paper recall'],
          rows,
        }),
      );
    }
  return { id: 'per-class', title: 'Tables 3 and 4 — precision and recall per class', blocks };
}

/** Builds the whole report (renders every chart to SVG). */
export async function buildReportDocument(results: ExperimentResults): Promise<ReportDocument> {
  if (results.sizes.length === 0) throw new Error('the experiment has no finished size to report');
  return {
    title: `visemo experiment — ${results.dataset} at ${results.sizes.map((r) => sizeLabel(r.size)).join(', ')}`,
    sections: [
      overview(results),
      await comparison(results),
      ...[await crossValidation(results), await splitComparison(results)].filter((x): x is Section => x !== undefined),
      table1(results),
      fig4(results),
      fig3(results),
      await table2(results),
      await curves(results),
      await confusion(results),
      perClass(results),
    ],
  };
}
